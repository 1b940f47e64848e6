"""``patrol users`` and ``patrol serve`` from the command line."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from patrol.cli import main
from patrol.store import open_engine
from patrol.store.accounts import Accounts


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PATROL_DATA_DIR", str(tmp_path / "data"))
    return f"sqlite:///{tmp_path / 'c.db'}"


def test_users_add_reads_the_password_from_stdin_and_hashes_it(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("一个很长的密码 secret\n"))
    assert main(["users", "--db", db, "add", "管理员", "--role", "admin", "--password-stdin"]) == 0
    assert "added with role admin" in capsys.readouterr().out
    accounts = Accounts(open_engine(db))
    assert accounts.authenticate("管理员", "一个很长的密码 secret").role == "admin"
    with accounts.engine.connect() as conn:
        stored = conn.exec_driver_sql("select password_hash from console_users").scalar()
    assert stored.startswith("$argon2id$") and "secret" not in stored
    assert main(["users", "--db", db, "list"]) == 0
    assert "管理员\tadmin" in capsys.readouterr().out


def test_users_refusals_are_one_line_with_exit_2(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("long enough password\n"))
    assert main(["users", "--db", db, "add", "ann", "--role", "staff", "--password-stdin"]) == 0
    capsys.readouterr()
    cases = [
        (["add", "ann", "--role", "staff", "--password-stdin"], "long enough\n", "already exists"),
        (["add", "bob", "--role", "staff", "--password-stdin"], "short\n", "at least 8"),
        (["add", "bob", "--role", "staff", "--password-stdin"], "", "no password"),
        (["add", "bob", "--role", "staff"], "", "use --password-stdin"),
        (["passwd", "nobody", "--password-stdin"], "long enough\n", "no user named"),
        (["remove", "nobody"], "", "no user named"),
    ]
    for argv, stdin, message in cases:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        assert main(["users", "--db", db, *argv]) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("patrol users: ") and message in err and err.count("\n") == 1, err


def _start_serve(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, str, str]:
    env = {**os.environ, "PATROL_DATA_DIR": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "patrol.cli", "serve", "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 60
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        match = re.search(r"console on (http://\S+)", line)
        if match:
            return process, match.group(1), "".join(lines)
    process.kill()
    raise AssertionError("serve did not start:\n" + "".join(lines) + process.stderr.read())


def test_serve_answers_and_warns_about_a_missing_first_user(tmp_path: Path) -> None:
    process, url, _ = _start_serve(tmp_path)
    try:
        assert httpx.get(url + "api/health").json() == {"ok": True}
        assert httpx.get(url + "api/users").status_code == 401
        login = httpx.get(url + "login")
        assert login.status_code == 200 and "登录" in login.text
        assert httpx.get(url + "vendor/leaflet/leaflet.js").status_code == 200
    finally:
        process.terminate()
        process.wait(20)
    assert "patrol users add NAME --role admin" in process.stderr.read()


def test_serve_warns_when_listening_beyond_loopback_without_tls(tmp_path: Path) -> None:
    process, _url, _ = _start_serve(tmp_path, "--host", "0.0.0.0")
    process.terminate()
    process.wait(20)
    assert "without TLS" in process.stderr.read()


def test_serve_refusals(db: str, capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    for argv, message in (
        (["serve", "--tls-cert", str(cert)], "go together"),
        (["serve", "--connect", "tcp:nowhere"], "expected tcp:HOST:PORT"),
        (["serve", "--sim", "-1"], "--sim takes"),
    ):
        assert main(argv) == 2
        assert message in capsys.readouterr().err


def test_serve_with_simulated_copters(tmp_path: Path) -> None:
    env = {**os.environ, "PATROL_DATA_DIR": str(tmp_path / "data")}
    subprocess.run(
        [sys.executable, "-m", "patrol.cli", "users", "add", "管理员", "--role", "admin",
         "--password-stdin"],
        input="long enough password\n", text=True, env=env, check=True, capture_output=True,
    )  # fmt: skip
    process, url, said = _start_serve(tmp_path, "--sim", "2", "--sim-speedup", "5")
    try:
        with httpx.Client(base_url=url) as client:
            login = client.post(
                "/api/session", json={"name": "管理员", "password": "long enough password"}
            )
            client.headers["X-CSRF-Token"] = login.json()["csrf"]
            vehicles = client.get("/api/vehicles").json()["vehicles"]
        assert [v["sysid"] for v in vehicles] == [1, 2] and all(v["simulated"] for v in vehicles)
        assert vehicles[0]["connect"].startswith("tcp:127.0.0.1:") and not vehicles[0]["busy"]
        sim = next(p for p in child_processes(process.pid) if " sim --count 2 " in p[1])
    finally:
        process.terminate()
        process.wait(30)
    assert "simulated copter 2: tcp:127.0.0.1:" in said
    assert process.returncode == 0
    assert not Path(f"/proc/{sim[0]}").exists()  # the simulator stopped with the console


def child_processes(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the direct children of ``pid``, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append((int(entry.name), cmdline))
    return found
