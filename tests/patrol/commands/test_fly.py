"""``patrol fly`` / ``resume`` / ``status`` from the command line, including a controller killed
mid-flight and restarted."""

import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from missions.formats import write_mission
from patrol.cli import main
from patrol.store.patrols import PatrolStore
from sim import SimFleet
from tests.patrol.simkit import HOME, square_plan, wait_until

PATROL = str(Path(sys.executable).parent / "patrol")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    monkeypatch.setenv("PATROL_DATA_DIR", str(path))
    return path


def test_operator_errors_are_one_clear_line(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    plan = tmp_path / "a.plan"
    write_mission(plan, square_plan())
    shared = ["--connect", "udpin:0.0.0.0:14550@1", "--connect", "udpin:0.0.0.0:14550@2"]
    cases = [
        (["fly", str(tmp_path / "none.plan"), "--connect", "tcp:127.0.0.1:5760"], "no such file"),
        (["fly", str(plan), "--connect", "tcp:x"], "expected tcp:HOST:PORT"),
        (["fly", str(plan), str(plan), "--connect", "tcp:127.0.0.1:1"], "2 plan(s) but 1"),
        (["fly", str(plan), "--connect", "tcp:127.0.0.1:1", "--require-signing"], "needs"),
        (["fly", str(plan), "--connect", "tcp:127.0.0.1:1", "--speedup", "0"], "positive"),
        (
            ["fly", str(plan), str(plan), *["--connect", "udpin:0.0.0.0:14550@2"] * 2],
            "vehicle 2 on udpin:0.0.0.0:14550 is given twice",
        ),
        (
            ["fly", str(plan), str(plan), *shared, "--signing-key", "one", "--signing-key", "two"],
            "share one link, which signs with one key",
        ),
        (["resume", "42"], "no patrol 42"),
        (["status", "42"], "no patrol 42"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith(f"patrol {argv[0]}: ") and message in err, err
        assert err.count("\n") == 1 + ("--signing-key" in argv), err  # one line (+ a warning)
        assert "Traceback" not in err
    bad = tmp_path / "bad.waypoints"
    bad.write_text("QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\tnorth\t119.71\t200\t1\n")
    assert main(["fly", str(bad), "--connect", "tcp:127.0.0.1:1"]) == 2
    assert "bad.waypoints" in capsys.readouterr().err
    profile = tmp_path / "site.toml"
    profile.write_text("[checks]\nmax_hdp = 1\n")
    argv = ["fly", str(plan), "--connect", "tcp:127.0.0.1:1", "--profile", str(profile)]
    assert main(argv) == 2
    assert "unknown check 'max_hdp'" in capsys.readouterr().err


def test_no_vehicle_fails_the_sortie_clearly(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    plan = tmp_path / "a.plan"
    write_mission(plan, square_plan())
    db = f"sqlite:///{tmp_path / 'other.db'}"
    argv = ["fly", str(plan), "--connect", "tcp:127.0.0.1:9", "--wait", "0.3", "--db", db]
    assert main(argv) == 4
    out = capsys.readouterr().out
    assert "no vehicle heard on tcp:127.0.0.1:9 in 0.3 s" in out
    assert main(["status", "--db", db]) == 0
    assert "failed" in capsys.readouterr().out
    assert main(["status", "1", "--db", db]) == 0
    shown = capsys.readouterr().out
    assert "sortie 1 vehicle None via tcp:127.0.0.1:9: failed" in shown
    assert "error      no vehicle heard" in shown
    assert main(["status"]) == 0  # the default store in the data directory is untouched
    assert "no patrols yet" in capsys.readouterr().out


def test_outcome_lines_name_the_sortie_when_there_are_several(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    plan = tmp_path / "a.plan"
    write_mission(plan, square_plan())
    argv = ["fly", str(plan), str(plan), "--connect", "tcp:127.0.0.1:9", "--connect",
            "tcp:127.0.0.1:11", "--wait", "0.3"]  # fmt: skip
    assert main(argv) == 4
    outcomes = [line for line in capsys.readouterr().out.splitlines() if ": failed: " in line]
    assert [line.split(" (")[0] for line in outcomes] == [
        "patrol 1 sortie 1: failed: no vehicle heard on tcp:127.0.0.1:9 in 0.3 s",
        "patrol 1 sortie 2: failed: no vehicle heard on tcp:127.0.0.1:11 in 0.3 s",
    ]
    assert main(["fly", str(plan), "--connect", "tcp:127.0.0.1:9", "--wait", "0.3"]) == 4
    assert "\npatrol 2: failed: no vehicle heard" in capsys.readouterr().out


def test_controller_killed_mid_flight_reattaches_and_completes(
    tmp_path: Path, data_dir: Path
) -> None:
    # The restart takes a second or more, several on a busy machine: the ground-link failsafe
    # (FS_GCS_TIMEOUT at its maximum, 120 s) must not end the flight before it, so 12 s of wall
    # time at this speedup.
    speedup = 10.0
    plan = tmp_path / "square.plan"
    write_mission(plan, square_plan(150))
    profile = tmp_path / "site.toml"
    profile.write_text("[params]\nFS_GCS_TIMEOUT = 120\n")
    env = {**os.environ, "PATROL_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    common = ["--speedup", str(speedup), "--profile", str(profile)]
    with SimFleet(count=1, home=HOME, speedup=speedup, base_port=0, state_dir=tmp_path) as fleet:
        sim = fleet.vehicles[0]
        url = f"tcp:127.0.0.1:{sim.port}"
        store = PatrolStore(url=f"sqlite:///{data_dir / 'gridpatrol.db'}")
        first = subprocess.Popen(
            [PATROL, "fly", str(plan), "--connect", url, *common],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            wait_until(lambda: 3 in store.reached_seqs(1), timeout=60, poll=0.05)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        assert sim.armed and sim.mode == 3  # flying AUTO with no controller
        killed_at = time.monotonic()
        stored = store.get_patrol(1).sorties[0].distance_m
        assert stored > 50  # saved while flying, not only at the end
        second = subprocess.run(
            [PATROL, "resume", "1", *common], env=env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert not sim.armed
    out = second.stdout + second.stderr
    assert second.returncode == 0, out
    assert "re-attached to vehicle 1 (mode AUTO)" in out
    assert "patrol 1: completed" in out
    sortie = store.get_patrol(1).sorties[0]
    assert sortie.status == "completed"
    assert {3, 4, 5, 6} <= set(store.reached_seqs(sortie.id))
    # the new controller sent no arm or mode command: the aircraft flew on by itself
    details = [e.detail for e in store.events(sortie.id)]
    assert details.count("mission started (AUTO)") == 1
    assert time.monotonic() - killed_at < 60
    # "flown" carries on from what the killed controller stored; it never falls back
    flown = [int(n) for n in re.findall(r"flown (\d+) m", second.stdout)]
    assert flown and flown[0] >= int(stored) and flown == sorted(flown), (stored, flown)
    assert sortie.distance_m > stored


def test_ctrl_c_offers_rtl_and_the_patrol_ends_interrupted(tmp_path: Path, data_dir: Path) -> None:
    import pexpect

    speedup = 20.0
    plan = tmp_path / "square.plan"
    write_mission(plan, square_plan(150))
    profile = tmp_path / "site.toml"
    profile.write_text("[params]\nFS_GCS_TIMEOUT = 20\n")
    env = {**os.environ, "PATROL_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    with SimFleet(count=1, home=HOME, speedup=speedup, base_port=0, state_dir=tmp_path) as fleet:
        sim = fleet.vehicles[0]
        argv = ["fly", str(plan), "--connect", f"tcp:127.0.0.1:{sim.port}", "--speedup",
                str(speedup), "--profile", str(profile)]  # fmt: skip
        # Ctrl-C must reach the controller even when the tests run with SIGINT ignored (as a
        # background job of a script is), which Python would otherwise inherit
        child = pexpect.spawn(
            PATROL, argv, env=env, encoding="utf-8", timeout=60,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )  # fmt: skip
        child.logfile_read = transcript = io.StringIO()
        try:
            child.expect(r"\| AUTO armed \|")
            child.sendintr()
            child.expect(r"\[p\]ause  \[c\]ontinue  \[r\]TL  \[l\]and  \[q\]uit watching")
            child.sendline("r")
            child.expect("rtl requested for every flying sortie")
            child.expect("operator: rtl done")
            child.expect(r"patrol 1: interrupted: operator RTL")
            child.expect(pexpect.EOF)
        except (pexpect.TIMEOUT, pexpect.EOF):
            pytest.fail(f"unexpected output:\n{transcript.getvalue()}")
        finally:
            child.close()
        assert not sim.armed
    assert child.exitstatus == 3


def test_fly_runs_at_the_simulators_speedup_without_being_told(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    # 10 simulated seconds between ground-station heartbeats, were the controller to think the
    # vehicle runs in real time: past ArduCopter's default 5 s GCS failsafe
    speedup = 10.0
    plan = tmp_path / "square.plan"
    write_mission(plan, square_plan(80, legs=2))
    profile = tmp_path / "site.toml"
    profile.write_text("[params]\nFS_GCS_TIMEOUT = 5\n")
    with SimFleet(count=1, home=HOME, speedup=speedup, base_port=0, state_dir=tmp_path) as fleet:
        url = f"tcp:127.0.0.1:{fleet.vehicles[0].port}"
        code = main(["fly", str(plan), "--connect", url, "--profile", str(profile)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "[v1] speed-up 10: vehicle 1 reports SIM_SPEEDUP 10" in out
    # the vehicle's own failsafe never fired (a busy machine may still stall the link briefly)
    assert "patrol 1: completed" in out and "GCS Failsafe" not in out
