"""``patrol sim`` on the command line."""

from __future__ import annotations

import json

import pytest

from patrol.cli import main


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PATROL_DATA_DIR", str(tmp_path))
    return tmp_path


def test_runs_a_fleet_and_prints_its_ports(capsys, data_dir):
    code = main(["sim", "--count", "2", "--port", "0", "--speedup", "10", "--duration", "0.3",
                 "--packet-loss", "5", "--outage", "10:20", "--wind", "6,270"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "vehicle 0 sysid 1: tcp:127.0.0.1:" in out and "vehicle 1 sysid 2:" in out
    saved = json.loads((data_dir / "sim" / "instance-1" / "params.json").read_text())
    assert saved["params"]["SIM_WIND_SPD"] == 6 and saved["params"]["SIM_WIND_DIR"] == 270


@pytest.mark.parametrize(
    "extra",
    [
        {"missions": "x"},
        {"missions": {"0": [{"a": 1}]}},
        {"missions": {"7": []}},
        {"signing_key": "zz"},
        {"signing_timestamp": "x"},
        {"signing_timestamp": 2**70},
    ],
)
def test_a_damaged_state_file_starts_the_copter_wiped_with_a_warning(capsys, data_dir, extra):
    state = data_dir / "sim" / "instance-0" / "params.json"
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"params": {"RTL_ALT": 900}, "extra": extra}))
    code = main(["sim", "--port", "0", "--speedup", "10", "--duration", "0.2"])
    captured = capsys.readouterr()
    assert code == 0 and "vehicle 0 sysid 1:" in captured.out
    (warning,) = captured.err.splitlines()
    assert warning.startswith(f"patrol sim: warning: {state}: damaged state (extra.")
    assert "starts wiped" in warning
    saved = json.loads(state.read_text()) if state.exists() else {"params": {}}
    assert "RTL_ALT" not in saved["params"]  # wiped: the damaged file's values are gone
    assert (state.parent / "params.json.damaged").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--home", "1,2"], "--home must be LAT,LON,ALT[,HDG]"),
        (["--home", "a,b,c"], "--home must be numbers"),
        (["--home", "95,0,0"], "out of range"),
        (["--count", "0"], "--count must be at least 1"),
        (["--speedup", "0"], "--speedup must be positive"),
        (["--outage", "20:10"], "--outage end must be after start"),
        (["--outage", "x"], "--outage must be START:END"),
        (["--packet-loss", "120"], "--packet-loss must be 0..100"),
        (["--wind", "fast"], "--wind must be SPEED,FROM_DEG"),
        (["--wind", "80,0"], "--wind speed must be 0..50"),
        (["--sitl", "/no/such/arducopter"], "SITL binary not found"),
        (["--start-time", "9am"], "--start-time '9am' is not an ISO date-time"),
        (["--start-time", "2026-07-01T09:00"], "needs a UTC offset"),
    ],
)
def test_bad_options_are_clear_errors(args, message, capsys):
    assert main(["sim", "--port", "0", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("patrol sim: ") and message in err


def test_port_in_use(capsys):
    import socket

    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    try:
        assert main(["sim", "--port", str(blocker.getsockname()[1]), "--duration", "0.1"]) == 2
    finally:
        blocker.close()
    assert "cannot listen on" in capsys.readouterr().err


def test_sitl_mode_launches_the_binary(tmp_path, capsys):
    fake = tmp_path / "arducopter"
    fake.write_text('#!/bin/sh\necho "$@" > args.txt\nsleep 30\n')
    fake.chmod(0o755)
    code = main(["sim", "--sitl", str(fake), "--count", "1", "--speedup", "3", "--duration", "0.5"])
    assert code == 0
    args = (tmp_path / "sim" / "sitl" / "instance-0" / "args.txt").read_text().split()
    assert args[:4] == ["--model", "+", "--speedup", "3"]
    assert "SITL 0 sysid 1: tcp:127.0.0.1:5760" in capsys.readouterr().out
