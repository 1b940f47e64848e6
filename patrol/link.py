"""A MAVLink 2 link to one or more vehicles: transport, heartbeat, signing, routing and .tlog.

The transport is pymavlink's ``mavutil.mavlink_connection`` (TCP client, UDP listen or send,
serial). On top of it a :class:`Link` runs one reader thread that reconnects with back-off, a
1 Hz GCS heartbeat (in vehicle time, see :mod:`patrol.timebase`), MAVLink 2 signing, a .tlog of
both directions and routing of every message to the handlers of its source system id, so several
vehicles can share one process or one UDP port without cross-talk.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import select
import struct
import threading
import time
from collections.abc import Callable, Container
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pymavlink import mavutil
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from patrol.timebase import TimeBase

log = logging.getLogger(__name__)

Message = mavlink.MAVLink_message
Handler = Callable[[Message], None]

GCS_SYSID = 255
GCS_COMPID = 190  # MAV_COMP_ID_MISSIONPLANNER, as QGroundControl and MAVProxy use
DEFAULT_BAUD = 57600

_NET = re.compile(r"^(tcp|udpin|udpout):(?P<host>[^:]+):(?P<port>\d+)$")


class LinkError(Exception):
    """A connection string or key that cannot be used."""


@dataclass(frozen=True)
class Endpoint:
    """Where a vehicle is: ``text`` as the operator wrote it, ``device`` for mavutil."""

    text: str
    device: str
    baud: int = DEFAULT_BAUD
    sysid: int | None = None  # only this vehicle (``...@SYSID``); None: the first one heard


def parse_endpoint(text: str) -> Endpoint:
    """Parse ``tcp:HOST:PORT``, ``udpin:HOST:PORT``, ``udpout:HOST:PORT`` or ``/dev/TTY[:BAUD]``,
    each optionally followed by ``@SYSID`` to pick one vehicle on a shared link."""
    base, at, sysid_text = text.strip().partition("@")
    sysid = None
    if at:
        if not sysid_text.isdigit() or not 1 <= int(sysid_text) <= 254:
            raise LinkError(f"connection {text!r}: system id after '@' must be 1..254")
        sysid = int(sysid_text)
    net = _NET.match(base)
    if net:
        port = int(net["port"])
        if not 1 <= port <= 65535:
            raise LinkError(f"connection {text!r}: port {port} is out of range 1..65535")
        return Endpoint(text, base, sysid=sysid)
    if base.startswith("/dev/") or re.match(r"^COM\d+", base):
        device, colon, baud = base.rpartition(":")
        if not colon:
            return Endpoint(text, base, sysid=sysid)
        if not baud.isdigit():
            raise LinkError(f"connection {text!r}: baud rate {baud!r} is not a number")
        return Endpoint(text, device, int(baud), sysid)
    raise LinkError(
        f"connection {text!r}: expected tcp:HOST:PORT, udpin:HOST:PORT, udpout:HOST:PORT "
        "or /dev/SERIAL[:BAUD]"
    )


def signing_key(secret: str) -> bytes:
    """The 32-byte MAVLink 2 signing key: 64 hex digits as given, else SHA-256 of the passphrase
    (as MAVProxy's ``signing setup`` derives it)."""
    secret = secret.strip()
    if not secret:
        raise LinkError("signing key is empty")
    if re.fullmatch(r"[0-9a-fA-F]{64}", secret):
        return bytes.fromhex(secret)
    return hashlib.sha256(secret.encode()).digest()


def is_vehicle_heartbeat(msg: Message) -> bool:
    """A HEARTBEAT from an autopilot (not a GCS, gimbal or companion computer)."""
    return (
        msg.get_type() == "HEARTBEAT"
        and msg.autopilot != mavlink.MAV_AUTOPILOT_INVALID
        and msg.type
        not in (
            mavlink.MAV_TYPE_GCS,
            mavlink.MAV_TYPE_GIMBAL,
            mavlink.MAV_TYPE_ADSB,
            mavlink.MAV_TYPE_ONBOARD_CONTROLLER,
        )
    )


class _Closed(ConnectionError):
    pass


class TlogWriter:
    """A .tlog as mavutil writes it: 8-byte big-endian µs timestamp then the raw packet, for
    both directions, so ``mavlogdump.py`` and MAVExplorer read it."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: BinaryIO = open(path, "ab")  # noqa: SIM115 - closed in close()
        self._lock = threading.Lock()

    def write(self, packet: bytes) -> None:
        usec = int(time.time() * 1.0e6) & ~3
        with self._lock:
            if not self._file.closed:
                self._file.write(struct.pack(">Q", usec) + packet)

    def flush(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


@dataclass
class LinkStats:
    received: int = 0
    sent: int = 0
    rejected_unsigned: int = 0  # refused: no signature
    rejected_wrong_key: int = 0  # refused: signed, but not with our key (or replayed)
    connects: int = 0
    last_error: str = ""


class Link:
    """One transport to one or more vehicles. Start it, add handlers per system id, send."""

    def __init__(
        self,
        endpoint: Endpoint | str,
        *,
        source_system: int = GCS_SYSID,
        source_component: int = GCS_COMPID,
        timebase: TimeBase | None = None,
        key: bytes | None = None,
        require_signing: bool = False,
        tlog: Path | None = None,
        heartbeat_period: float = 1.0,
        max_backoff: float = 8.0,
    ) -> None:
        self.endpoint = parse_endpoint(endpoint) if isinstance(endpoint, str) else endpoint
        if require_signing and key is None:
            raise LinkError("signing is required but no signing key was given")
        if key is not None and len(key) != 32:
            raise LinkError(f"signing key must be 32 bytes, got {len(key)}")
        self.source_system = source_system
        self.source_component = source_component
        self.timebase = timebase or TimeBase()
        self.key = key
        self.require_signing = require_signing
        self.heartbeat_period = heartbeat_period
        self.max_backoff = max_backoff
        self.stats = LinkStats()
        self.heartbeat_enabled = True
        self.last_received = 0.0  # time.monotonic() of the last good message
        self._conn: mavutil.mavfile | None = None
        self._conn_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._handlers: dict[int | None, list[Handler]] = {}
        self._handlers_lock = threading.Lock()
        self._tlogs: list[tuple[int | None, TlogWriter]] = []
        if tlog:
            self.add_tlog(tlog)
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._threads: list[threading.Thread] = []
        self._signing_timestamp: int | None = None

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> Link:
        for name, target in (("reader", self._read_loop), ("heartbeat", self._heartbeat_loop)):
            thread = threading.Thread(
                target=target, name=f"link-{name} {self.endpoint.text}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2.0)
        self._drop_connection("closed")
        for _sysid, writer in self.tlogs():
            writer.close()

    def __enter__(self) -> Link:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    # -- logs -------------------------------------------------------------------------------
    def add_tlog(self, path: Path, sysid: int | None = None) -> TlogWriter:
        """Log to ``path`` what this link carries: everything, or only what comes from and
        goes to vehicle ``sysid`` (so vehicles sharing a link still get a .tlog each)."""
        writer = TlogWriter(path)
        with self._handlers_lock:
            self._tlogs.append((sysid, writer))
        return writer

    def remove_tlog(self, writer: TlogWriter) -> None:
        with self._handlers_lock:
            self._tlogs = [(s, w) for s, w in self._tlogs if w is not writer]
        writer.close()

    def tlogs(self) -> list[tuple[int | None, TlogWriter]]:
        with self._handlers_lock:
            return list(self._tlogs)

    # -- routing ----------------------------------------------------------------------------
    def add_handler(self, handler: Handler, sysid: int | None = None) -> Callable[[], None]:
        """Call ``handler(msg)`` (on the reader thread) for every message from ``sysid``, or from
        anyone when ``sysid`` is None. Returns a function that removes the handler."""
        with self._handlers_lock:
            self._handlers.setdefault(sysid, []).append(handler)

        def remove() -> None:
            with self._handlers_lock:
                handlers = self._handlers.get(sysid, [])
                if handler in handlers:
                    handlers.remove(handler)

        return remove

    def wait_vehicle(
        self, timeout: float, sysid: int | None = None, exclude: Container[int] = ()
    ) -> int | None:
        """The system id of the first autopilot heard (only ``sysid`` when given; never one in
        ``exclude``), waiting up to ``timeout`` wall seconds."""
        found: list[int] = []
        event = threading.Event()
        wanted = sysid

        def on_message(msg: Message) -> None:
            src = msg.get_srcSystem()
            if is_vehicle_heartbeat(msg) and wanted in (None, src) and src not in exclude:
                found.append(msg.get_srcSystem())
                event.set()

        remove = self.add_handler(on_message)
        try:
            event.wait(timeout)
        finally:
            remove()
        return found[0] if found else None

    # -- sending ----------------------------------------------------------------------------
    def send(self, msg: Message) -> bool:
        """Send one message; False when the transport is down (the caller's retries cover it)."""
        with self._conn_lock:
            conn = self._conn
        if conn is None:
            return False
        try:
            with self._send_lock:
                conn.mav.send(msg)
                packet = bytes(msg.get_msgbuf())
        except (OSError, _Closed) as exc:
            self._drop_connection(f"send failed: {exc}")
            return False
        self.stats.sent += 1
        target = getattr(msg, "target_system", 0)
        for sysid, writer in self.tlogs():
            if sysid is None or target in (0, sysid):
                writer.write(packet)
        return True

    # -- threads ----------------------------------------------------------------------------
    def _open(self) -> mavutil.mavfile:
        ep = self.endpoint
        conn = mavutil.mavlink_connection(
            ep.device,
            baud=ep.baud,
            source_system=self.source_system,
            source_component=self.source_component,
            retries=0,
            autoreconnect=False,
        )
        # Speak MAVLink 2 from the first byte (mavutil would only switch after hearing v2, and
        # its switch replaces the MAVLink object, losing the signing setup).
        conn.mav = mavlink.MAVLink(
            conn, srcSystem=self.source_system, srcComponent=self.source_component
        )
        conn.mav.robust_parsing = True
        conn.WIRE_PROTOCOL_VERSION = "2.0"
        conn.first_byte = False
        if self.key is not None:
            allow = None if self.require_signing else (lambda _mav, _msgid: True)
            conn.setup_signing(
                self.key,
                sign_outgoing=True,
                allow_unsigned_callback=allow,
                initial_timestamp=self._signing_timestamp,
            )

        def closed() -> None:
            raise _Closed("connection closed by peer")

        # mavtcp only prints on EOF/reset unless it reconnects itself; we reconnect here.
        conn.handle_eof = closed
        conn.handle_disconnect = closed
        return conn

    def _drop_connection(self, reason: str) -> None:
        with self._conn_lock:
            conn, self._conn = self._conn, None
        self._connected.clear()
        if conn is not None:
            if self.key is not None:
                # keep signing timestamps monotonic across reconnects (replay protection)
                self._signing_timestamp = conn.mav.signing.timestamp + 1
            self.stats.last_error = reason
            log.info("link %s down: %s", self.endpoint.text, reason)
            with contextlib.suppress(OSError):
                conn.close()

    def _read_loop(self) -> None:
        backoff = 0.25
        while not self._stop.is_set():
            with self._conn_lock:
                conn = self._conn
            if conn is None:
                try:
                    conn = self._open()
                except (OSError, ValueError) as exc:
                    self.stats.last_error = f"connect failed: {exc}"
                    self._stop.wait(self.timebase.wall(backoff))
                    backoff = min(backoff * 2, self.max_backoff)
                    continue
                backoff = 0.25
                with self._conn_lock:
                    self._conn = conn
                self.stats.connects += 1
                self._connected.set()
            try:
                msg = conn.recv_msg()
            except (OSError, _Closed) as exc:
                self._drop_connection(str(exc))
                continue
            if msg is None:
                self._wait_readable(conn)
                continue
            self._dispatch(msg)

    @staticmethod
    def _wait_readable(conn: mavutil.mavfile) -> None:
        try:
            select.select([conn.fd], [], [], 0.05)
        except (OSError, ValueError, TypeError):
            time.sleep(0.01)

    def _dispatch(self, msg: Message) -> None:
        if msg.get_type() == "BAD_DATA":
            if "signature" in str(getattr(msg, "reason", "")):
                raw = bytes(getattr(msg, "data", b""))
                if len(raw) > 2 and raw[0] == mavlink.PROTOCOL_MARKER_V2 and raw[2] & 1:
                    self.stats.rejected_wrong_key += 1
                else:
                    self.stats.rejected_unsigned += 1
            return
        self.stats.received += 1
        self.last_received = time.monotonic()
        sysid = msg.get_srcSystem()
        for only, writer in self.tlogs():
            if only is None or only == sysid:
                writer.write(bytes(msg.get_msgbuf()))
        with self._handlers_lock:
            handlers = [*self._handlers.get(sysid, ()), *self._handlers.get(None, ())]
        for handler in handlers:
            try:
                handler(msg)
            except Exception:  # a broken handler must not kill the link
                log.exception("handler failed on %s", msg.get_type())

    def _heartbeat_loop(self) -> None:
        while not self._stop.wait(self.timebase.wall(self.heartbeat_period)):
            if self.heartbeat_enabled and self.connected:
                self.send(
                    mavlink.MAVLink_heartbeat_message(
                        mavlink.MAV_TYPE_GCS,
                        mavlink.MAV_AUTOPILOT_INVALID,
                        0,
                        0,
                        mavlink.MAV_STATE_ACTIVE,
                        3,
                    )
                )
            for _sysid, writer in self.tlogs():
                writer.flush()
