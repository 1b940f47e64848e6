"""``patrol signing``: keys put on and taken off an aircraft, proven on a telemetry port; key
files; and a key that never shows up where others can read it."""

import io
import os
from pathlib import Path

import pytest

from missions.formats import write_mission
from patrol.cli import main
from patrol.keyfile import read_key_file
from sim import SimFleet
from tests.patrol.simkit import HOME, square_plan

PASSPHRASE = "east creek township 2026"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    monkeypatch.setenv("PATROL_DATA_DIR", str(path))
    return path


def key_file(tmp_path: Path, text: str = PASSPHRASE, mode: int = 0o600) -> Path:
    path = tmp_path / "township.key"
    path.write_text(text + "\n")
    path.chmod(mode)
    return path


def test_setup_proves_the_key_on_a_telemetry_port_then_remove_takes_it_off(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    key = key_file(tmp_path)
    with SimFleet(count=1, home=HOME, speedup=10, base_port=0, state_dir=tmp_path) as fleet:
        sim = fleet.vehicles[0]
        usb, telemetry = f"tcp:127.0.0.1:{sim.port}", f"tcp:127.0.0.1:{sim.ports[1]}"
        common = ["--connect", usb, "--check", telemetry, "--signing-key-file", str(key)]
        assert main(["signing", "setup", *common]) == 0, capsys.readouterr()
        assert sim.signing_key == read_key_file(key)
        out = capsys.readouterr().out
        assert "vehicle 1 on " in out and "key installed: its packets now come signed" in out
        assert "an unsigned request is ignored, a signed one answered: signing holds" in out
        assert main(["signing", "remove", *common]) == 0, capsys.readouterr()
        assert sim.signing_key is None
        assert "an unsigned request is answered: signing is off" in capsys.readouterr().out


def test_a_signed_aircraft_flies_and_the_key_is_never_shown_or_stored(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    key = key_file(tmp_path)
    secret = read_key_file(key)
    plan = tmp_path / "a.plan"
    write_mission(plan, square_plan(60, legs=2))
    with SimFleet(
        count=1, home=HOME, speedup=20, base_port=0, state_dir=tmp_path / "sim",
        signing_key=secret,
    ) as fleet:  # fmt: skip
        telemetry = f"tcp:127.0.0.1:{fleet.vehicles[0].ports[1]}"  # refuses unsigned traffic
        argv = ["fly", str(plan), "--connect", telemetry, "--signing-key-file", str(key),
                "--require-signing"]  # fmt: skip
        assert main(argv) == 0, capsys.readouterr()
    shown = capsys.readouterr()
    assert "patrol 1: completed" in shown.out
    for text in (shown.out, shown.err, *_files_text(data_dir)):
        assert PASSPHRASE not in text and secret.hex() not in text.lower()
        assert secret not in text.encode("latin-1", errors="ignore")


def _files_text(root: Path) -> list[str]:
    """Everything written under ``root`` (database, logs, .tlogs) as latin-1 text."""
    return [p.read_bytes().decode("latin-1") for p in root.rglob("*") if p.is_file()]


def test_key_files_are_private_and_keys_in_argv_are_discouraged(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = tmp_path / "a.plan"
    write_mission(plan, square_plan())
    loose = key_file(tmp_path, mode=0o644)
    argv = ["fly", str(plan), "--connect", "tcp:127.0.0.1:9", "--wait", "0.2"]
    assert main([*argv, "--signing-key-file", str(loose)]) == 2
    err = capsys.readouterr().err
    assert f"signing key file {loose}: other users may read it (mode 0644)" in err
    assert f"chmod 600 {loose}" in err and PASSPHRASE not in err
    assert main([*argv, "--signing-key-file", str(tmp_path / "none.key")]) == 2
    assert "none.key: no such file" in capsys.readouterr().err
    empty = key_file(tmp_path, text="  ")
    assert main([*argv, "--signing-key-file", str(empty)]) == 2
    assert "no key in it" in capsys.readouterr().err
    # still taken on the command line, with a warning that says why not to
    assert main([*argv, "--signing-key", PASSPHRASE]) == 4
    err = capsys.readouterr().err
    assert "patrol fly: warning: --signing-key puts the key where every user" in err
    assert "--signing-key-file" in err
    assert main([*argv, "--signing-key", "x", "--signing-key-file", str(loose)]) == 2
    assert "not both" in capsys.readouterr().err
    # from standard input (a pipe, a password manager): no file, no warning
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSPHRASE + "\n"))
    assert main([*argv, "--signing-key-file", "-"]) == 4
    shown = capsys.readouterr()
    assert "warning" not in shown.err and PASSPHRASE not in shown.out + shown.err


def test_new_key_is_random_private_and_never_overwritten(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "new.key"
    assert main(["signing", "new-key", str(path)]) == 0
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert len(read_key_file(path)) == 32 and len(path.read_text().strip()) == 64
    before = path.read_text()
    assert main(["signing", "new-key", str(path)]) == 2
    assert "already exists" in capsys.readouterr().err and path.read_text() == before


def test_an_unsigned_aircraft_and_require_signing_say_what_to_do(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    key = key_file(tmp_path)
    plan = tmp_path / "a.plan"
    write_mission(plan, square_plan())
    with SimFleet(count=1, home=HOME, speedup=10, base_port=0, state_dir=tmp_path) as fleet:
        url = f"tcp:127.0.0.1:{fleet.vehicles[0].port}"
        argv = ["fly", str(plan), "--connect", url, "--signing-key-file", str(key),
                "--require-signing"]  # fmt: skip
        assert main(argv) == 4
    out = capsys.readouterr().out
    assert "unsigned packets refused (--require-signing): the aircraft has no signing key" in out
    assert "patrol signing setup --connect USB_URL --signing-key-file FILE" in out
    assert " in 30 s" not in out  # known at once, not after the whole wait
