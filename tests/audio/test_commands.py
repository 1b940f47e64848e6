"""``patrol audio ...`` and ``patrol broadcast-agent`` as an operator runs them."""

import json
import os
import signal
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from audio.loudness import measure_lufs, peak_dbfs
from audio.wav import read_wav
from patrol.cli import main
from sim import SimFleet
from tests.audio.flight import GroundStation
from tests.audio.media import encode
from tests.audio.plans import bundle, make_messages, offset, rect

ROOT = Path(__file__).resolve().parents[2]
GRIDS = ROOT / "data" / "sample" / "township.geojson"


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PATROL_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_say_writes_a_normalised_wav(tmp_path, capsys):
    out = tmp_path / "notice.wav"
    assert main(["audio", "say", "请注意，明天停水。", "--lang", "cmn", "--rate", "140",
                 "--volume", "0.5", "-o", str(out)]) == 0  # fmt: skip
    samples, rate = read_wav(out)
    assert rate == 48_000
    assert abs(measure_lufs(samples, rate) - (-16 - 6.02)) <= 1.0
    assert peak_dbfs(samples) <= -1.0
    assert "LUFS" in capsys.readouterr().out


def test_say_refuses_bad_settings(capsys):
    assert main(["audio", "say", "你好", "--rate", "20", "--title", "x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("patrol audio: rate 20 wpm is outside 80-450")
    assert main(["audio", "say", "你好"]) == 2


def test_import_list_and_refusal(tmp_path, capsys):
    rec = encode(tmp_path / "wenzhou.webm", "webm", seconds=2.0)
    assert main(["audio", "import", str(rec), "--dialect", "wuu", "--title", "温州话",
                 "--by", "lin"]) == 0  # fmt: skip
    junk = tmp_path / "photo.m4a"
    junk.write_bytes(b"\xff\xd8\xff\xe0 not audio" * 50)
    assert main(["audio", "import", str(junk), "--dialect", "wuu", "--title", "x"]) == 2
    assert "photo.m4a: the file has no audio stream" in capsys.readouterr().err  # a JPEG
    assert main(["audio", "list", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["title"], r["language"], r["source"], r["created_by"]) for r in rows] == [
        ("温州话", "wuu", "recording", "lin")
    ]


def test_plan_from_sample_grids_with_audibility(tmp_path, capsys):
    rec = encode(tmp_path / "r.ogg", "ogg", seconds=2.0)
    assert main(["audio", "import", str(rec), "--dialect", "nan", "--title", "通知"]) == 0
    spec = {
        "quiet_hours": ["21:30-07:00"],
        "zones": [
            {"grid": "上洋村 Shangyang", "messages": ["通知"], "alt_m": 40},
            {"grid": "下洋村 Xiayang", "messages": [1], "count": 2, "alt_m": 200},
        ],
    }
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "plan.zip"
    args = ["audio", "plan", str(spec_path), "--grids", str(GRIDS), "--speaker-spl", "110"]
    assert main([*args, "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "zone '上洋村 Shangyang'" in printed and out.is_file()
    assert "warning: zone '下洋村 Xiayang'" in printed and "TOO HIGH" in printed
    spec["zones"][1]["grid"] = "no such village"
    spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    assert main(args) == 2
    assert "no grid named 'no such village'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--speaker-spl", "1150"], "loudspeaker rating 1150 dB SPL at 1 m is outside 60-160"),
        (["--speaker-spl", "110", "--alt", "4000"], "altitude 4000 m is outside 1-1000 m"),
        (["--speaker-spl", "110", "--min-level", "300"], "level needed on the ground 300 dB"),
    ],
)
def test_plan_refuses_figures_out_of_range(tmp_path, capsys, extra, message):
    spec = tmp_path / "spec.json"
    spec.write_text('{"zones": []}')
    assert main(["audio", "plan", str(spec), *extra]) == 2
    assert message in capsys.readouterr().err


