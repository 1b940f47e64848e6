"""One SERIAL port of a simulated vehicle: a TCP listener (plus optional UDP output) speaking
MAVLink 2 with its own stream rates, sequence numbers and signing state, and the link faults."""

from __future__ import annotations

import collections
import contextlib
import logging
import selectors
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim.faults import Faults

log = logging.getLogger(__name__)

MAX_OUTBUF = 4 * 1024 * 1024  # a client that stops reading loses packets beyond this
SIGNING_EPOCH = 1420070400  # 2015-01-01 UTC, MAVLink 2 signing timestamps
UNSIGNED_OK = {mavlink.MAVLINK_MSG_ID_RADIO_STATUS, mavlink.MAVLINK_MSG_ID_RADIO}

MessageHandler = Callable[["Channel", mavlink.MAVLink_message], None]


def _parser(sysid: int) -> mavlink.MAVLink:
    mav = mavlink.MAVLink(None, srcSystem=sysid, srcComponent=1)
    mav.robust_parsing = True
    return mav


@dataclass
class Client:
    """One connected ground station / companion computer on a channel."""

    sock: socket.socket | None
    parser: mavlink.MAVLink
    address: tuple | None = None
    outbuf: bytearray = field(default_factory=bytearray)


class Channel:
    """A MAVLink channel (SITL SERIALn, stream params MAV{n+1}_*). All clients connected to the
    port share the channel's output; each has its own parser."""

    def __init__(
        self,
        index: int,
        sysid: int,
        host: str,
        port: int,
        selector: selectors.BaseSelector,
        faults: Faults,
        clock: Callable[[], float],
        on_message: MessageHandler,
        udp_out: tuple[str, int] | None = None,
    ):
        self.index = index
        self.sysid = sysid
        self.selector = selector
        self.faults = faults
        self.clock = clock
        self.on_message = on_message
        self.mav = mavlink.MAVLink(None, srcSystem=sysid, srcComponent=1)
        self.clients: list[Client] = []
        self.stream_rates: dict[int, float] = {}
        self.intervals: dict[int, float] = {}  # msgid -> seconds (SET_MESSAGE_INTERVAL)
        self.next_due: dict[int, float] = {}  # stream group id, or -msgid -> next send time
        self.signing_key: bytes | None = None
        self.delayed_out: collections.deque[tuple[float, bytes]] = collections.deque()
        self.delayed_in: collections.deque[tuple[float, mavlink.MAVLink_message]] = (
            collections.deque()
        )
        self.sent = 0
        self.dropped = 0
        self._acks_to_lose: set[int] = set()  # commands whose next COMMAND_ACK is lost
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.server.bind((host, port))
        except OSError as exc:
            self.server.close()
            raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        self.server.listen(5)  # as SITL
        self.server.setblocking(False)
        self.port = self.server.getsockname()[1]
        selector.register(self.server, selectors.EVENT_READ, (self, None))
        self.udp: socket.socket | None = None
        if udp_out is not None:
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp.setblocking(False)
            udp_client = Client(None, _parser(sysid), address=udp_out)
            self.clients.append(udp_client)
            selector.register(self.udp, selectors.EVENT_READ, (self, udp_client))

    # -- signing -------------------------------------------------------------------------
    def set_signing(self, key: bytes | None, timestamp: int = 0) -> None:
        """Enable MAVLink 2 signing with ``key`` (32 bytes) or disable it (None / all zero)."""
        if key is not None and not any(key):
            key = None
        self.signing_key = key
        self.mav.signing.secret_key = key
        self.mav.signing.sign_outgoing = key is not None
        self.mav.signing.link_id = self.index
        if key is not None:
            # 10 µs units since 2015-01-01, from the (simulated) real-time clock
            now = int((time.time() - SIGNING_EPOCH) * 1e5)
            self.mav.signing.timestamp = max(self.mav.signing.timestamp, timestamp, now)
        for client in self.clients:
            self._apply_signing(client.parser)

    def _apply_signing(self, parser: mavlink.MAVLink) -> None:
        """ArduPilot (GCS_Signing.cpp) checks signatures on every channel but channel 0, which it
        takes for a secure local link (USB on a flight controller) and where it accepts unsigned
        and badly signed packets too; elsewhere only RADIO_STATUS/RADIO may come unsigned."""
        parser.signing.secret_key = self.signing_key
        if self.signing_key is None:
            parser.signing.allow_unsigned_callback = None
        elif self.index == 0:
            parser.signing.allow_unsigned_callback = lambda _mav, _msgid: True
        else:
            parser.signing.allow_unsigned_callback = lambda _mav, msgid: msgid in UNSIGNED_OK

    # -- sockets ---------------------------------------------------------------------------
    def on_readable(self, client: Client | None) -> None:
        if client is None:
            try:
                sock, address = self.server.accept()
            except (BlockingIOError, InterruptedError):
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            new = Client(sock, _parser(self.sysid), address=address)
            self._apply_signing(new.parser)
            self.clients.append(new)
            self.selector.register(sock, selectors.EVENT_READ, (self, new))
            # SITL serves one TCP client at a time; the next waits in the listen backlog,
            # connected but unanswered, until this one closes
            self.selector.unregister(self.server)
            log.debug("sysid %d serial%d: client %s connected", self.sysid, self.index, address)
            return
        try:
            if client.sock is None:
                assert self.udp is not None
                data, address = self.udp.recvfrom(65536)
                client.address = address  # reply to whoever talks to us, as SITL's udpclient
            else:
                data = client.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data and client.sock is not None:
            self.close_client(client)
            return
        self._receive(client, data)

    def _receive(self, client: Client, data: bytes) -> None:
        try:
            msgs = client.parser.parse_buffer(data) or []
        except mavlink.MAVError:
            return
        now = self.clock()
        for msg in msgs:
            if msg.get_type() == "BAD_DATA":
                continue
            if self.faults.drops(now):
                self.dropped += 1
                continue
            if self.faults.latency_s > 0:
                self.delayed_in.append((now + self.faults.latency_s, msg))
            else:
                self._deliver(msg)

    def _deliver(self, msg: mavlink.MAVLink_message) -> None:
        if (
            msg.get_type() == "COMMAND_LONG"
            and msg.confirmation == 0
            and msg.command in self.faults.lose_first_ack
        ):
            self._acks_to_lose.add(msg.command)
        self.on_message(self, msg)

    def close_client(self, client: Client) -> None:
        if client.sock is None:
            return
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(client.sock)
        client.sock.close()
        with contextlib.suppress(ValueError):
            self.clients.remove(client)
        if self.server.fileno() != -1:  # accept the next client waiting in the backlog
            with contextlib.suppress(KeyError, ValueError):
                self.selector.register(self.server, selectors.EVENT_READ, (self, None))

    def close(self) -> None:
        for client in list(self.clients):
            self.close_client(client)
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(self.server)
        self.server.close()
        if self.udp is not None:
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(self.udp)
            self.udp.close()

    # -- sending ---------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return bool(self.clients)

    def send(self, msg: mavlink.MAVLink_message) -> None:
        """Pack (sequence, signature) and queue one message to every client of the channel."""
        if not self.clients:
            return
        try:
            data = msg.pack(self.mav)
        except (struct.error, TypeError, ValueError):
            log.exception("sysid %d: cannot pack %s", self.sysid, msg.get_type())
            return
        now = self.clock()
        self.sent += 1
        lost_ack = msg.get_type() == "COMMAND_ACK" and msg.command in self._acks_to_lose
        if lost_ack:
            self._acks_to_lose.discard(msg.command)
        lost = lost_ack or msg.get_type() in self.faults.lose_messages
        if lost or self.faults.drops(now):
            self.dropped += 1
            return
        if self.faults.latency_s > 0:
            self.delayed_out.append((now + self.faults.latency_s, data))
        else:
            self._queue(data)

    def _queue(self, data: bytes) -> None:
        for client in self.clients:
            if len(client.outbuf) + len(data) <= MAX_OUTBUF:
                client.outbuf += data

    def pump(self) -> None:
        """Release delayed packets whose time has come and write pending output."""
        now = self.clock()
        while self.delayed_in and self.delayed_in[0][0] <= now:
            self._deliver(self.delayed_in.popleft()[1])
        while self.delayed_out and self.delayed_out[0][0] <= now:
            self._queue(self.delayed_out.popleft()[1])
        for client in list(self.clients):
            if not client.outbuf:
                continue
            try:
                if client.sock is None:
                    assert self.udp is not None
                    self.udp.sendto(bytes(client.outbuf), client.address)
                    sent = len(client.outbuf)
                else:
                    sent = client.sock.send(client.outbuf)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                if client.sock is None:
                    client.outbuf.clear()  # nobody listening on the UDP target yet
                else:
                    self.close_client(client)
                continue
            del client.outbuf[:sent]
