"""The SITL launcher: the command line it builds and its process handling, with a fake binary."""

from __future__ import annotations

import json
import os
import time

import pytest

from sim.sitl import SitlFleet

FAKE = """#!/usr/bin/env python3
import json, os, signal, sys, time
json.dump({"argv": sys.argv[1:], "cwd": os.getcwd()}, open("argv.json", "w"))
signal.signal(signal.SIGTERM, lambda *a: (open("terminated", "w").close(), sys.exit(0)))
time.sleep(float(os.environ.get("FAKE_SITL_LIFETIME", "60")))
"""


@pytest.fixture
def fake_sitl(tmp_path):
    path = tmp_path / "arducopter"
    path.write_text(FAKE)
    path.chmod(0o755)
    return path


def wait_file(path, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)
    time.sleep(0.05)


def test_command_line_per_instance(fake_sitl, tmp_path):
    parm = tmp_path / "copter.parm"
    parm.write_text("FS_GCS_ENABLE 1\n")
    fleet = SitlFleet(fake_sitl, count=2, home=(27.57, 119.71, 200, 0), speedup=5,
                      work_dir=tmp_path / "run", defaults=parm, wipe=True)  # fmt: skip
    argv = fleet.instances[1].argv
    assert argv[0] == str(fake_sitl)
    assert argv[1:] == [
        "--model", "+", "--speedup", "5", "--home", "27.5700000,119.7100000,200,0",
        "--instance", "1", "--sysid", "2", "--defaults", str(parm), "-w",
    ]  # fmt: skip
    assert fleet.instances[1].port == 5770 and fleet.instances[1].ports == (5770, 5772, 5773)


def test_non_default_base_port_is_passed_before_instance(fake_sitl, tmp_path):
    fleet = SitlFleet(fake_sitl, count=2, base_port=6000, work_dir=tmp_path)
    argv = fleet.instances[1].argv
    assert argv.index("--base-port") < argv.index("--instance")
    assert argv[argv.index("--base-port") + 1] == "6010"


def test_start_time_is_passed_as_unix_seconds(fake_sitl, tmp_path):
    fleet = SitlFleet(fake_sitl, work_dir=tmp_path, start_time=1_782_910_800.7)
    argv = fleet.instances[0].argv
    assert argv[argv.index("--start-time") + 1] == "1782910800"
    assert "--start-time" not in SitlFleet(fake_sitl, work_dir=tmp_path).instances[0].argv


def test_processes_run_in_their_own_directories_and_stop(fake_sitl, tmp_path):
    fleet = SitlFleet(fake_sitl, count=2, work_dir=tmp_path / "run").start()
    try:
        for inst in fleet.instances:
            wait_file(inst.workdir / "argv.json")
            recorded = json.loads((inst.workdir / "argv.json").read_text())
            assert recorded["cwd"] == str(inst.workdir.resolve())
            assert recorded["argv"] == inst.argv[1:]
        assert fleet.poll() == [None, None]
    finally:
        fleet.stop()
    assert all(code is not None for code in fleet.poll())
    assert all((i.workdir / "terminated").exists() for i in fleet.instances)


def test_early_exit_is_visible(fake_sitl, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_SITL_LIFETIME", "0")
    fleet = SitlFleet(fake_sitl, count=1, work_dir=tmp_path).start()
    deadline = time.monotonic() + 5
    while fleet.poll() == [None] and time.monotonic() < deadline:
        time.sleep(0.02)
    fleet.stop()
    assert fleet.poll() == [0]


def test_missing_or_not_executable_binary(tmp_path):
    with pytest.raises(FileNotFoundError, match="SITL binary not found"):
        SitlFleet(tmp_path / "nope")
    script = tmp_path / "arducopter"
    script.write_text("#!/bin/sh\n")
    os.chmod(script, 0o644)
    with pytest.raises(PermissionError, match="not executable"):
        SitlFleet(script)
    script.chmod(0o755)
    with pytest.raises(FileNotFoundError, match="defaults file not found"):
        SitlFleet(script, defaults=tmp_path / "missing.parm")
