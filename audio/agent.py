"""The onboard broadcast agent: plays a zone's playlist while the aircraft is over that zone.

It runs on the companion computer next to the loudspeaker, holds the plan bundle and its audio,
and reads the aircraft's position from its own MAVLink connection, so broadcasting goes on when
the ground link is gone. Every play is appended to a JSON-lines log for the patrol report."""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from audio.clock import AgentClock
from audio.plan import BroadcastPlan, PlanError, PriorityMessage, load_bundle
from audio.position import Position, PositionSource
from audio.sinks import Playback, Sink, SinkError
from audio.zones import TrackedZone, ZoneTracker

log = logging.getLogger(__name__)

STALE_POSITION_S = 5.0  # aircraft seconds without a new fix before the agent stops playing
TICK_S = 0.1  # aircraft seconds between decisions


class PlayLog:
    """Appends one JSON object per play and makes it durable before returning."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, record: dict) -> None:
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())


@dataclass
class _Cursor:
    """Where a zone visit is in its playlist."""

    index: int = 0
    passes: int = 0
    next_at: float = 0.0  # aircraft seconds: not before the gap has passed


@dataclass
class _Current:
    playback: Playback
    record: dict
    zone: str
    priority: PriorityMessage | None


@dataclass
class _Pending:
    message: PriorityMessage
    remaining: int


@dataclass
class _PlanFile:
    stat: tuple[int, int, int] | None = None
    # completed plays per priority message id, kept across reloads so that a new plan file
    # does not start a half-done priority message's repeats again
    priority_plays: dict[str, int] = field(default_factory=dict)


class BroadcastAgent:
    def __init__(
        self,
        plan_path: Path,
        source: PositionSource,
        sink: Sink,
        log_path: Path,
        cache_dir: Path,
        clock: AgentClock,
    ) -> None:
        self.plan_path = Path(plan_path)
        self.source = source
        self.sink = sink
        self.play_log = PlayLog(log_path)
        self.cache_dir = Path(cache_dir)
        self.clock = clock
        self.plan: BroadcastPlan | None = None
        self._tracker: ZoneTracker | None = None
        self._file = _PlanFile()
        self._pending: dict[str, _Pending] = {}
        self._current: _Current | None = None
        self._zone: str | None = None
        self._cursor = _Cursor()
        self._last_fix: tuple[int, float] | None = None  # (time_boot_ms, clock.elapsed())
        self._position: Position | None = None
        self.load_plan()
        if self.plan is None:
            raise PlanError([f"{self.plan_path}: no usable broadcast plan"])

    # -- plan -----------------------------------------------------------------------------------

    def load_plan(self) -> bool:
        """(Re)load the bundle when it changed on disk. A bad new bundle is reported and the
        plan in use is kept. Returns True when a new plan was taken."""
        try:
            st = self.plan_path.stat()
        except FileNotFoundError:
            return False
        stat = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stat == self._file.stat:
            return False
        self._file.stat = stat
        try:
            plan = load_bundle(self.plan_path, self.cache_dir)
        except PlanError as exc:
            log.error("plan %s not loaded, keeping the one in use: %s", self.plan_path, exc)
            return False
        if self._current is not None:
            self._stop_current("plan-reloaded")
        self.plan = plan
        self._quiet = plan.quiet
        self._tracker = ZoneTracker(
            [TrackedZone(z.name, z.polygon, z.priority) for z in plan.zones], plan.hysteresis_m
        )
        self._zone = None
        self._cursor = _Cursor()
        played = self._file.priority_plays
        self._pending = {
            p.id: _Pending(p, p.repeat - played.get(p.id, 0))
            for p in plan.priority_messages
            if p.repeat > played.get(p.id, 0)
        }
        log.info("broadcast plan %r loaded: %d zones", plan.name, len(plan.zones))
        return True

    # -- the loop -------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                self.step()
                self.clock.sleep(TICK_S)
        finally:
            if self._current is not None:
                self._stop_current("shutdown")
            self.sink.close()

    def step(self) -> None:
        """One decision: reload, locate, then stop, continue or start a play."""
        self.load_plan()
        assert self.plan is not None and self._tracker is not None
        now = self.clock.elapsed()
        zone = self._locate(now)
        if zone != self._zone:
            self._zone = zone
            self._cursor = _Cursor(next_at=now)
        quiet = self._quiet.is_quiet(self.clock.now())

        if self._current is not None:
            cur = self._current
            try:
                done = cur.playback.finished()
            except SinkError as exc:  # the speaker failed: log it and carry on
                log.error("playback of %r failed: %s", cur.record["title"], exc)
                self._log(cur, finished=False, reason=f"sink-error: {exc}", heard_s=0.0)
                self._current = None
                self._cursor.next_at = now + self.plan.zone(cur.zone).playlist.gap_s
            else:
                if done:
                    self._finish_current(now)
                else:
                    self._check_interrupt(cur, zone, quiet, now)
        if self._current is None and zone is not None:
            self._start_next(zone, quiet, now)

    def _check_interrupt(self, cur: _Current, zone: str | None, quiet: bool, now: float) -> None:
        reason = None
        if zone != cur.zone:
            reason = "left-zone" if self._position_fresh(now) else "position-lost"
        elif quiet and not (cur.priority and cur.priority.override_quiet):
            reason = "quiet-hours"
        elif cur.priority is None and self._due_priority(zone, quiet):
            reason = "priority"
        if reason:
            self._stop_current(reason)

    def _locate(self, now: float) -> str | None:
        assert self._tracker is not None
        pos = self.source.latest()
        if pos is not None and (self._last_fix is None or pos.time_boot_ms != self._last_fix[0]):
            self._last_fix = (pos.time_boot_ms, now)
            self._position = pos
            return self._tracker.update(pos.lat, pos.lon)
        if not self._position_fresh(now):
            self._tracker.current = None
            return None
        return self._tracker.current

    def _position_fresh(self, now: float) -> bool:
        return self._last_fix is not None and now - self._last_fix[1] <= STALE_POSITION_S

    def _due_priority(self, zone: str | None, quiet: bool) -> _Pending | None:
        if zone is None:
            return None
        for pending in self._pending.values():
            p = pending.message
            if (not p.zones or zone in p.zones) and (not quiet or p.override_quiet):
                return pending
        return None

    def _start_next(self, zone: str, quiet: bool, now: float) -> None:
        assert self.plan is not None
        if now < self._cursor.next_at:  # the gap after the last play
            return
        pending = self._due_priority(zone, quiet)
        if pending is not None:
            self._start(pending.message.message, zone, pending.message)
            return
        playlist = self.plan.zone(zone).playlist
        if quiet:
            return
        if not playlist.loop and self._cursor.passes >= playlist.count:
            return
        self._start(playlist.messages[self._cursor.index], zone, None)

    def _start(self, message_id: int, zone: str, priority: PriorityMessage | None) -> None:
        assert self.plan is not None
        message = self.plan.messages[message_id]
        volume = self.plan.zone(zone).playlist.volume
        pos = self._position
        record = {
            "plan": self.plan.name,
            "zone": zone,
            "message_id": message.id,
            "title": message.title,
            "priority_id": priority.id if priority else None,
            "start": self.clock.now().isoformat(),
            "start_position": _position_json(pos),
            "volume": volume,
        }
        playback = self.sink.play(
            message.path, message.duration_s, volume, f"{zone}-{message.title}"
        )
        self._current = _Current(playback, record, zone, priority)
        log.info("playing %r in zone %r", message.title, zone)

    def _finish_current(self, now: float) -> None:
        cur = self._current
        assert cur is not None and self.plan is not None
        self._log(cur, finished=True, reason="completed", heard_s=cur.playback.stop())
        zone = self.plan.zone(cur.zone)
        if cur.priority is not None:
            played = self._file.priority_plays
            played[cur.priority.id] = played.get(cur.priority.id, 0) + 1
            pending = self._pending[cur.priority.id]
            pending.remaining -= 1
            if pending.remaining <= 0:
                del self._pending[cur.priority.id]
        else:
            self._cursor.index += 1
            if self._cursor.index >= len(zone.playlist.messages):
                self._cursor.index = 0
                self._cursor.passes += 1
        self._cursor.next_at = now + zone.playlist.gap_s
        self._current = None

    def _stop_current(self, reason: str) -> None:
        cur = self._current
        assert cur is not None
        heard = cur.playback.stop()
        self._log(cur, finished=False, reason=reason, heard_s=heard)
        self._current = None  # the cursor stays: the interrupted message plays again

    def _log(self, cur: _Current, *, finished: bool, reason: str, heard_s: float) -> None:
        record = dict(cur.record)
        record.update(
            end=self.clock.now().isoformat(),
            end_position=_position_json(self._position),
            heard_s=round(heard_s, 3),
            finished=finished,
            reason=reason,
        )
        self.play_log.append(record)
        log.info("play of %r ended: %s", record["title"], reason)


def _position_json(pos: Position | None) -> dict | None:
    if pos is None:
        return None
    return {"lat": pos.lat, "lon": pos.lon, "alt_m": pos.alt_m, "time_boot_ms": pos.time_boot_ms}