def test_plan_refuses_bad_json(tmp_path, capsys):
    bad = tmp_path / "spec.json"
    bad.write_text("{zones: ")
    assert main(["audio", "plan", str(bad)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_agent_refuses_bad_arguments(tmp_path, capsys):
    assert main(["broadcast-agent", "--connect", "tcp:127.0.0.1:9", "--plan",
                 str(tmp_path / "none.zip")]) == 2  # fmt: skip
    assert "no such plan bundle" in capsys.readouterr().err
    zone = {"name": "A", "geometry": rect(0, 0, 100, 100), "messages": [1]}
    plan = bundle(tmp_path, {"zones": [zone]}, make_messages(tmp_path, {1: 1.0}))
    assert main(["broadcast-agent", "--connect", "tcp:127.0.0.1:9", "--plan", str(plan),
                 "--sink", "speaker"]) == 2  # fmt: skip
    assert "unknown sink 'speaker'" in capsys.readouterr().err


def test_agent_command_on_a_signed_simulated_aircraft(tmp_path, data_dir):
    spec = {"zones": [{"name": "A", "geometry": rect(60, -100, 200, 200), "messages": [1],
                       "gap_s": 0.5}]}  # fmt: skip
    plan = bundle(tmp_path, spec, make_messages(tmp_path, {1: 2.0}))
    heard = tmp_path / "heard"
    key = tmp_path / "aircraft.key"
    key.write_text("companion and ground share this\n")
    key.chmod(0o600)
    # 20x, not faster: the agent runs in its own process and must keep pace on a busy machine.
    gps = datetime.fromisoformat("2026-07-01T10:00+08:00").timestamp()
    with SimFleet(
        count=1, speedup=20.0, base_port=0, state_dir=tmp_path / "sim", start_time=gps,
        signing_key="companion and ground share this",  # SERIAL1 ignores unsigned requests
    ) as fleet:  # fmt: skip
        vehicle = fleet.vehicles[0]
        env = {**os.environ, "PATROL_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
        # no --time-scale: the agent reads the aircraft's SIM_SPEEDUP
        agent = subprocess.Popen(
            [sys.executable, "-m", "patrol.cli", "broadcast-agent", "--connect",
             f"tcp:127.0.0.1:{vehicle.ports[1]}", "--plan", str(plan), "--sink", f"dir:{heard}",
             "--signing-key-file", str(key),
             "--start-time", "2020-01-01T00:00+00:00"],  # a wrong clock
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        banner = []  # wait until the agent runs (signal handlers set) before flying
        while not any(line.startswith("broadcast agent:") for line in banner):
            line = agent.stdout.readline()
            assert line, "the agent exited early:\n" + "".join(banner)
            banner.append(line)
        gcs = GroundStation(fleet, vehicle)
        try:
            gcs.take_off(30)
            gcs.go_to(*offset(320, 0), 30)
        finally:
            gcs.close()
            agent.send_signal(signal.SIGTERM)
            output = "".join(banner) + agent.communicate(timeout=20)[0]
    assert agent.returncode == 0, output
    assert "time scale 20: the aircraft reports SIM_SPEEDUP 20" in output
    log = [json.loads(line) for line in (heard / "plays.jsonl").read_text().splitlines()]
    assert len(log) >= 3 and {r["zone"] for r in log} == {"A"}
    assert sum(r["finished"] for r in log) >= 2
    assert len(list(heard.glob("*.wav"))) == len(log)
    assert log[0]["start"].startswith("2026-07-01T02:")  # the GPS's time, in UTC


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--max-mb", "nan", "argument --max-mb: 'nan' is not a finite number"),
        ("--max-mb", "inf", "argument --max-mb: 'inf' is not a finite number"),
        ("--max-mb", "0", "--max-mb must be over 0"),
        ("--max-mb", "1e9", "--max-mb must be over 0 and at most 500"),
        ("--max-seconds", "nan", "argument --max-seconds: 'nan' is not a finite number"),
        ("--max-seconds", "-5", "--max-seconds must be over 0"),
        ("--target", "nan", "argument --target: 'nan' is not a finite number"),
        ("--target", "-1000", "loudness target -1000 LUFS is outside"),
    ],
)
def test_import_options_out_of_range_are_one_line_refusals(tmp_path, capsys, option, value,
                                                           message):  # fmt: skip
    rec = encode(tmp_path / "a.wav", "wav")
    argv = ["audio", "import", str(rec), "--dialect", "wuu", "--title", "a", f"{option}={value}"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert main(["audio", "list", "--json"]) == 0 and capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deep"),
        ('{"hysteresis_m": ' + "9" * 5000 + "}", "not valid JSON"),
        ("\ufeff" + '{"zones": 3}', "zones must be a list, not 3"),
        ('{"zones": [{"name": "A", "messages": [true], "loop": "false"}]}', "loop must be true"),
    ],
)
def test_plan_specs_that_are_not_plans(tmp_path, capsys, text, message):
    path = tmp_path / "spec.json"
    path.write_text(text, encoding="utf-8")
    assert main(["audio", "plan", str(path)]) == 2
    assert message in capsys.readouterr().err


def _agent_plan(tmp_path) -> Path:
    zone = {"name": "A", "geometry": rect(0, 0, 100, 100), "messages": [1]}
    return bundle(tmp_path, {"zones": [zone]}, make_messages(tmp_path, {1: 1.0}))


def test_agent_checks_its_bundle_before_opening_any_link(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("audio.position.MavlinkPositionSource.__init__",
                        lambda *a, **k: pytest.fail("a link was opened"))  # fmt: skip
    plan = _agent_plan(tmp_path)
    with zipfile.ZipFile(plan, "a") as zf:
        zf.writestr("../escape.wav", b"x")
    assert main(["broadcast-agent", "--connect", "tcp:127.0.0.1:9", "--plan", str(plan)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a broadcast plan bundle (holds '../escape.wav')" in err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--sysid", "0"], "--sysid must be a MAVLink system id, 1..255, not 0"),
        (["--sysid", str(2**64)], "argument --sysid: 18446744073709551616 is out of range"),
        (["--wait", "-1"], "--wait must be 0..3600 seconds, not -1"),
        (["--duration", "0"], "--duration must be over 0"),
        (["--duration", "1e308"], "--duration must be over 0 and at most"),
        (["--time-scale", "1e308"], "--time-scale must be over 0 and at most 1000"),
        (["--connect", "tcp:x"], "cannot open MAVLink connection 'tcp:x': TCP ports must be"),
        (["--connect", "udpin:0.0.0.0:99999"], "cannot open MAVLink connection 'udpin:0.0.0.0"),
        (["--sink", "dir:{f}/sink"], "cannot use it: Not a directory"),
        (["--log", "{f}/plays.jsonl"], "cannot write there"),
    ],
)
def test_agent_options_out_of_range_are_one_line_refusals(tmp_path, capsys, options, message):
    (tmp_path / "f").write_text("a file")
    options = [o.replace("{f}", str(tmp_path / "f")) for o in options]
    argv = ["broadcast-agent", "--connect", "udpin:127.0.0.1:0", "--plan",
            str(_agent_plan(tmp_path)), "--wait", "0", "--duration", "0.1", *options]  # fmt: skip
    argv += ["--connect", options[-1]] if options[0] == "--connect" else []
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_agent_runs_its_plan_on_a_quiet_link(tmp_path, capsys):
    argv = ["broadcast-agent", "--connect", "udpin:127.0.0.1:0", "--plan",
            str(_agent_plan(tmp_path)), "--wait", "0", "--duration", "0.2"]  # fmt: skip
    assert main(argv) == 0
    assert "broadcast agent: plan 'broadcast plan'" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("output", "message"), [("f/x.wav", "f is not a directory"), ("d.wav", "is a directory")]
)
def test_unwritable_outputs_are_refused_before_any_work(tmp_path, capsys, monkeypatch, output,
                                                        message):  # fmt: skip
    monkeypatch.setattr("audio.tts.speak", lambda *a: pytest.fail("rendered"))
    (tmp_path / "f").write_text("a file")
    (tmp_path / "d.wav").mkdir()
    assert main(["audio", "say", "通知", "--title", "t", "-o", str(tmp_path / output)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert main(["audio", "list", "--json"]) == 0 and capsys.readouterr().out == ""
