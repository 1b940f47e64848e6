"""Request bodies and uploads: a body over the limit is refused before it is read (a declared
length at once, a chunked one as soon as it passes the limit), the admin's limit applies at
once, and the browser's file names never reach the filesystem."""

from __future__ import annotations

import socket
from pathlib import Path

from patrol.console.app import create_app
from patrol.console.services import Console
from tests.patrol.console.conftest import PASSWORD, make_settings
from tests.patrol.console.liveserver import served

SAMPLE = Path(__file__).resolve().parents[3] / "data" / "sample"
MB = 2**20


def _signed_in_headers(url: str) -> tuple[str, str]:
    import httpx

    login = httpx.post(f"{url}/api/session", json={"name": "操作员", "password": PASSWORD})
    return login.cookies["gp_session"], login.json()["csrf"]


def _answer(sock: socket.socket) -> str:
    """The server's answer, headers and (short) body."""
    sock.settimeout(10)
    data = b""
    while b"}" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", "replace")


def test_a_body_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    console = Console(make_settings(tmp_path, max_upload_bytes=1 * MB))
    console.accounts.add_user("操作员", "operator", PASSWORD)
    with served(create_app(console.settings, console)) as url:
        cookie, csrf = _signed_in_headers(url)
        host, port = url.removeprefix("http://").split(":")
        head = (
            f"POST /api/grids/import HTTP/1.1\r\nHost: {host}\r\nCookie: gp_session={cookie}\r\n"
            f"X-CSRF-Token: {csrf}\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        )
        # ten gigabytes announced, none sent: the answer comes at once
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall((head + f"Content-Length: {10 * 1024 * MB}\r\n\r\n").encode())
            answer = _answer(sock)
        assert answer.startswith("HTTP/1.1 413") and "over the 1 MB limit" in answer
        # no length announced: refused as soon as the chunks pass the limit
        sent = 0
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall((head + "Transfer-Encoding: chunked\r\n\r\n").encode())
            part = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.geojson"'
                    b"\r\nContent-Type: application/json\r\n\r\n")  # fmt: skip
            sock.sendall(b"%x\r\n%s\r\n" % (len(part), part))
            chunk = b" " * 65536
            sock.settimeout(0.05)
            answer = ""
            while sent < 20 * MB:
                try:
                    sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    sent += len(chunk)
                    if sock.recv(1, socket.MSG_PEEK):
                        break
                except (TimeoutError, BlockingIOError):
                    continue
                except OSError:  # the server closed the connection
                    break
            answer = _answer(sock)
        assert answer.startswith("HTTP/1.1 413")
        assert sent < 4 * MB  # (the socket buffers hold a little more than the limit)
    console.stop()


def test_the_admins_upload_limit_applies_at_once(as_role, console) -> None:
    admin = as_role("admin")
    assert admin.patch("/api/settings", json={"values": {"max_upload_mb": 1}}).status_code == 200
    op = as_role("operator")
    big = b'{"type": "FeatureCollection", "features": []}' + b" " * (2 * MB)
    response = op.post("/api/grids/import", files={"file": ("大.geojson", big)})
    assert response.status_code == 413 and "1 MB" in response.json()["error"]
    small = (SAMPLE / "township.geojson").read_bytes()
    assert op.post("/api/grids/import", files={"file": ("乡.geojson", small)}).status_code == 201


def test_uploaded_file_names_never_reach_the_filesystem(as_role, console, tmp_path: Path) -> None:
    op = as_role("operator")
    data = console.settings.data_dir
    before = {p for p in data.rglob("*")}
    hostile = ["../../逃逸.geojson", "/etc/passwd.geojson", "..\\..\\win.geojson",
               "a\x00b.geojson", "con.geojson", "x" * 300 + ".geojson"]  # fmt: skip
    content = (SAMPLE / "no-fly.geojson").read_bytes()
    for n, name in enumerate(hostile):
        files = {"file": (name, content, "application/json")}
        response = op.post("/api/grids/import", files=files, data={"kind": "no_fly"})
        # the first import stores the zones; the rest are refused as duplicates, by name
        assert response.status_code in (201, 409), (name, response.text)
        if n == 0:  # the browser's name, without its folders, is kept only to show
            assert response.json()["imported"][0]["properties"]["source"] == "逃逸.geojson"
        else:
            assert not response.json()["error"].startswith(("/", ".", "\\"))
    after = {p for p in data.rglob("*")} - before
    assert not [p for p in after if "逃逸" in p.name or "passwd" in p.name or "win" in p.name]
    assert not (tmp_path.parent / "逃逸.geojson").exists()
    for path in after:
        assert path.resolve().is_relative_to(data.resolve())
