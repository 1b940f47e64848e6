"""MAVLink FTP (FILE_TRANSFER_PROTOCOL), vehicle side, as ArduPilot 4.7's GCS_FTP answers it:
one open file at a time in one session, every request answered with the request's session and
sequence + 1 (a repeated request gets the last reply again), BurstReadFile streaming up to 500
packets, and ArduPilot's NAK codes and quirks. The files are in :mod:`sim.ftp_files`."""

from __future__ import annotations

import errno
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim.ftp_files import Files, FsError, OpenFile

if TYPE_CHECKING:
    from sim.link import Channel
    from sim.vehicle import Vehicle

HEADER = struct.Struct("<HBBBBBBI")  # seq, session, opcode, size, req_opcode, burst, pad, offset
DATA_SIZE = 251 - HEADER.size  # 239

# opcodes
NONE, TERMINATE, RESET, LIST, OPEN_RO, READ, CREATE, WRITE, REMOVE_FILE = range(9)
MKDIR, RMDIR, OPEN_WO, TRUNCATE, RENAME, CRC32, BURST_READ = range(9, 16)
ACK, NAK = 128, 129
# NAK codes
FAIL, FAIL_ERRNO, INVALID_DATA_SIZE, INVALID_SESSION = 1, 2, 3, 4
END_OF_FILE, FILE_EXISTS, FILE_NOT_FOUND = 6, 8, 10

SESSION_TIMEOUT_S = 3.0  # an open file idle this long may be taken over by another session
BURST_PACKETS = 500  # packets per BurstReadFile before the client must ask again
STREAM_SLOWDOWN_S = 0.5  # streams run 4x slower until this long after an FTP reply


@dataclass
class Packet:
    """The FILE_TRANSFER_PROTOCOL payload, decoded."""

    seq: int
    session: int
    opcode: int
    size: int = 0
    req_opcode: int = 0
    burst_complete: int = 0
    offset: int = 0
    data: bytearray = field(default_factory=lambda: bytearray(DATA_SIZE))

    @classmethod
    def decode(cls, payload: list[int] | bytes) -> Packet:
        raw = bytes(payload)
        seq, session, opcode, size, req_opcode, burst, _pad, offset = HEADER.unpack_from(raw)
        data = bytearray(raw[HEADER.size : HEADER.size + DATA_SIZE].ljust(DATA_SIZE, b"\0"))
        return cls(seq, session, opcode, size, req_opcode, burst, offset, data)

    def encode(self) -> bytes:
        head = HEADER.pack(
            self.seq & 0xFFFF, self.session, self.opcode, self.size, self.req_opcode,
            self.burst_complete, 0, self.offset & 0xFFFFFFFF,
        )  # fmt: skip
        return head + bytes(self.data)

    def path(self) -> str | None:
        """The name in ``data`` when ``size`` matches it (a trailing NUL may be counted)."""
        name = bytes(self.data).split(b"\0", 1)[0]
        if self.size == 0 or not (
            len(name) == self.size or (self.size - len(name) == 1 and self.data[-1] == 0)
        ):
            return None
        return name.decode("latin-1")

    def nak(self, code: int, errno_value: int | None = None) -> None:
        """Turn this reply into a NAK; FailErrno carries the errno (ENOENT and EEXIST become
        FileNotFound and FileExists, as ArduPilot translates them)."""
        self.opcode = NAK
        self.size = 1
        self.data[0] = code
        if code == FAIL_ERRNO:
            if errno_value == errno.ENOENT:
                self.data[0] = FILE_NOT_FOUND
            elif errno_value == errno.EEXIST:
                self.data[0] = FILE_EXISTS
            else:
                self.data[1] = (errno_value or 0) & 0xFF
                self.size = 2


