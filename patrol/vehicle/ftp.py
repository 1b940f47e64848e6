"""MAVLink FTP, ground side: whole files to and from a vehicle (FILE_TRANSFER_PROTOCOL, the
MAVLink FTP spec as ArduPilot's GCS_FTP implements it), over lossy links.

* Reads: OpenFileRO, one BurstReadFile (the vehicle streams the file in 239-byte packets), then
  ReadFile for whatever the burst lost, a few requests in flight; CalcFileCRC32 checks the bytes
  (ArduPilot's CRC-32 runs from 0 without a final XOR); TerminateSession.
* Writes: CreateFile, WriteFile chunks with up to five in flight (ArduPilot queues five requests
  and drops the rest), each re-sent until acknowledged, then TerminateSession, which is when
  ArduPilot stores a mission file.

A request is re-sent with its own sequence number after the adaptive timeout: ArduPilot answers
a repeated request with its last reply again. pymavlink's ``mavftp.MAVFTP`` owns the
connection's receive loop and wall-clock timers, so it cannot share a link with the telemetry
reader; this client runs on :class:`VehicleChannel` inboxes and the vehicle's time base."""

from __future__ import annotations

import contextlib
import random
import struct
import time
import zlib
from dataclasses import dataclass

from pymavlink import mavftp_op as op
from pymavlink.dialects.v20 import ardupilotmega as mavlink
from pymavlink.mavftp import FtpError as FtpCode

from patrol.link import Message
from patrol.vehicle.channel import Inbox, VehicleChannel

HEADER = struct.Struct("<HBBBBBBI")  # seq, session, opcode, size, req_opcode, burst, pad, offset
CHUNK = 251 - HEADER.size  # 239 data bytes per packet
WINDOW = 5  # requests in flight: ArduPilot's FTP request queue holds five
BURST_SEQS = 502  # replies one BurstReadFile may use (500 packets and a NAK) + 1
SESSION_IDLE_S = 3.5  # ArduPilot lets another session take a file after 3 s without replies
NAMES = {v: k.removeprefix("OP_") for k, v in vars(op).items() if k.startswith("OP_")}


class FtpError(Exception):
    """A file transfer that did not complete; ``code`` is the vehicle's NAK, if it sent one."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


def nak_name(code: int) -> str:
    try:
        return FtpCode(code).name
    except ValueError:
        return f"NAK {code}"


@dataclass
class Reply:
    seq: int
    session: int
    opcode: int
    size: int
    req_opcode: int
    burst_complete: int
    offset: int
    data: bytes

    @classmethod
    def decode(cls, msg: Message) -> Reply:
        payload = bytes(msg.payload)
        seq, session, opcode, size, req_opcode, burst, _pad, offset = HEADER.unpack_from(payload)
        data = payload[HEADER.size : HEADER.size + min(size, CHUNK)]
        return cls(seq, session, opcode, size, req_opcode, burst, offset, data)

    @property
    def ok(self) -> bool:
        return self.opcode == op.OP_Ack

    @property
    def code(self) -> int | None:
        """The NAK's error code (None for an ACK)."""
        return None if self.ok else (self.data[0] if self.data else FtpCode.NoErrorCodeInNack)


def crc32(data: bytes) -> int:
    """ArduPilot's crc_crc32 from 0 (CRC-32, poly 0xEDB88320, no inversion at either end)."""
    return zlib.crc32(data, 0xFFFFFFFF) ^ 0xFFFFFFFF


def has_ftp(capabilities: int | None) -> bool:
    return bool(capabilities and capabilities & mavlink.MAV_PROTOCOL_CAPABILITY_FTP)


