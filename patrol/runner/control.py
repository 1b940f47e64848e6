"""The local control channel of a controller process (``patrol fly``/``resume``, in a terminal
or as a console worker): it claims each vehicle it flies (``patrol.store.claims``) and serves a
Unix domain socket (mode 0600, under ``<data>/run/``) speaking JSON lines:

- ``{"sortie": ID, "action": "pause"|"continue"|"rtl"|"land", "by": USER}`` is answered
  ``{"ok": bool, "detail": TEXT}``: the request is queued for the sortie's runner, which carries
  it out as it does a Ctrl-C choice (the outcome follows as an event);
- ``{"op": "snapshot"}`` is answered ``{"ok": true, "sorties": [...]}``;
- ``{"op": "subscribe", "interval": S}`` streams ``{"sorties": [...]}`` every S seconds until
  the client closes.

A sortie's snapshot holds its telemetry, progress line, preflight lines as they pass or fail,
recent events, status and whether the link is lost. The console reads and commands vehicles
only through this channel, so CLI-launched and console-launched patrols are the same to it."""

from __future__ import annotations

import json
import os
import re
import socket
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from patrol.runner.connect import ConnectError
from patrol.runner.sortie import OPERATOR_ACTIONS
from patrol.store.claims import ClaimRefused, ClaimStore
from patrol.store.models import Sortie
from patrol.vehicle import Vehicle

HEARTBEAT_S = 2.0
MAX_SOCKET_PATH = 100  # sockaddr_un holds 108 bytes
_CHECK = re.compile(r"^\s*\[( ok |FAIL)\] ([^:]+): (.*)$")
_LABELLED = re.compile(r"^\[v\d+\] (.*)$")


@dataclass
class _SortieState:
    sortie_id: int
    connect: str
    vehicle: Vehicle | None = None
    preflight: list[dict] = field(default_factory=list)
    events: deque = field(default_factory=lambda: deque(maxlen=30))
    progress: str = ""
    ended: bool = False


def socket_path(run_dir: Path, owner: str) -> Path:
    """``<run_dir>/ctl-<owner>.sock``, or under the temporary directory when that path is too
    long for a Unix socket."""
    path = Path(run_dir) / f"ctl-{owner}.sock"
    if len(os.fsencode(path)) <= MAX_SOCKET_PATH:
        return path
    fallback = Path(tempfile.gettempdir()) / f"gridpatrol-run-{os.getuid()}"
    fallback.mkdir(mode=0o700, exist_ok=True)
    return fallback / f"ctl-{owner}.sock"


