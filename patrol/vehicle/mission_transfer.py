"""Mission, fence and rally transfer, client side: upload, download and clear for MISSION, FENCE
and RALLY, over lossy links. Where the vehicle offers MAVLink FTP (AUTOPILOT_VERSION), whole
lists go as files (:mod:`patrol.vehicle.mission_file` over :mod:`patrol.vehicle.ftp`), an order of
magnitude faster; when FTP is missing, refused or fails, the mission protocol below is used.

Upload: MISSION_COUNT, then answer each MISSION_REQUEST or MISSION_REQUEST_INT (ArduPilot sends
the legacy one) with MISSION_ITEM_INT until MISSION_ACK. A lost COUNT or item is re-sent when the
adaptive timeout expires; a lost request is re-sent by the vehicle (every ~1 s in ArduPilot). A
vehicle-side timeout (ACK OPERATION_CANCELLED) or a lost final ACK restarts the transfer.
Every upload is read back and compared (:func:`same_item`) before it counts, whichever way it
went: ArduPilot acknowledges a 700-item mission.dat and keeps the first 650 without a word.

Download: MISSION_REQUEST_LIST -> MISSION_COUNT, then MISSION_REQUEST_INT per item, a few
ahead of the replies, with re-requests, then MISSION_ACK.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from missions.items import FENCE, MISSION, RALLY, MissionItem
from patrol.link import Message
from patrol.vehicle import mission_file
from patrol.vehicle.channel import VehicleChannel
from patrol.vehicle.ftp import FtpClient, FtpError, autopilot_capabilities, has_ftp

TYPE_NAMES = {MISSION: "mission", FENCE: "fence", RALLY: "rally"}

# Frames that mean the same thing whether sent as float (MISSION_ITEM) or int (_INT) variants:
# ArduPilot returns nav items in frame 3 although 6 was sent.
_FRAME_CANON = {
    mavlink.MAV_FRAME_GLOBAL_INT: mavlink.MAV_FRAME_GLOBAL,
    mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT: mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT,
    mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT_INT: mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT,
}
_NAV_LAST = mavlink.MAV_CMD_NAV_LAST  # commands below this are NAV (they carry a position)


class MissionTransferError(Exception):
    """An upload or download that did not complete; the message says which and why."""


def result_name(code: int) -> str:
    entry = mavlink.enums["MAV_MISSION_RESULT"].get(code)
    return entry.name if entry else f"MAV_MISSION_RESULT {code}"


# NAV commands ArduPilot stores without a location (they come back in frame 0)
_NAV_WITHOUT_POSITION = {
    mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH,
    mavlink.MAV_CMD_NAV_GUIDED_ENABLE,
    mavlink.MAV_CMD_NAV_DELAY,
}


def _has_position(item: MissionItem) -> bool:
    if item.mission_type in (FENCE, RALLY):
        return True
    return item.command < _NAV_LAST and item.command not in _NAV_WITHOUT_POSITION


def _same_float(a: float, b: float, abs_tol: float = 1e-4) -> bool:
    a = 0.0 if math.isnan(a) else a  # ArduPilot stores NaN (e.g. "keep yaw") as 0
    b = 0.0 if math.isnan(b) else b
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=abs_tol)


def same_item(sent: MissionItem, back: MissionItem) -> bool:
    """Whether ``back`` (read from the vehicle) is how a vehicle stores ``sent``: equal except
    for the frame variant (int/float frames, frame 0 for DO items), autocontinue, NaN stored as
    0, NAV_LOITER_TIME param3 0 stored as 1, and altitude to the centimetre."""
    if sent.command != back.command or sent.mission_type != back.mission_type:
        return False
    if _has_position(sent):
        if _FRAME_CANON.get(sent.frame, sent.frame) != _FRAME_CANON.get(back.frame, back.frame):
            return False
        if sent.x != back.x or sent.y != back.y or not _same_float(sent.alt, back.alt, 0.011):
            return False
    sent_p3 = sent.param3
    if sent.command == mavlink.MAV_CMD_NAV_LOITER_TIME and sent_p3 == 0 and back.param3 == 1:
        sent_p3 = 1.0  # "exit xtrack": ArduPilot reports 1 for 0
    return all(
        _same_float(a, b)
        for a, b in zip(
            (sent.param1, sent.param2, sent_p3, sent.param4),
            (back.param1, back.param2, back.param3, back.param4),
            strict=True,
        )
    )


def compare(sent: list[MissionItem], back: list[MissionItem], mission_type: int) -> list[str]:
    """Differences between an upload and its read-back, one line each; empty when identical.
    Item 0 of a MISSION is home, which the vehicle replaces with its own."""
    what = TYPE_NAMES[mission_type]
    start = 1 if mission_type == MISSION else 0
    if len(back) < len(sent) and all(
        same_item(a, b) for a, b in zip(sent[start:], back[start:], strict=False)
    ):
        return [f"{what}: sent {len(sent)} items, vehicle holds only the first {len(back)}"]
    if len(sent) != len(back):
        return [f"{what}: sent {len(sent)} items, vehicle holds {len(back)}"]
    return [
        f"{what} item {seq}: sent {sent[seq]}, vehicle holds {back[seq]}"
        for seq in range(start, len(sent))
        if not same_item(sent[seq], back[seq])
    ]


def item_from_message(msg: Message, mission_type: int) -> MissionItem:
    """A MissionItem from MISSION_ITEM_INT (or legacy MISSION_ITEM, degrees as floats)."""
    if msg.get_type() == "MISSION_ITEM_INT":
        lat, lon = msg.x / 1e7, msg.y / 1e7
    else:
        lat, lon = float(msg.x), float(msg.y)
    return MissionItem(
        command=msg.command,
        frame=msg.frame,
        lat=lat,
        lon=lon,
        alt=float(msg.z),
        param1=msg.param1,
        param2=msg.param2,
        param3=msg.param3,
        param4=msg.param4,
        autocontinue=msg.autocontinue,
        mission_type=mission_type,
    )


@dataclass
class TransferStats:
    items: int = 0
    resent: int = 0
    restarts: int = 0
    seconds: float = 0.0
    path: str = "mission"  # "ftp" (MAVLink FTP) or "mission" (the mission protocol)
    note: str = ""  # why the mission protocol was used, when it was

    def way(self) -> str:
        """How the items went, for the preflight line."""
        if self.path == "ftp":
            return "over MAVLink FTP"
        return "over the mission protocol" + (f" ({self.note})" if self.note else "")


class MissionTransfer:
    """Upload, download and clear one vehicle's MISSION, FENCE and RALLY lists."""

    def __init__(
        self,
        channel: VehicleChannel,
        stall_timeout: float = 8.0,
        attempts: int = 3,
        window: int = 8,
        use_ftp: bool = True,
    ) -> None:
        self.channel = channel
        self.stall_timeout = stall_timeout  # vehicle seconds without progress before giving up
        self.attempts = attempts  # whole-transfer restarts after a vehicle-side cancel
        self.window = window  # download requests outstanding at once
        self.use_ftp = use_ftp
        self.last_stats = TransferStats()
        self._ftp: FtpClient | None = None
        self.ftp_note = ""  # why MAVLink FTP is not used, once known

    # -- MAVLink FTP ------------------------------------------------------------------------
    def ftp(self) -> FtpClient | None:
        """The vehicle's FTP client when it advertises MAV_PROTOCOL_CAPABILITY_FTP (asked once)
        and ``use_ftp`` is on, else None (the reason, if any, in ``ftp_note``)."""
        if not self.use_ftp:
            return None
        if self._ftp is None and not self.ftp_note:
            capabilities = autopilot_capabilities(self.channel)
            if has_ftp(capabilities):
                self._ftp = FtpClient(self.channel)
            elif capabilities is None:
                self.ftp_note = "no AUTOPILOT_VERSION: MAVLink FTP not known"
            else:
                self.ftp_note = "vehicle offers no MAVLink FTP"
        return self._ftp

    def _ftp_failed(self, exc: FtpError) -> None:
        """Use the mission protocol from now on (a vehicle whose FTP failed once is not asked
        again for every list), and say why."""
        self._ftp = None
        self.ftp_note = f"MAVLink FTP failed: {exc}"

    def _upload_ftp(self, items: list[MissionItem], mission_type: int) -> list[MissionItem]:
        """Write the file, read it back; the items the vehicle holds (FtpError on failure)."""
        client = self.ftp()
        assert client is not None
        ch = self.channel
        path = mission_file.PATHS[mission_type]
        client.write(path, mission_file.encode(items, mission_type, ch.sysid, ch.compid))
        return self._download_ftp(mission_type)

    def _download_ftp(self, mission_type: int) -> list[MissionItem]:
        client = self.ftp()
        assert client is not None
        data = client.read(mission_file.PATHS[mission_type])
        try:
            return mission_file.decode(data, mission_type)
        except mission_file.MissionFileError as exc:
            raise FtpError(str(exc)) from exc

    # -- messages ---------------------------------------------------------------------------
    def _item_msg(self, seq: int, item: MissionItem, mission_type: int) -> Message:
        ch = self.channel
        return mission_file.item_message(item, seq, mission_type, ch.sysid, ch.compid)

    def _ours(self, mission_type: int):
        ch = self.channel
        return lambda m: ch.for_us(m) and getattr(m, "mission_type", 0) == mission_type

    def _backoff(self, tries: int) -> float:
        """Wall seconds to wait after the ``tries``-th re-send of one message: the adaptive
        timeout, doubled per unanswered re-send, capped at ArduPilot's 1 s re-request period."""
        rto = self.channel.rtt.timeout
        return min(rto * 2**tries, max(rto, self.channel.timebase.wall(1.0)))

    # -- upload -----------------------------------------------------------------------------
    def upload(self, items: list[MissionItem], mission_type: int = MISSION) -> TransferStats:
        """Upload ``items`` (for MISSION, items[0] is home). Raises MissionTransferError with
        the MAV_MISSION_RESULT name when the vehicle refuses, or when it stops answering."""
        what = TYPE_NAMES[mission_type]
        stats = TransferStats(items=len(items))
        started = time.monotonic()
        last_error = ""
        for attempt in range(self.attempts):
            stats.restarts = attempt
            outcome = self._upload_once(items, mission_type, stats)
            if outcome is None:
                stats.seconds = time.monotonic() - started
                self.last_stats = stats
                return stats
            last_error = outcome
        raise MissionTransferError(
            f"{what} upload failed after {self.attempts} tries: {last_error}"
        )

    def _upload_once(
        self, items: list[MissionItem], mission_type: int, stats: TransferStats
    ) -> str | None:
        """One transfer; None when acknowledged, else why it must be restarted. Refusals that a
        restart cannot fix raise at once."""
        ch = self.channel
        what = TYPE_NAMES[mission_type]
        count = len(items)
        stall = ch.timebase.patience(self.stall_timeout)
        types = ("MISSION_REQUEST", "MISSION_REQUEST_INT", "MISSION_ACK")
        lock = threading.Lock()
        last: dict[str, object] = {
            "msg": mavlink.MAVLink_mission_count_message(ch.sysid, ch.compid, count, mission_type)
        }

        def send_last() -> None:
            with lock:
                ch.send(last["msg"])
                last["at"] = time.monotonic()

        def answer(request: Message) -> None:
            # the next item goes out from the reader thread as soon as it is asked for
            if request.get_type() == "MISSION_ACK" or not 0 <= request.seq < count:
                return
            with lock:
                request.waited = time.monotonic() - last["at"]
                last["msg"] = self._item_msg(request.seq, items[request.seq], mission_type)
            send_last()

        with ch.inbox(*types, predicate=self._ours(mission_type), responder=answer) as box:
            send_last()
            progress_at = time.monotonic()
            requested: set[int] = set()
            early_refusals: set[int] = set()
            tries = 0  # re-sends of the last message without an answer: the wait doubles
            while True:
                reply = box.get(self._backoff(tries))
                now = time.monotonic()
                if reply is None:
                    if now - progress_at > stall:
                        if len(requested) == count:
                            return None  # all items were taken; the final ACK was lost
                        return f"no request from vehicle {ch.sysid} for {self.stall_timeout:g} s"
                    send_last()  # our COUNT or item may have been lost
                    stats.resent += 1
                    tries += 1
                    continue
                if reply.get_type() == "MISSION_ACK":
                    if reply.type == mavlink.MAV_MISSION_ACCEPTED:
                        if count and len(requested) < count:
                            continue  # a stale ACK from an earlier transfer
                        return None
                    if reply.type == mavlink.MAV_MISSION_INVALID_SEQUENCE:
                        continue  # an item out of order (our re-send); the vehicle re-requests
                    if reply.type == mavlink.MAV_MISSION_ERROR and len(requested) == count:
                        # our re-sent last item reached a vehicle no longer receiving: its
                        # final ACK was lost. The read-back decides.
                        return None
                    if reply.type == mavlink.MAV_MISSION_OPERATION_CANCELLED:
                        return f"vehicle {ch.sysid} cancelled the transfer (timeout on its side)"
                    if not requested and reply.type not in early_refusals:
                        # may answer a message of an earlier transfer: ask again, and take
                        # the refusal as real when it repeats
                        early_refusals.add(reply.type)
                        send_last()
                        continue
                    raise MissionTransferError(
                        f"{what} upload refused by vehicle {ch.sysid} at item "
                        f"{max(requested, default=0)} of {count}: {result_name(reply.type)}"
                    )
                if 0 <= reply.seq < count and reply.seq not in requested:
                    requested.add(reply.seq)
                    progress_at = now
                    ch.rtt.sample(reply.waited)
                tries = 0

    # -- download ---------------------------------------------------------------------------
    def download(self, mission_type: int = MISSION) -> list[MissionItem]:
        """The items the vehicle holds (for MISSION, item 0 is its home): as a file over
        MAVLink FTP where offered, else (or if that fails) over the mission protocol."""
        if self.ftp() is not None:
            try:
                return self._download_ftp(mission_type)
            except FtpError as exc:
                self._ftp_failed(exc)  # the mission protocol below gets them
        return self._download_items(mission_type)

    def _download_items(self, mission_type: int) -> list[MissionItem]:
        ch = self.channel
        what = TYPE_NAMES[mission_type]
        stall = ch.timebase.patience(self.stall_timeout)
        ours = self._ours(mission_type)
        with ch.inbox("MISSION_COUNT", predicate=ours) as box:
            request = mavlink.MAVLink_mission_request_list_message(
                ch.sysid, ch.compid, mission_type
            )
            count_msg = self._exchange(box, request, stall, f"{what} download: no MISSION_COUNT")
        count = count_msg.count
        with ch.inbox("MISSION_ITEM_INT", "MISSION_ITEM", "MISSION_ACK", predicate=ours) as box:
            items = self._fetch_items(box, count, mission_type, stall)
        ch.send(
            mavlink.MAVLink_mission_ack_message(
                ch.sysid, ch.compid, mavlink.MAV_MISSION_ACCEPTED, mission_type
            )
        )
        return items

    def _fetch_items(self, box, count: int, mission_type: int, stall: float) -> list[MissionItem]:
        """MISSION_REQUEST_INT for every seq, up to ``window`` ahead (ArduPilot answers each
        request on its own), re-requesting each unanswered one after its own back-off."""
        ch = self.channel
        what = TYPE_NAMES[mission_type]
        got: dict[int, MissionItem] = {}
        sent: dict[int, tuple[float, int]] = {}  # outstanding seq -> (sent at, tries)
        next_seq = 0
        progress_at = time.monotonic()
        refused = ""

        def request(seq: int, tries: int) -> None:
            ch.send(
                mavlink.MAVLink_mission_request_int_message(ch.sysid, ch.compid, seq, mission_type)
            )
            sent[seq] = (time.monotonic(), tries)

        while len(got) < count:
            while next_seq < count and len(sent) < self.window:
                request(next_seq, 0)
                next_seq += 1
            oldest = min(at + self._backoff(tries) for at, tries in sent.values())
            reply = box.get_until(oldest)
            now = time.monotonic()
            if reply is not None:
                if reply.get_type() == "MISSION_ACK":
                    if reply.type != mavlink.MAV_MISSION_ACCEPTED:
                        refused = result_name(reply.type)
                elif reply.seq in sent:
                    ch.rtt.sample(now - sent.pop(reply.seq)[0])
                    got[reply.seq] = item_from_message(reply, mission_type)
                    progress_at = now
            for seq, (at, tries) in list(sent.items()):
                if now >= at + self._backoff(tries):
                    request(seq, tries + 1)
            if now - progress_at > stall:
                missing = min(set(range(count)) - set(got))
                answered = f" (vehicle answered {refused})" if refused else ""
                raise MissionTransferError(
                    f"{what} download: no item {missing} of {count} from vehicle {ch.sysid} "
                    f"in {self.stall_timeout:g} s{answered}"
                )
        return [got[seq] for seq in range(count)]

    def _exchange(self, box, request: Message, stall: float, error: str, want=None) -> Message:
        """Send ``request`` until a wanted reply arrives. A MISSION_ACK error is remembered but
        not final: it may answer an earlier message (a re-sent item after a lost final ACK);
        the vehicle's real refusal repeats until the stall timeout, which names it."""
        ch = self.channel
        start = time.monotonic()
        tries = 0
        refused = ""
        while time.monotonic() - start < stall:
            sent_at = time.monotonic()
            ch.send(request)
            deadline = sent_at + self._backoff(tries)
            tries += 1
            while (reply := box.get_until(deadline)) is not None:
                if reply.get_type() == "MISSION_ACK" and reply.type != mavlink.MAV_MISSION_ACCEPTED:
                    refused = result_name(reply.type)
                    continue
                if want is None or want(reply):
                    ch.rtt.sample(time.monotonic() - sent_at)
                    return reply
        answered = f" (vehicle answered {refused})" if refused else ""
        raise MissionTransferError(
            f"{error} from vehicle {ch.sysid} in {self.stall_timeout:g} s{answered}"
        )

    # -- clear and verified upload ----------------------------------------------------------
    def clear(self, mission_type: int = MISSION) -> None:
        """Remove every item of ``mission_type`` (MISSION_CLEAR_ALL until ACK accepted)."""
        ch = self.channel
        with ch.inbox("MISSION_ACK", predicate=self._ours(mission_type)) as box:
            request = mavlink.MAVLink_mission_clear_all_message(ch.sysid, ch.compid, mission_type)
            self._exchange(
                box, request, ch.timebase.patience(self.stall_timeout), "clear: not acknowledged"
            )

    def upload_verified(
        self, items: list[MissionItem], mission_type: int = MISSION
    ) -> TransferStats:
        """Upload, read back and compare; raises with the differences if they are not equal.
        Over MAVLink FTP where the vehicle offers it; the mission protocol otherwise, or when
        FTP fails (``stats.note`` says why). A read-back that differs is final either way."""
        started = time.monotonic()
        client = self.ftp()
        try:
            if client is None:
                raise FtpError(self.ftp_note if self.use_ftp else "")
            resent = client.resent
            back = self._upload_ftp(items, mission_type)
            stats = TransferStats(items=len(items), resent=client.resent - resent, path="ftp")
        except FtpError as exc:
            if client is not None:
                self._ftp_failed(exc)
            try:
                stats = self.upload(items, mission_type)
                back = self._download_items(mission_type)
            except MissionTransferError as failed:
                if self.ftp_note:
                    raise MissionTransferError(f"{failed} ({self.ftp_note})") from failed
                raise
            stats.note = self.ftp_note
        differences = compare(items, back, mission_type)
        if differences:
            shown = "; ".join(differences[:3])
            more = f" (+{len(differences) - 3} more)" if len(differences) > 3 else ""
            if stats.path == "ftp" and len(back) < len(items):
                more += (
                    ": it acknowledged the whole file and dropped, without a word, what did not"
                    " fit in its storage; split the sortie"
                )
            raise MissionTransferError(
                f"{TYPE_NAMES[mission_type]} read-back differs from upload {stats.way()}: "
                f"{shown}{more}"
            )
        stats.seconds = time.monotonic() - started
        self.last_stats = stats
        return stats