def autopilot_capabilities(channel: VehicleChannel, vehicle_seconds: float = 3.0) -> int | None:
    """AUTOPILOT_VERSION.capabilities (MAV_CMD_REQUEST_MESSAGE, or the older
    REQUEST_AUTOPILOT_CAPABILITIES); None when the vehicle does not answer."""
    ch = channel
    requests = (
        (mavlink.MAV_CMD_REQUEST_MESSAGE, mavlink.MAVLINK_MSG_ID_AUTOPILOT_VERSION),
        (mavlink.MAV_CMD_REQUEST_AUTOPILOT_CAPABILITIES, 1),
    )
    give_up = time.monotonic() + ch.timebase.patience(vehicle_seconds)
    with ch.inbox("AUTOPILOT_VERSION") as box:
        tries = 0
        while time.monotonic() < give_up:
            command, param1 = requests[tries % 2]
            ch.send(
                mavlink.MAVLink_command_long_message(
                    ch.sysid, ch.compid, command, 0, param1, 0, 0, 0, 0, 0, 0
                )
            )
            reply = box.get(min(ch.rtt.timeout * 2**tries, give_up - time.monotonic()))
            if reply is not None:
                return int(reply.capabilities)
            tries += 1
    return None


class FtpClient:
    """Reads and writes files on one vehicle (its autopilot component)."""

    def __init__(self, channel: VehicleChannel, stall_timeout: float = 4.0) -> None:
        self.channel = channel
        self.stall_timeout = stall_timeout  # vehicle seconds without progress before giving up
        self.resent = 0  # requests sent again after a lost request or reply
        # start anywhere: the vehicle may still hold an earlier client's last reply, which a
        # request numbered one below it would get back instead of an answer
        self._seq = random.randrange(0x10000)
        self._session = random.randrange(255)

    # -- plumbing ---------------------------------------------------------------------------
    def _next_seq(self, reserve: int = 1) -> int:
        """A sequence number no earlier reply can match (ArduPilot takes a request whose
        sequence + 1 equals its last reply's for a repeat and sends that reply again)."""
        seq = self._seq
        self._seq = (self._seq + reserve) & 0xFFFF
        return seq

    def _new_session(self) -> int:
        self._session = self._session % 255 + 1
        return self._session

    def _send(self, seq: int, session: int, opcode: int, size: int = 0, offset: int = 0,
              data: bytes = b"") -> None:  # fmt: skip
        ch = self.channel
        head = HEADER.pack(seq, session, opcode, size, 0, 0, 0, offset)
        payload = (head + data).ljust(251, b"\0")
        ch.send(mavlink.MAVLink_file_transfer_protocol_message(0, ch.sysid, ch.compid, payload))

    def _inbox(self):
        return self.channel.inbox("FILE_TRANSFER_PROTOCOL", predicate=self.channel.for_us)

    def _stall(self) -> float:
        return self.channel.timebase.patience(self.stall_timeout)

    def _backoff(self, tries: int) -> float:
        rto = self.channel.rtt.timeout
        return min(rto * 2**tries, max(rto, self.channel.timebase.wall(1.0)))

    def _call(self, box: Inbox, session: int, opcode: int, size: int = 0, offset: int = 0,
              data: bytes = b"") -> Reply:  # fmt: skip
        """One request, re-sent with the same sequence number until its reply arrives."""
        seq = self._next_seq()
        give_up = time.monotonic() + self._stall()
        tries = 0
        while True:
            sent_at = time.monotonic()
            self._send(seq, session, opcode, size, offset, data)
            deadline = min(sent_at + self._backoff(tries), give_up)
            while (msg := box.get_until(deadline)) is not None:
                reply = Reply.decode(msg)
                if reply.seq == (seq + 1) & 0xFFFF and reply.req_opcode == opcode:
                    if tries == 0:
                        self.channel.rtt.sample(time.monotonic() - sent_at)
                    return reply
            if time.monotonic() >= give_up:
                raise FtpError(
                    f"no reply to {NAMES[opcode]} from vehicle {self.channel.sysid} "
                    f"in {self.stall_timeout:g} s"
                )
            tries += 1
            self.resent += 1

    def _open(self, box: Inbox, opcode: int, path: str) -> int:
        """Open ``path`` (OpenFileRO or CreateFile) in a new session; returns the session."""
        name = path.encode()
        for attempt in (0, 1):
            session = self._new_session()
            reply = self._call(box, session, opcode, len(name), data=name)
            if reply.ok:
                return session
            if attempt == 0 and reply.code == FtpCode.Fail:
                self._call(box, session, op.OP_TerminateSession)  # ours, left open: close it
                continue
            if attempt == 0 and reply.code == FtpCode.InvalidSession:
                # another session holds a file; the vehicle frees it once idle
                time.sleep(self.channel.timebase.wall(SESSION_IDLE_S))
                continue
            break
        raise FtpError(f"{NAMES[opcode]} {path}: {nak_name(reply.code)}", reply.code)

    def _terminate(self, box: Inbox, session: int) -> None:
        reply = self._call(box, session, op.OP_TerminateSession)
        if not reply.ok:
            raise FtpError(f"TerminateSession: {nak_name(reply.code)}", reply.code)

    # -- files ------------------------------------------------------------------------------
    def read(self, path: str, check_crc: bool = True) -> bytes:
        """The whole file. With ``check_crc`` the vehicle's CalcFileCRC32 of the file must
        match the bytes received (not for param.pck, whose layout depends on the read size)."""
        with self._inbox() as box:
            session = self._open(box, op.OP_OpenFileRO, path)
            try:
                data = self._fetch(box, session)
                if check_crc:
                    self._check_crc(box, session, path, data)
            except FtpError:
                self._end_quietly(box, session)
                raise
            self._terminate(box, session)
        return data

    def _check_crc(self, box: Inbox, session: int, path: str, data: bytes) -> None:
        name = path.encode()
        reply = self._call(box, session, op.OP_CalcFileCRC32, len(name), data=name)
        if not reply.ok:
            raise FtpError(f"CalcFileCRC32 {path}: {nak_name(reply.code)}", reply.code)
        (theirs,) = struct.unpack_from("<I", reply.data.ljust(4, b"\0"))
        if theirs != crc32(data):
            raise FtpError(
                f"{path}: CRC mismatch, vehicle 0x{theirs:08x}, read 0x{crc32(data):08x}"
            )

    def _end_quietly(self, box: Inbox, session: int) -> None:
        """Close the session after a failure (the failure, not this, is what to report)."""
        with contextlib.suppress(FtpError):
            self._terminate(box, session)

    def _fetch(self, box: Inbox, session: int) -> bytes:
        """A burst from offset 0, then ReadFile for every chunk it lost until the end of the
        file is known (a short chunk, or EndOfFile) and nothing is missing."""
        ch = self.channel
        got: dict[int, bytes] = {}  # chunk offset -> data (chunks start at multiples of 239)
        end: int | None = None
        bursts: dict[int, int] = {}  # burst request seq -> its offset
        reads: dict[int, tuple[int, float, int]] = {}  # seq -> (offset, sent at, tries)
        burst_at = time.monotonic()  # last sign of a running burst
        progress_at = burst_at

        def burst(offset: int) -> None:
            nonlocal burst_at
            seq = self._next_seq(BURST_SEQS)
            bursts[seq] = offset
            self._send(seq, session, op.OP_BurstReadFile, CHUNK, offset)
            burst_at = time.monotonic()

        def on_burst(reply: Reply, seq: int, start: int) -> None:
            nonlocal end, burst_at
            index = (reply.seq - seq - 1) & 0xFFFF
            if reply.ok:
                got[reply.offset] = reply.data
                if reply.size < CHUNK:
                    end = reply.offset + reply.size
                elif reply.burst_complete:
                    burst(reply.offset + CHUNK)  # the vehicle's burst limit: ask for more
                burst_at = time.monotonic()
            elif reply.code == FtpCode.EndOfFile:
                full = index and reply.offset == start + (index - 1) * CHUNK
                end = start + index * CHUNK if full else (reply.offset if index else start)
                burst_at = 0.0
            else:
                raise FtpError(f"BurstReadFile: {nak_name(reply.code)}", reply.code)

        burst(0)
        while True:
            now = time.monotonic()
            known = max(got, default=-CHUNK) + CHUNK
            limit = end if end is not None else known + 1  # + a probe past the data
            missing = [o for o in range(0, limit, CHUNK) if o not in got]
            if end is not None and not missing:
                return b"".join(got[o] for o in range(0, end, CHUNK))[:end]
            if now - burst_at >= max(2 * ch.rtt.timeout, ch.timebase.wall(0.2)):
                # the burst is over: a new one from the data's end if the end is not known
                # (its tail or the request was lost), ReadFile for the holes it left
                if end is None:
                    burst(known)
                    missing.remove(known)
                for offset in missing:
                    if len(reads) >= WINDOW:
                        break
                    if any(o == offset for o, _, _ in reads.values()):
                        continue
                    seq = self._next_seq()
                    reads[seq] = (offset, now, 0)
                    self._send(seq, session, op.OP_ReadFile, CHUNK, offset)
                for seq, (offset, sent_at, tries) in list(reads.items()):
                    if now >= sent_at + self._backoff(tries):
                        reads[seq] = (offset, now, tries + 1)
                        self._send(seq, session, op.OP_ReadFile, CHUNK, offset)
                        self.resent += 1
            if now - progress_at > self._stall():
                raise FtpError(
                    f"file read stalled at {len(got) * CHUNK} bytes: no data from vehicle "
                    f"{ch.sysid} in {self.stall_timeout:g} s"
                )
            waits = [at + self._backoff(tries) for _, at, tries in reads.values()]
            msg = box.get_until(min([*waits, now + ch.rtt.timeout]))
            if msg is None:
                continue
            reply = Reply.decode(msg)
            if reply.session != session:
                continue
            request = (reply.seq - 1) & 0xFFFF
            if reply.req_opcode == op.OP_ReadFile and request in reads:
                offset = reads.pop(request)[0]
                if reply.ok:
                    got[offset] = reply.data
                    if reply.size < CHUNK:
                        end = offset + reply.size
                elif reply.code == FtpCode.EndOfFile:
                    end = offset if end is None else min(end, offset)
                else:
                    raise FtpError(f"ReadFile: {nak_name(reply.code)}", reply.code)
            elif reply.req_opcode == op.OP_BurstReadFile:
                owner = next((s for s in bursts if 0 < (reply.seq - s) & 0xFFFF < BURST_SEQS), None)
                if owner is None:
                    continue
                on_burst(reply, owner, bursts[owner])
            else:
                continue
            progress_at = time.monotonic()

    def write(self, path: str, data: bytes) -> None:
        """Create (or replace) ``path`` with ``data``; complete when the vehicle has
        acknowledged the TerminateSession that closes it."""
        with self._inbox() as box:
            session = self._open(box, op.OP_CreateFile, path)
            try:
                self._write_chunks(box, session, data)
            except FtpError:
                self._end_quietly(box, session)
                raise
            self._terminate(box, session)

    def _write_chunks(self, box: Inbox, session: int, data: bytes) -> None:
        ch = self.channel
        todo = list(range(0, len(data), CHUNK))
        todo.reverse()  # popped from the end: in file order
        inflight: dict[int, tuple[int, float, int]] = {}  # seq -> (offset, sent at, tries)
        progress_at = time.monotonic()

        def send(seq: int, offset: int) -> None:
            chunk = data[offset : offset + CHUNK]
            self._send(seq, session, op.OP_WriteFile, len(chunk), offset, chunk)

        while todo or inflight:
            now = time.monotonic()
            while todo and len(inflight) < WINDOW:
                offset = todo.pop()
                seq = self._next_seq()
                inflight[seq] = (offset, now, 0)
                send(seq, offset)
            for seq, (offset, sent_at, tries) in list(inflight.items()):
                if now >= sent_at + self._backoff(tries):
                    inflight[seq] = (offset, now, tries + 1)
                    send(seq, offset)
                    self.resent += 1
            if now - progress_at > self._stall():
                raise FtpError(
                    f"file write stalled: no WriteFile acknowledged by vehicle {ch.sysid} "
                    f"in {self.stall_timeout:g} s"
                )
            deadline = min(at + self._backoff(tries) for _, at, tries in inflight.values())
            msg = box.get_until(deadline)
            if msg is None:
                continue
            reply = Reply.decode(msg)
            request = (reply.seq - 1) & 0xFFFF
            if reply.session != session or reply.req_opcode != op.OP_WriteFile:
                continue
            if request not in inflight:
                continue
            offset, sent_at, tries = inflight.pop(request)
            if not reply.ok:
                raise FtpError(f"WriteFile at {offset}: {nak_name(reply.code)}", reply.code)
            if tries == 0:
                ch.rtt.sample(time.monotonic() - sent_at)
            progress_at = time.monotonic()
