"""A patrol: one sortie per vehicle, flown side by side (one thread each), recorded in the store.
``fly`` starts a new patrol; ``resume`` continues one from the store: it re-attaches to vehicles
still flying, and flies the rest of the route on vehicles that landed early."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from missions.items import Mission
from patrol.runner.connect import ConnectError, LinkOptions, LinkPool
from patrol.runner.profile import SiteProfile
from patrol.runner.route import RouteError, is_waypoint, resume_mission
from patrol.runner.sortie import EXIT_FAILED, Outcome, SortieRunner
from patrol.store.models import Sortie
from patrol.store.patrols import PatrolStore, mission_from_json
from patrol.vehicle import Vehicle


@dataclass(frozen=True)
class SortieSpec:
    connect: str
    plan_path: str
    mission: Mission


class PatrolRun:
    """Runs the sorties of one patrol and collects their outcomes."""

    def __init__(
        self,
        store: PatrolStore,
        options: LinkOptions,
        profile: SiteProfile,
        say: Callable[[str], None] = print,
        progress_every: float = 1.0,
    ) -> None:
        self.store = store
        self.options = options
        self.profile = profile
        self.progress_every = progress_every
        self._say_lock = threading.Lock()
        self._say_raw = say
        self.runners: list[SortieRunner] = []
        self.pool = LinkPool(options)
        self._lock = threading.Lock()
        self.patrol_id: int | None = None
        # set by a control channel (patrol.runner.control): claim a vehicle before commanding
        # it (raises ConnectError when another controller has it), release it afterwards
        self.on_vehicle: Callable[[Sortie, Vehicle], None] = lambda _sortie, _vehicle: None
        self.on_sortie_end: Callable[[Sortie], None] = lambda _sortie: None

    def say(self, text: str) -> None:
        with self._say_lock:
            self._say_raw(text)

    def request_all(self, action: str) -> None:
        """An operator action for every sortie flying now."""
        with self._lock:
            runners = list(self.runners)
        for runner in runners:
            runner.request(action)

    # -- entry points -----------------------------------------------------------------------
    def fly(self, name: str, specs: Sequence[SortieSpec]) -> list[Outcome]:
        """Fly one sortie per spec. Raises ConnectError, before anything is stored, when the
        connections name one vehicle twice or give one link two signing keys."""
        self.pool.reserve([s.connect for s in specs])
        patrol = self.store.create_patrol(
            name, [(s.connect, s.plan_path, s.mission) for s in specs]
        )
        self.patrol_id = patrol.id
        self.say(f"patrol {patrol.id}: {len(specs)} sortie(s)")
        return self._run(patrol.sorties, resume=False)

    def resume(self, patrol_id: int, connects: Sequence[str] = ()) -> list[Outcome]:
        """Continue the unfinished sorties of ``patrol_id``; ``connects`` (one per unfinished
        sortie, in order) replaces their stored connections, e.g. after a battery swap."""
        patrol = self.store.get_patrol(patrol_id)
        if patrol is None:
            raise LookupError(f"no patrol {patrol_id} in the store")
        self.patrol_id = patrol_id
        todo = [s for s in patrol.sorties if s.status != "completed"]
        if not todo:
            raise LookupError(f"patrol {patrol_id} is already completed")
        if connects and len(connects) != len(todo):
            raise LookupError(
                f"patrol {patrol_id} has {len(todo)} unfinished sortie(s) but "
                f"{len(connects)} connection(s) were given"
            )
        self.pool.reserve(list(connects) or [s.connect for s in todo])
        if connects:
            for sortie, connect in zip(todo, connects, strict=True):
                self.store.update_sortie(sortie.id, connect=connect)
                sortie.connect = connect
        return self._run(todo, resume=True)

    # -- threads ----------------------------------------------------------------------------
    def _run(self, sorties: Sequence[Sortie], resume: bool) -> list[Outcome]:
        outcomes: list[Outcome | None] = [None] * len(sorties)
        self.store.update_patrol(self.patrol_id, status="flying")

        def work(index: int, sortie: Sortie) -> None:
            outcomes[index] = self._sortie(sortie, resume)

        threads = [
            threading.Thread(target=work, args=(i, s), name=f"sortie-{s.id}", daemon=True)
            for i, s in enumerate(sorties)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        done = [o or Outcome("failed", "sortie thread died", EXIT_FAILED) for o in outcomes]
        statuses = {o.status for o in done}
        status = "completed" if statuses == {"completed"} else sorted(statuses - {"completed"})[0]
        self.store.update_patrol(self.patrol_id, status=status)
        return done

    def _sortie(self, sortie: Sortie, resume: bool) -> Outcome:
        label = f"patrol{self.patrol_id}-sortie{sortie.id}"
        try:
            _link, vehicle, tlog = self.pool.open_vehicle(sortie.connect, label)
        except ConnectError as exc:
            self.store.update_sortie(sortie.id, status="failed", reason=str(exc))
            self.store.add_event(sortie.id, "error", str(exc))
            self.say(f"[sortie {sortie.id}] {exc}")
            return Outcome("failed", str(exc), EXIT_FAILED)
        try:
            try:
                self.on_vehicle(sortie, vehicle)
            except ConnectError as exc:  # another controller commands it: leave its record be
                self.store.add_event(sortie.id, "error", str(exc))
                self.say(f"[sortie {sortie.id}] {exc}")
                return Outcome("failed", str(exc), EXIT_FAILED)
            self.store.update_sortie(sortie.id, tlog=str(tlog.path), sysid=vehicle.sysid)
            speedup = self.pool.settle_speedup(vehicle)
            self.store.add_event(sortie.id, "link", speedup.note)
            self.say(f"[v{vehicle.sysid}] {speedup.note}")
            plan = mission_from_json(sortie.mission)
            try:
                runner = self._runner(sortie, vehicle, plan, resume)
            except RouteError as exc:
                self.store.update_sortie(sortie.id, status="completed", reason=str(exc))
                return Outcome("completed", str(exc), 0)
            with self._lock:
                self.runners.append(runner)
            try:
                if resume and vehicle.wait_heartbeat(10.0) and vehicle.telemetry.state.armed:
                    return runner.attach()
                return runner.fly()
            finally:
                with self._lock:
                    self.runners.remove(runner)
        finally:
            self.on_sortie_end(sortie)
            self.pool.release(vehicle, tlog)

    def _runner(self, sortie: Sortie, vehicle, plan: Mission, resume: bool) -> SortieRunner:
        common = dict(
            say=self.say, progress_every=self.progress_every, flown_before=sortie.distance_m or 0.0
        )
        if not resume:
            return SortieRunner(self.store, sortie.id, vehicle, plan, self.profile, **common)
        armed = vehicle.wait_heartbeat(10.0) and vehicle.telemetry.state.armed
        if armed and sortie.flying:
            # still flying what we uploaded: watch it, do not replan
            flying = mission_from_json(sortie.flying)
            return SortieRunner(
                self.store, sortie.id, vehicle, plan, self.profile, flying=flying,
                seq_map=sortie.seq_map, **common,
            )  # fmt: skip
        flying, seq_map = resume_mission(plan, sortie.last_reached)
        first = next(
            (seq_map[k] for k, item in enumerate(flying.items) if k > 1 and is_waypoint(item)), None
        )
        self.say(
            f"[sortie {sortie.id}] resuming at plan item {first} "
            f"(last reached {sortie.last_reached}): {len(flying.items) - 1} items"
        )
        return SortieRunner(
            self.store, sortie.id, vehicle, plan, self.profile, flying=flying,
            seq_map=seq_map, **common,
        )  # fmt: skip

    def close(self) -> None:
        self.pool.close()