class ControlServer:
    """Claims and the control socket for one controller process and its PatrolRun."""

    def __init__(self, claims: ClaimStore, run_dir: Path) -> None:
        self.claims = claims
        self.owner = uuid.uuid4().hex[:12]
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(run_dir, 0o700)
        self.path = socket_path(run_dir, self.owner)
        self.run = None  # the PatrolRun, once attached
        self._states: dict[int, _SortieState] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server: socket.socket | None = None
        self._statuses: dict[int, str] = {}
        self._statuses_at = 0.0

    # -- wiring -----------------------------------------------------------------------------
    def tee(self, say: Callable[[str], None]) -> Callable[[str], None]:
        """A ``say`` for the PatrolRun that also files each line under its sortie."""

        def both(line: str) -> None:
            self._file_line(line)
            say(line)

        return both

    def attach(self, run) -> None:  # type: ignore[no-untyped-def]
        """Serve ``run`` (a PatrolRun): claim each vehicle before it is commanded."""
        self.run = run
        run.on_vehicle = self._claim
        run.on_sortie_end = self._sortie_ended

    def start(self) -> None:
        self.path.unlink(missing_ok=True)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # the socket file is created 0600
        try:
            server.bind(str(self.path))
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        server.listen(16)
        server.settimeout(0.5)
        self._server = server
        threading.Thread(target=self._accept, name="control-accept", daemon=True).start()
        threading.Thread(target=self._heartbeat, name="control-heartbeat", daemon=True).start()

    def close(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.close()
        self.path.unlink(missing_ok=True)
        self.claims.release(self.owner)

    # -- claims -----------------------------------------------------------------------------
    def _claim(self, sortie: Sortie, vehicle: Vehicle) -> None:
        try:
            self.claims.claim(
                sortie.connect, vehicle.sysid, sortie.id, sortie.patrol_id, self.owner,
                str(self.path),
            )  # fmt: skip
        except ClaimRefused as exc:
            raise ConnectError(str(exc)) from None
        with self._lock:
            state = self._states.setdefault(sortie.id, _SortieState(sortie.id, sortie.connect))
            state.vehicle = vehicle
            state.connect = sortie.connect
            state.ended = False

    def _sortie_ended(self, sortie: Sortie) -> None:
        self.claims.release(self.owner, sortie.id)
        with self._lock:
            state = self._states.get(sortie.id)
            if state is not None:
                state.ended = True

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                self.claims.heartbeat(self.owner)
            except Exception:  # a busy database: the next beat tries again
                continue

    # -- lines from the runner --------------------------------------------------------------
    def _file_line(self, line: str) -> None:
        name = threading.current_thread().name
        if not name.startswith("sortie-"):  # the patrol's own lines: the terminal shows them
            return
        sortie_id = int(name.removeprefix("sortie-"))
        with self._lock:
            state = self._states.setdefault(sortie_id, _SortieState(sortie_id, ""))
            labelled = _LABELLED.match(line)  # "[vN] ..." as every line of a sortie
            text = labelled.group(1) if labelled else line.strip()
            check = _CHECK.match(text)
            if check:
                ok, check_name, detail = check.groups()
                state.preflight.append({"name": check_name, "ok": ok == " ok ", "detail": detail})
            elif text == "preflight checklist:":
                state.preflight = []
            elif text.startswith("item ") and " | waypoints " in text:
                state.progress = text
            else:
                state.events.append({"at": time.time(), "text": text})

    # -- snapshots --------------------------------------------------------------------------
    def _refresh_statuses(self) -> None:
        if time.monotonic() - self._statuses_at < 1.0 or self.run is None:
            return
        ids = list(self._states)
        with Session(self.run.store.engine) as s:
            rows = s.execute(select(Sortie.id, Sortie.status).where(Sortie.id.in_(ids))).all()
        self._statuses = {sortie_id: status for sortie_id, status in rows}
        self._statuses_at = time.monotonic()

    def snapshot(self) -> list[dict]:
        self._refresh_statuses()
        out = []
        with self._lock:
            states = list(self._states.values())
        for st in states:
            out.append(self._sortie_json(st))
        return out

    def _sortie_json(self, st: _SortieState) -> dict:
        run = self.run
        data: dict = {
            "sortie": st.sortie_id,
            "patrol": run.patrol_id if run else None,
            "connect": st.connect,
            "owner": self.owner,
            "pid": os.getpid(),
            "status": self._statuses.get(st.sortie_id, "starting"),
            "ended": st.ended,
            "preflight": list(st.preflight),
            "events": list(st.events)[-12:],
            "progress": st.progress,
            "telemetry": None,
            "link_lost": False,
        }
        vehicle = st.vehicle
        if vehicle is not None:
            state = vehicle.telemetry.state
            pos = state.position
            lost_after = run.profile.link_lost_after if run else 5.0
            data["sysid"] = vehicle.sysid
            data["link_lost"] = not st.ended and vehicle.telemetry.link_silent(lost_after)
            data["telemetry"] = {
                "mode": state.mode_name,
                "armed": state.armed,
                "lat": pos.lat if pos else None,
                "lon": pos.lon if pos else None,
                "alt_rel": round(pos.alt_rel, 1) if pos else None,
                "heading": round(pos.heading) if pos else None,
                "ground_speed": round(pos.ground_speed, 1) if pos else None,
                "voltage": state.voltage,
                "battery_remaining": state.battery_remaining,
                "gps_fix": state.gps_fix,
                "satellites": state.satellites,
                "mission_seq": state.mission_seq,
                "heard_s_ago": (
                    round(time.monotonic() - state.heartbeat_at, 1) if state.heartbeat_at else None
                ),
            }
        return data

    # -- commands ---------------------------------------------------------------------------
    def command(self, sortie_id: int, action: str, by: str) -> dict:
        if action not in OPERATOR_ACTIONS:
            return {"ok": False, "detail": f"unknown action {action!r}"}
        runners = list(self.run.runners) if self.run else []
        runner = next((r for r in runners if r.sortie_id == sortie_id), None)
        if runner is None:
            detail = f"sortie {sortie_id} is not flying under this controller"
            return {"ok": False, "detail": detail}
        runner.request(action)
        by = str(by or "unknown")[:100]
        self.run.store.add_event(sortie_id, "operator", f"{action} requested by {by} (console)")
        return {"ok": True, "detail": f"{action} requested"}

    # -- the socket -------------------------------------------------------------------------
    def _accept(self) -> None:
        server = self._server
        while not self._stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rwb") as stream:
            try:
                line = stream.readline(65536)
                request = json.loads(line) if line.strip() else {}
                if not isinstance(request, dict):
                    raise ValueError("not an object")
            except ValueError:
                _send(stream, {"ok": False, "detail": "one JSON object per line"})
                return
            op = request.get("op") or ("command" if "action" in request else "")
            try:
                if op == "command":
                    sortie = request.get("sortie")
                    if not isinstance(sortie, int):
                        _send(stream, {"ok": False, "detail": "sortie must be a number"})
                        return
                    _send(stream, self.command(sortie, str(request["action"]), request.get("by")))
                elif op == "snapshot":
                    _send(stream, {"ok": True, "sorties": self.snapshot()})
                elif op == "subscribe":
                    interval = min(max(float(request.get("interval", 0.5)), 0.1), 10.0)
                    while not self._stop.is_set():
                        _send(stream, {"sorties": self.snapshot()})
                        time.sleep(interval)
                else:
                    _send(stream, {"ok": False, "detail": f"unknown op {op!r}"})
            except (BrokenPipeError, ConnectionResetError, OSError):
                return


def _send(stream, message: dict) -> None:  # type: ignore[no-untyped-def]
    stream.write(json.dumps(message, ensure_ascii=False).encode() + b"\n")
    stream.flush()


class ControlClient:
    """Talks to one controller's control socket."""

    def __init__(self, path: str | Path, timeout: float = 5.0) -> None:
        self.path = str(path)
        self.timeout = timeout

    def _connect(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.path)
        return sock

    def request(self, message: dict) -> dict:
        with self._connect() as sock, sock.makefile("rwb") as stream:
            _send(stream, message)
            line = stream.readline()
        if not line:
            raise ConnectionError("the controller closed the control channel")
        return json.loads(line)

    def command(self, sortie: int, action: str, by: str) -> dict:
        return self.request({"sortie": sortie, "action": action, "by": by})

    def snapshot(self) -> list[dict]:
        return self.request({"op": "snapshot"})["sorties"]

    def subscribe(self, interval: float, stop: threading.Event) -> Iterator[list[dict]]:
        """Snapshots until ``stop`` is set or the controller goes away."""
        with self._connect() as sock, sock.makefile("rwb") as stream:
            _send(stream, {"op": "subscribe", "interval": interval})
            while not stop.is_set():
                line = stream.readline()
                if not line:
                    return
                yield json.loads(line)["sorties"]