class FtpServer:
    """One vehicle's FTP server (ArduPilot has one for all its MAVLink channels)."""

    def __init__(self, vehicle: Vehicle, banner: Callable[[], None]) -> None:
        self.v = vehicle
        self.banner = banner  # the version texts a param download starts with
        self.files = Files(vehicle)
        self.file: OpenFile | None = None
        self.writing = False
        self.session = -1
        self.last_send = 0.0  # sim time of the last reply; 0 after a TerminateSession reply
        self.last_reply: tuple[tuple[int, int], Packet] | None = None  # (sysid, compid), reply

    # -- replies -----------------------------------------------------------------------------
    def _push(self, channel: Channel, dest: tuple[int, int], reply: Packet) -> None:
        channel.send(mavlink.MAVLink_file_transfer_protocol_message(0, *dest, reply.encode()))
        now = self.v.sim_time
        self.last_send = 0.0 if reply.req_opcode == TERMINATE else now
        # ArduPilot stretches every stream interval 4x while it sends FTP replies
        self.v.ftp_busy_until = now + STREAM_SLOWDOWN_S if self.last_send else 0.0
        self.last_reply = (dest, Packet(**vars(reply) | {"data": bytearray(reply.data)}))

    def _close(self) -> None:
        """Close the open file; an upload is stored now (its outcome is not reported: the
        TerminateSession ACK comes anyway, as in ArduPilot)."""
        file, self.file, self.session = self.file, None, -1
        if file is not None:
            file.close()

    # -- requests ----------------------------------------------------------------------------
    def handle(self, channel: Channel, msg: mavlink.MAVLink_message) -> None:
        request = Packet.decode(msg.payload)
        dest = (msg.get_srcSystem(), msg.get_srcComponent())
        if request.opcode in (ACK, NAK):
            return  # not expected from a ground station: eaten
        last = self.last_reply
        if (
            last is not None
            and last[0] == dest
            and last[1].session == request.session
            and (request.seq + 1) & 0xFFFF == last[1].seq
        ):
            self._push(channel, dest, last[1])  # a repeated request: the same answer again
            return
        reply = Packet((request.seq + 1) & 0xFFFF, request.session, NAK, req_opcode=request.opcode)
        now = self.v.sim_time
        close_after = False
        if request.size > DATA_SIZE:
            reply.nak(INVALID_DATA_SIZE)
        elif request.session != self.session and request.opcode in (TERMINATE, RESET):
            reply.opcode = ACK  # another session's end: nothing to close
        elif (
            self.file is not None
            and request.session != self.session
            and now - self.last_send < SESSION_TIMEOUT_S
        ):
            reply.nak(INVALID_SESSION)  # a file is open in another, live session
        else:
            if self.file is not None and request.session != self.session:
                self._close()  # the other session went quiet: take over
            if request.opcode in (TERMINATE, RESET):
                reply.opcode = ACK
                close_after = True
            elif request.opcode == BURST_READ:
                self._burst(channel, dest, request, reply)
                if reply.opcode != NAK:
                    return  # the burst sent its own replies
            else:
                self._dispatch(request, reply, now)
        self._push(channel, dest, reply)
        if close_after:
            self._close()
        elif request.opcode == OPEN_RO and reply.opcode == ACK and self._param_download(request):
            self.banner()

    @staticmethod
    def _param_download(request: Packet) -> bool:
        return (request.path() or "").startswith("@PARAM/param.pck")

    def _dispatch(self, request: Packet, reply: Packet, now: float) -> None:
        op = request.opcode
        method = {
            NONE: self._none, LIST: self._list, OPEN_RO: self._open_ro, READ: self._read,
            CREATE: self._open_wo, OPEN_WO: self._open_wo, WRITE: self._write,
            MKDIR: self._mkdir, RMDIR: self._remove, REMOVE_FILE: self._remove,
            CRC32: self._crc32, RENAME: self._rename,
        }.get(op)  # fmt: skip
        if method is None:  # TruncateFile, ListDirectoryWithTime and anything newer
            self.v.text(mavlink.MAV_SEVERITY_DEBUG, f"Unsupported FTP: {op}")
            reply.nak(FAIL)
            return
        try:
            method(request, reply, now)
        except FsError as exc:
            reply.nak(FAIL_ERRNO, exc.errno)

    def _named(self, request: Packet, reply: Packet) -> str | None:
        path = request.path()
        if path is None:
            reply.nak(INVALID_DATA_SIZE)
        return path

    def _none(self, request: Packet, reply: Packet, now: float) -> None:
        reply.opcode = ACK

    def _list(self, request: Packet, reply: Packet, now: float) -> None:
        """Entries ``F<name>\\t<size>`` or ``D<name>``, each followed by two NULs (ArduPilot
        counts the terminator of its snprintf twice), from entry number ``offset``."""
        reply.offset = request.offset
        path = self._named(request, reply)
        if path is None:
            return
        if len(path) > 1:
            path = path.removesuffix("/")
        entries = [e for e in self.files.listdir(path) if len(e) + 1 < DATA_SIZE]
        if request.offset >= len(entries):
            reply.nak(END_OF_FILE)
            return
        index = 0
        for entry in entries[request.offset :]:
            needed = len(entry) + 1
            if index + needed >= DATA_SIZE:
                break
            raw = entry.encode("latin-1")
            reply.data[index : index + len(raw)] = raw
            index += needed + 1
        reply.opcode, reply.size = ACK, index

    def _open_ro(self, request: Packet, reply: Packet, now: float) -> None:
        if self.file is not None and now - self.last_send > SESSION_TIMEOUT_S:
            self._close()  # the client gave up waiting for an earlier open's reply
        if self.file is not None:
            reply.nak(FAIL)
            return
        path = self._named(request, reply)
        if path is None:
            return
        size = self.files.stat(path)
        self.file = self.files.open(path)
        self.writing = False
        self.session = request.session
        reply.opcode, reply.size = ACK, 4
        reply.data[:4] = struct.pack("<I", size)

    def _open_wo(self, request: Packet, reply: Packet, now: float) -> None:
        if self.file is not None:
            reply.nak(FAIL)
            return
        path = self._named(request, reply)
        if path is None:
            return
        self.file = self.files.open(path, write=True, truncate=request.opcode == CREATE)
        self.writing = True
        self.session = request.session
        reply.opcode = ACK

    def _read(self, request: Packet, reply: Packet, now: float) -> None:
        if self.file is None:
            reply.nak(FILE_NOT_FOUND)
        elif self.writing:
            reply.nak(FAIL)
        elif data := self.file.read(request.offset, min(DATA_SIZE, request.size)):
            reply.opcode, reply.size, reply.offset = ACK, len(data), request.offset
            reply.data[: len(data)] = data
        else:
            reply.nak(END_OF_FILE)

    def _write(self, request: Packet, reply: Packet, now: float) -> None:
        if self.file is None:
            reply.nak(FILE_NOT_FOUND)
        elif not self.writing:
            reply.nak(FAIL)
        else:
            self.file.write(request.offset, bytes(request.data[: request.size]))
            reply.opcode, reply.offset = ACK, request.offset

    def _burst(self, channel: Channel, dest: tuple[int, int], request: Packet, reply: Packet):
        """Up to 500 ACKs of ``size`` bytes from ``offset``, sequence rising by one each; the
        short last one has burst_complete set; reading on at the end gives NAK EndOfFile."""
        if self.file is None:
            reply.nak(FILE_NOT_FOUND)
            return
        if self.writing:
            reply.nak(FAIL)
            return
        chunk = min(DATA_SIZE, request.size or DATA_SIZE)
        position = request.offset
        for i in range(BURST_PACKETS):
            try:
                data = self.file.read(position, chunk)
            except FsError as exc:
                reply.nak(FAIL_ERRNO, exc.errno)
                return
            reply.data[:] = bytes(DATA_SIZE)
            if not data:
                reply.nak(END_OF_FILE)
                return
            reply.opcode, reply.size = ACK, len(data)
            reply.offset = request.offset + i * chunk
            reply.burst_complete = int(len(data) < chunk or i == BURST_PACKETS - 1)
            reply.data[: len(data)] = data
            self._push(channel, dest, reply)
            position += len(data)
            if len(data) < chunk:
                reply.offset += len(data)  # where the EndOfFile NAK that follows points
            reply.seq = (reply.seq + 1) & 0xFFFF

    def _mkdir(self, request: Packet, reply: Packet, now: float) -> None:
        if (path := self._named(request, reply)) is not None:
            self.files.mkdir(path)
            reply.opcode = ACK

    def _remove(self, request: Packet, reply: Packet, now: float) -> None:
        if (path := self._named(request, reply)) is not None:
            self.files.unlink(path)
            reply.opcode = ACK

    def _crc32(self, request: Packet, reply: Packet, now: float) -> None:
        if (path := self._named(request, reply)) is not None:
            crc = self.files.crc32(path)
            reply.opcode, reply.size = ACK, 4
            reply.data[:4] = struct.pack("<I", crc)

    def _rename(self, request: Packet, reply: Packet, now: float) -> None:
        names = bytes(request.data[: request.size]).split(b"\0")
        if len(names) < 2 or not names[0] or not names[1]:
            reply.nak(INVALID_DATA_SIZE)
            return
        self.files.rename(names[0].decode("latin-1"), names[1].decode("latin-1"))
        reply.opcode = ACK
