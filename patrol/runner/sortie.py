"""One sortie's life on one vehicle: preflight, launch, monitor, operator requests, link loss,
finish; or re-attach to a vehicle already flying it.

The runner never re-sends arm or mode commands on its own after launch: the aircraft flies its
mission and its own failsafes, the runner watches, records and reports. Only an operator request
(pause, continue, RTL, land) makes it command the aircraft again.

Once the aircraft is armed the runner never stops watching it on its own: only the operator
detaches (Ctrl-C, quit watching), or the aircraft lands and disarms. When a launch fails after
arming, the runner brings the aircraft down as an operator would and watches it to the ground:
in the air, LAND (the launch climbs straight up over home, so it comes down where it took off;
RTL instead if it has drifted more than ``DRIFT_FOR_RTL_M`` from home); on the ground, disarm.
That command is retried while the aircraft stays armed and has not been brought down."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from dataclasses import dataclass

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from missions.items import MISSION, Mission
from patrol.geodesy import distance
from patrol.runner.preflight import Preflight
from patrol.runner.profile import SiteProfile
from patrol.runner.route import is_waypoint, planned_speed, progress
from patrol.store.models import utcnow
from patrol.store.patrols import PatrolStore, mission_to_json
from patrol.vehicle import Vehicle
from patrol.vehicle.actions import CommandError
from patrol.vehicle.mission_transfer import MissionTransferError, compare
from patrol.vehicle.telemetry import COPTER_MODE_NUMBERS, Event, State

OPERATOR_ACTIONS = ("pause", "continue", "rtl", "land")
HOLD_MODES = {"RTL", "LAND", "SMART_RTL", "BRAKE", "LOITER", "POSHOLD", "ALT_HOLD", "STABILIZE"}
RETURNING_MODES = {"RTL", "SMART_RTL"}
DRIFT_FOR_RTL_M = 10.0  # a failed launch further than this from home comes back by RTL
BRING_DOWN_EVERY = 5.0  # vehicle seconds between attempts to bring a failed launch down
SAVE_DISTANCE_EVERY = 2.0  # wall seconds between writes of the distance flown to the store
ATTACH_DOWNLOADS = 3  # tries to read the mission back when re-attaching
INFER_AFTER = 2.0  # vehicle seconds a MISSION_CURRENT stands before it marks items reached

EXIT_COMPLETED, EXIT_INTERRUPTED, EXIT_FAILED = 0, 3, 4


@dataclass(frozen=True)
class Outcome:
    status: str  # completed, interrupted, failed
    reason: str
    exit_code: int


class LaunchError(Exception):
    pass


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = round(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


class SortieRunner:
    """Flies (or re-attaches to) sortie ``sortie_id`` with ``vehicle``. ``flying`` is the mission
    on (or for) the vehicle and ``seq_map[k]`` the plan seq of its item k."""

    def __init__(
        self,
        store: PatrolStore,
        sortie_id: int,
        vehicle: Vehicle,
        plan: Mission,
        profile: SiteProfile,
        flying: Mission | None = None,
        seq_map: list[int] | None = None,
        say: Callable[[str], None] = print,
        progress_every: float = 1.0,
        flown_before: float = 0.0,
    ) -> None:
        self.store = store
        self.sortie_id = sortie_id
        self.vehicle = vehicle
        self.plan = plan
        self.flying = flying or plan
        self.seq_map = seq_map or list(range(len(self.flying.items)))
        self.profile = profile
        self.label = f"v{vehicle.sysid}"
        self._say = say
        self.progress_every = progress_every  # wall seconds between progress lines
        self.requests: queue.Queue[str] = queue.Queue()
        self.events: queue.Queue[Event] = queue.Queue()
        self.reached: set[int] = set(store.reached_seqs(sortie_id))  # plan seqs
        self._flown0 = vehicle.telemetry.state.flown_m  # telemetry sums every position report
        self._flown_before = flown_before  # stored for this sortie by an earlier controller
        self._saved_distance = (flown_before, time.monotonic())
        self._launch_failure = ""
        self._brought_down = False
        self._next_bring_down = 0.0
        self._mission_started_at: float | None = None
        self._launch_began = time.monotonic()
        self._current_report: tuple[tuple[int, int | None], float] | None = None
        self.reason = ""
        self._expected_modes: set[str] = set()
        self._link_lost_at: float | None = None
        self._lost_clock: float | None = None
        self._gap_report: tuple[float, float | None, float] | None = None
        self._resync = False
        self._plan_wps = [s for s, i in enumerate(plan.items) if s > 0 and is_waypoint(i)]
        self.last_line = ""
        self._unsubscribe = vehicle.telemetry.subscribe(self.events.put)
        vehicle.actions.on_settled = lambda note: self.record("link", note)

    # -- output and records -----------------------------------------------------------------
    def say(self, text: str) -> None:
        self._say(f"[{self.label}] {text}")

    def record(self, kind: str, detail: str, show: bool = True) -> None:
        self.store.add_event(self.sortie_id, kind, detail)
        if show:
            self.say(detail)

    def _set_status(self, status: str, **fields: object) -> None:
        self.store.update_sortie(self.sortie_id, status=status, **fields)
        self.record("state", f"sortie {status}", show=False)

    def request(self, action: str) -> None:
        """Ask for an operator action (from any thread): pause, continue, rtl or land."""
        if action not in OPERATOR_ACTIONS:
            raise ValueError(f"unknown action {action!r}; one of {', '.join(OPERATOR_ACTIONS)}")
        self.requests.put(action)

    # -- fly --------------------------------------------------------------------------------
    def fly(self) -> Outcome:
        """Preflight, upload, launch and monitor to the end."""
        self.store.update_sortie(
            self.sortie_id,
            sysid=self.vehicle.sysid,
            flying=mission_to_json(self.flying),
            seq_map=self.seq_map,
        )
        self._set_status("preflight")
        self.say("preflight checklist:")
        check = Preflight(self.vehicle, self.flying, self.profile, say=self.say)
        if not check.run():
            failed = "; ".join(f"{c.name}: {c.detail}" for c in check.checks if not c.ok)
            return self._finish("failed", f"preflight failed: {failed}", EXIT_FAILED)
        self.record("state", "preflight passed", show=False)
        try:
            self._launch()
        except (LaunchError, CommandError) as exc:
            return self._launch_failed(f"launch failed: {exc}")
        except Exception as exc:  # a bug must not abandon an armed aircraft either
            return self._launch_failed(f"launch stopped by an internal error: {exc!r}")
        return self._monitor()

    def _launch_failed(self, reason: str) -> Outcome:
        """A launch that cannot go on: over if the aircraft never armed; else bring it down
        and watch it to the ground."""
        state = self.vehicle.telemetry.state
        if not state.armed and not state.in_air:
            return self._finish("failed", reason, EXIT_FAILED)
        self._launch_failure = reason
        self.record("state", f"{reason}; the aircraft is armed: bringing it down and watching it")
        self._bring_down()
        return self._monitor()

    def _bring_down(self) -> None:
        """After a failed launch: LAND (or RTL when it drifted from home) in the air, disarm on
        the ground. A failure is reported and retried by the monitor."""
        v = self.vehicle
        state = v.telemetry.state
        self._next_bring_down = time.monotonic() + v.timebase.wall(BRING_DOWN_EVERY)
        if not state.armed:
            self._brought_down = True
            return
        if state.in_air and state.mode_name in RETURNING_MODES | {"LAND"}:
            self._brought_down = True  # its own failsafe already brings it home: never undone
            self.record("state", f"the vehicle comes down by itself ({state.mode_name})")
            return
        if state.in_air:
            pos, home = state.position, self.flying.home
            drift = distance(pos.lat, pos.lon, home.lat, home.lon) if pos else 0.0
            action = "rtl" if drift > DRIFT_FOR_RTL_M else "land"
            self._expected_modes = {action.upper()}
        else:
            action = "disarm"
        try:
            if action == "disarm":
                v.actions.disarm()
            else:
                self._perform(action, self.profile.pause_method)
        except CommandError as exc:
            self.record("state", f"{action} after the failed launch failed: {exc}; retrying")
            return
        self._brought_down = True
        self.record("state", f"{action.upper()} commanded after the failed launch")

    def _launch(self) -> None:
        actions, state = self.vehicle.actions, self.vehicle.telemetry.state
        self._launch_began = time.monotonic()
        self._expected_modes = {"GUIDED"}
        actions.set_mode("GUIDED")
        self.vehicle.telemetry.wait(lambda s: s.prearm_ok is not False, self.profile.prearm_timeout)
        if state.prearm_ok is False:
            reasons = actions.prearm_reasons() or ["pre-arm checks failing (no reason given)"]
            raise LaunchError("; ".join(reasons))
        takeoff = next(
            (i for i in self.flying.items if i.command == mavlink.MAV_CMD_NAV_TAKEOFF), None
        )
        altitude = takeoff.alt if takeoff else 10.0
        for attempt in (1, 2):
            actions.arm()
            self.record("state", "armed")
            self._set_status("flying", started_at=utcnow())
            try:
                actions.takeoff(altitude)
                break
            except CommandError:
                # ArduCopter disarms by itself DISARM_DELAY s after arming without a takeoff;
                # if that is why the takeoff was refused, arm once more (state, not guesswork)
                if attempt == 2 or state.armed:
                    raise
                self.record("state", "disarmed itself before the takeoff; arming again")
        self.record("state", f"takeoff to {altitude:g} m")
        climb_time = altitude / 1.0 + 30.0
        guided = COPTER_MODE_NUMBERS["GUIDED"]

        def climbed_or_interrupted(s: State) -> bool:
            reached = s.position is not None and s.position.alt_rel >= altitude * 0.9
            return reached or not s.armed or s.mode != guided

        self.vehicle.telemetry.wait(climbed_or_interrupted, climb_time)
        if state.mode != guided or not state.armed:
            # a failsafe, the fence or a pilot took over: never undone by the runner
            why = self._latest_failsafe()
            now = f"switched to {state.mode_name}" if state.armed else "disarmed"
            raise LaunchError(f"the vehicle {now} during the climb{why}")
        if not climbed_or_interrupted(state):
            raise LaunchError(f"did not reach {altitude * 0.9:.0f} m in {climb_time:.0f} s")
        self._expected_modes = {"AUTO"}
        actions.start_mission()
        self._mission_started_at = time.monotonic()
        self.record("state", "mission started (AUTO)")

    def _latest_failsafe(self) -> str:
        """`` (TEXT)`` of the vehicle's last failsafe or breach STATUSTEXT in this sortie."""
        texts = [
            text
            for text in self.vehicle.telemetry.texts_since(self._launch_began)
            if ("failsafe" in text.lower() or "breach" in text.lower())
            and "cleared" not in text.lower()
        ]
        return f" ({texts[-1]})" if texts else ""

    # -- re-attach --------------------------------------------------------------------------
    def attach(self) -> Outcome:
        """Take over watching a vehicle that flies this sortie (after a controller restart):
        check it holds our mission, catch up on progress, then monitor. Sends no commands."""
        v = self.vehicle
        if not v.wait_heartbeat(10.0):
            return self._finish("failed", "re-attach: no heartbeat", EXIT_FAILED, store=False)
        v.telemetry.request_streams()
        held, error = None, ""
        for _attempt in range(ATTACH_DOWNLOADS):
            try:
                held = v.missions.download(MISSION)
                break
            except MissionTransferError as exc:
                error = str(exc)
        if held is None:
            # an armed aircraft is watched even when its mission cannot be read back
            self.record("link", f"re-attach: the mission could not be read back ({error}); "
                        "watching without checking it")  # fmt: skip
        differences = compare(self.flying.items, held, MISSION) if held is not None else []
        if differences:
            return self._finish(
                "failed",
                f"re-attach: vehicle {v.sysid} holds a different mission ({differences[0]})",
                EXIT_FAILED,
                store=False,
            )
        self.record(
            "state", f"re-attached to vehicle {v.sysid} (mode {v.telemetry.state.mode_name})"
        )
        self._resync = True
        self._mission_started_at = time.monotonic()
        return self._monitor()

    # -- monitor ----------------------------------------------------------------------------
    def _monitor(self) -> Outcome:
        v = self.vehicle
        state = v.telemetry.state
        tick = min(0.1, v.timebase.wall(0.5))
        seen_armed = state.armed
        next_line = 0.0
        failing = ""
        while True:
            try:
                self._watch_once()
                now = time.monotonic()
                if now >= next_line:
                    self.last_line = self.progress_line()
                    self.say(self.last_line)
                    next_line = now + self.progress_every
                    self._save_distance()
                failing = ""
            except Exception as exc:  # a store or runner bug must not end the watch
                if repr(exc) != failing:
                    failing = repr(exc)
                    self.say(f"still watching despite an internal error: {failing}")
            if state.armed:
                seen_armed = True
            if seen_armed and self._link_lost_at is None and not state.armed and not state.in_air:
                break
            if not seen_armed and self._link_lost_at is None and not state.armed:
                # re-attached to a vehicle that is already down
                break
            time.sleep(tick)
        self._drain_events()
        return self._landed()

    def _watch_once(self) -> None:
        self._drain_events()
        self._link_check()
        self._operator()
        if self._link_lost_at is None:
            if self._resync:
                self._catch_up()
            elif self._mission_started_at is not None:
                self._follow_mission_current()
            if (
                self._launch_failure
                and not self._brought_down
                and time.monotonic() >= self._next_bring_down
            ):
                self._bring_down()

    def _save_distance(self) -> None:
        """Keep the distance flown in the store while flying, so that a controller restarted
        after a crash carries it on (``patrol resume``)."""
        flown, at = self._saved_distance
        now = time.monotonic()
        if abs(self.odometer - flown) >= 1.0 and now - at >= SAVE_DISTANCE_EVERY:
            self.store.update_sortie(self.sortie_id, distance_m=self.odometer)
            self._saved_distance = (self.odometer, now)

    def _landed(self) -> Outcome:
        if self._launch_failure:
            return self._finish(
                "failed", f"{self._launch_failure}; landed and disarmed", EXIT_FAILED
            )
        missing = [s for s in self._plan_wps if s not in self.reached]
        if not missing:
            return self._finish("completed", "patrol route completed, landed and disarmed", 0)
        reason = self.reason or "landed before the route was completed"
        last = max((s for s in self.reached if s in self._plan_wps), default=None)
        return self._finish(
            "interrupted",
            f"{reason}; {len(missing)} of {len(self._plan_wps)} waypoints not reached "
            f"(last reached item {last}); continue with: patrol resume",
            EXIT_INTERRUPTED,
        )

    def _finish(self, status: str, reason: str, code: int, store: bool = True) -> Outcome:
        if store:
            self.store.update_sortie(
                self.sortie_id,
                status=status,
                reason=reason,
                ended_at=utcnow(),
                distance_m=self.odometer,
            )
            self.record("state", f"sortie {status}: {reason}")
        else:
            self.say(reason)
        self._unsubscribe()
        return Outcome(status, reason, code)

    # -- watchers ---------------------------------------------------------------------------
    def _drain_events(self) -> None:
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                return
            self._on_event(event)

    def _on_event(self, event: Event) -> None:
        state = self.vehicle.telemetry.state
        if event.kind == "reached":
            self._mark_reached(int(event.value))
        elif event.kind == "statustext":
            text = event.text
            if "failsafe" in text.lower() or "breach" in text.lower():
                if "cleared" not in text.lower():
                    self.reason = text
                self.record("failsafe", text)
            elif int(event.value) <= mavlink.MAV_SEVERITY_WARNING:
                self.record("statustext", text)
            else:
                self.record("statustext", text, show=False)
        elif event.kind == "mode":
            name = state.mode_name
            if name in self._expected_modes:
                self.record("mode", event.text, show=False)
            else:
                # the aircraft changed mode itself (failsafe, fence, RC): report, never undo
                self.record("mode", f"{event.text} (by the vehicle)")
                if name in HOLD_MODES and not self.reason:
                    self.reason = f"vehicle switched to {name}"
        elif event.kind in ("armed", "landed"):
            # arming is reported by the launch; a disarm (landing, failsafe) is news
            self.record(event.kind, event.text, show=event.text == "disarmed")

    def _mark_reached(self, flying_seq: int, inferred: bool = False) -> None:
        """Item ``flying_seq`` reached: it and every waypoint before it (ArduPilot reports the
        end of a LOITER_TIME with the next item's seq). ``inferred``: known from MISSION_CURRENT,
        not heard as MISSION_ITEM_REACHED, so no position is recorded for any of them."""
        pos = self.vehicle.telemetry.state.position
        for seq in range(1, min(flying_seq, len(self.seq_map) - 1) + 1):
            plan_seq = self.seq_map[seq]
            is_target = seq == flying_seq and not inferred
            if plan_seq in self.reached or not (
                seq == flying_seq or is_waypoint(self.flying.items[seq])
            ):
                continue
            self.reached.add(plan_seq)
            lat, lon = (pos.lat, pos.lon) if pos and is_target else (None, None)
            if self.store.add_reached(self.sortie_id, plan_seq, lat, lon, inferred=not is_target):
                self.record("reached", f"reached item {plan_seq}", show=False)

    def _catch_up(self) -> None:
        """After a link gap or re-attach: waypoints before MISSION_CURRENT were reached."""
        state = self.vehicle.telemetry.state
        if state.mission_seq is None:
            return
        self._resync = False
        current = state.mission_seq
        if current > 0 and state.mission_state != mavlink.MISSION_STATE_COMPLETE:
            self._mark_reached(current - 1, inferred=True)
        elif state.mission_state == mavlink.MISSION_STATE_COMPLETE:
            self._mark_reached(len(self.flying.items) - 1, inferred=True)
        self.record(
            "link",
            f"re-synced: mode {state.mode_name}, {'armed' if state.armed else 'disarmed'}, "
            f"mission item {current}",
        )

    def _follow_mission_current(self) -> None:
        """Waypoints before the item MISSION_CURRENT reports were reached, even when their
        MISSION_ITEM_REACHED was lost on the way (a lossy radio): only reports heard after the
        mission started count, and a finished mission reached every item. A report is acted on
        once it has stood for ``INFER_AFTER`` vehicle seconds, so that a MISSION_ITEM_REACHED on
        its way (which records where the item was reached) is not pre-empted."""
        state = self.vehicle.telemetry.state
        heard = state.mission_current_at
        if heard is None or state.mission_seq is None or heard <= self._mission_started_at:
            return
        now = time.monotonic()
        report = (state.mission_seq, state.mission_state)
        if self._current_report is None or self._current_report[0] != report:
            self._current_report = (report, now)
        if now - self._current_report[1] < self.vehicle.timebase.wall(INFER_AFTER):
            return
        if state.mission_state == mavlink.MISSION_STATE_COMPLETE:
            self._mark_reached(len(self.flying.items) - 1, inferred=True)
        elif state.mission_seq > 1:
            self._mark_reached(state.mission_seq - 1, inferred=True)

    def _link_check(self) -> None:
        telemetry = self.vehicle.telemetry
        lost = telemetry.link_silent(self.profile.link_lost_after)
        if lost and self._link_lost_at is None:
            # the silence began with the last heartbeat heard
            self._link_lost_at = telemetry.state.heartbeat_at or time.monotonic()
            self._lost_clock = telemetry.vehicle_time()
            self._gap_report = None
            self.record("link", "link lost: the aircraft follows its own failsafe; retrying")
        elif not lost and self._link_lost_at is not None:
            self._gap_report = (self._link_lost_at, telemetry.vehicle_time(), time.monotonic())
            self._link_lost_at = None
            telemetry.state.mission_seq = None  # wait for a fresh MISSION_CURRENT
            telemetry.request_streams()
            self._resync = True
        if self._gap_report is not None:
            self._report_gap()

    def _report_gap(self) -> None:
        """Say how long the link was silent, by the vehicle's clock: the last timestamped
        message before the gap against the first after it (nominal scale as a fallback)."""
        lost_at, _clock, restored_at = self._gap_report
        seen = self.vehicle.telemetry.last_clock_gap
        tb = self.vehicle.timebase
        if seen is not None and self._lost_clock is not None and seen[0] >= self._lost_clock:
            gap = seen[1] - seen[0]
        elif time.monotonic() - restored_at > tb.wall(2.0):
            gap = tb.vehicle(restored_at - lost_at)
        else:
            return
        self._gap_report = None
        self.record("link", f"link restored after {gap:.1f} s of silence")

    def _operator(self) -> None:
        while True:
            try:
                action = self.requests.get_nowait()
            except queue.Empty:
                return
            if self._link_lost_at is not None:
                self.record("operator", f"{action} not sent: link down")
                continue
            method = self.profile.pause_method.upper()
            mode = {"pause": method, "continue": "AUTO", "rtl": "RTL", "land": "LAND"}[action]
            self._expected_modes = {mode} if mode != "PAUSE" else {"AUTO"}
            try:
                self._perform(action, method)
            except CommandError as exc:
                self.record("operator", f"{action} failed: {exc}")
                continue
            if action in ("rtl", "land"):
                self.reason = f"operator {action.upper()}"
            self.record("operator", f"operator: {action} done")

    def _perform(self, action: str, pause_method: str) -> None:
        actions = self.vehicle.actions
        if action == "pause":
            actions.pause(pause_method)
        elif action == "continue":
            actions.resume_mission()
        elif action == "rtl":
            actions.rtl()
        else:
            actions.land()

    @property
    def odometer(self) -> float:
        """Metres flown armed in this sortie, from every position the vehicle reported, plus
        what an earlier controller stored for it (a re-attach, or a resumed route)."""
        return self._flown_before + self.vehicle.telemetry.state.flown_m - self._flown0

    def progress_line(self) -> str:
        state = self.vehicle.telemetry.state
        pos = state.position
        speed = pos.ground_speed if pos else None
        mode = state.mode_name
        toward = "home" if mode in RETURNING_MODES else "here" if mode == "LAND" else "route"
        prog = progress(
            self.plan,
            self.reached,
            pos.lat if pos else None,
            pos.lon if pos else None,
            speed if speed and speed > 1.0 else planned_speed(self.plan),
            toward=toward,
        )
        current = state.mission_seq
        plan_seq = (
            self.seq_map[current] if current is not None and current < len(self.seq_map) else "?"
        )
        volts = f"{state.voltage:.1f} V" if state.voltage is not None else "? V"
        pct = f" {state.battery_remaining}%" if state.battery_remaining is not None else ""
        link = " | LINK LOST" if self._link_lost_at is not None else ""
        return (
            f"item {plan_seq}/{len(self.plan.items) - 1} | waypoints {prog.reached}/{prog.total}"
            f" | flown {self.odometer:.0f} m, left {prog.left_m:.0f} m | {volts}{pct}"
            f" | {state.mode_name}{' armed' if state.armed else ''}"
            f" | alt {pos.alt_rel if pos else 0:.0f} m | ETA {format_duration(prog.eta_s)}{link}"
        )
