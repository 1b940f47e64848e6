"""SimFleet: N simulated copters stepped by one loop thread, all I/O on one selector."""

from __future__ import annotations

import logging
import selectors
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sim.faults import Faults
from sim.handlers import Handler
from sim.link import Channel
from sim.vehicle import Vehicle

log = logging.getLogger(__name__)

SERIAL_OFFSETS = (0, 2, 3)  # SITL: SERIAL0 5760, SERIAL1 5762, SERIAL2 5763 (+10 per instance)


def parse_key(key: str | bytes | None) -> bytes | None:
    """A signing key from 32 raw bytes, 64 hex digits or a passphrase (SHA-256, as MAVProxy)."""
    if key is None or (isinstance(key, bytes) and len(key) == 32):
        return key
    if isinstance(key, bytes):
        key = key.decode()
    try:
        raw = bytes.fromhex(key)
        if len(raw) == 32:
            return raw
    except ValueError:
        pass
    import hashlib

    return hashlib.sha256(key.encode()).digest()


class SimFleet:
    """``count`` copters; vehicle i has sysid i+1 and TCP ports base_port+10*i+(0, 2, 3).

    Time: one loop thread steps every vehicle at ``rate_hz`` of simulated time, with simulated
    time = wall time x ``speedup`` (the clock slips, lowering the real-time factor, when the
    machine cannot keep up). ``boot_time_scale`` shortens the boot milestones (GPS, home, EKF
    position at 41.6 s in SITL); 1.0 keeps SITL's timing. ``start_time`` (unix seconds, as
    SITL's ``--start-time``) is the UTC time the vehicles' GPS reports at boot; default now.
    """

    def __init__(
        self,
        count: int = 1,
        home: tuple[float, float, float, float] = (27.57, 119.71, 200.0, 0.0),
        speedup: float = 1.0,
        base_port: int = 5760,
        state_dir: Path | str | None = None,
        gcs_udp: tuple[str, int] | str | None = None,
        host: str = "127.0.0.1",
        signing_key: str | bytes | None = None,
        rate_hz: float = 50.0,
        boot_time_scale: float = 1.0,
        start_time: float | None = None,
    ):
        if count < 1:
            raise ValueError("count must be at least 1")
        if speedup <= 0:
            raise ValueError("speedup must be positive")
        self._speedup = float(speedup)
        self.dt = 1.0 / rate_hz
        self.selector = selectors.DefaultSelector()
        self.lock = threading.RLock()
        self.sim_time = 0.0
        self.slipped_s = 0.0  # simulated seconds the clock gave up when the CPU fell behind
        self.steps = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started_wall = 0.0
        self._anchor = (0.0, 0.0)  # (sim time, wall time) the clock runs from
        if isinstance(gcs_udp, str):
            udp_host, _, udp_port = gcs_udp.rpartition(":")
            gcs_udp = (udp_host or "127.0.0.1", int(udp_port))
        state = Path(state_dir) if state_dir is not None else None
        key = parse_key(signing_key)
        self.vehicles: list[Vehicle] = []
        try:
            for i in range(count):
                vehicle = Vehicle(
                    i, home, state, signing_key=key, boot_time_scale=boot_time_scale,
                    start_time=start_time,
                )  # fmt: skip
                handler = Handler(vehicle)
                for n, off in enumerate(SERIAL_OFFSETS):
                    port = 0 if base_port == 0 else base_port + 10 * i + off
                    # Injected link faults act on the ground link (SERIAL0); a companion
                    # computer's port (SERIAL1/2) has its own, clean Faults in channel.faults.
                    faults = vehicle.faults if n == 0 else Faults(seed=vehicle.index * 10 + n)
                    channel = Channel(
                        n, vehicle.sysid, host, port, self.selector, faults,
                        lambda v=vehicle: v.sim_time, handler,
                        udp_out=gcs_udp if n == 0 else None,
                    )  # fmt: skip
                    vehicle.channels.append(channel)
                    channel.set_signing(vehicle.signing_key, vehicle.signing_timestamp)
                if key is not None:
                    vehicle.save_signing()
                vehicle.on_speedup = self.set_speedup
                vehicle.params.values["SIM_SPEEDUP"] = self._speedup
                self.vehicles.append(vehicle)
        except Exception:
            self._close()
            raise

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> SimFleet:
        if self._thread is None:
            self._started_wall = time.monotonic()
            self._anchor = (self.sim_time, self._started_wall)
            self._thread = threading.Thread(target=self._run, name="sim-loop", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._close()

    def _close(self) -> None:
        for vehicle in getattr(self, "vehicles", []):
            for channel in vehicle.channels:
                channel.close()
            vehicle.params.save()
        self.selector.close()

    def __enter__(self) -> SimFleet:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- the clock --------------------------------------------------------------------------------
    @property
    def speedup(self) -> float:
        return self._speedup

    def set_speedup(self, speedup: float) -> None:
        """Change simulated time per wall second from now on (SITL's SIM_SPEEDUP)."""
        if speedup <= 0:
            raise ValueError("speedup must be positive")
        with self.lock:
            self._anchor = (self.sim_time, time.monotonic())
            self._speedup = float(speedup)
            for vehicle in self.vehicles:
                vehicle.params.values["SIM_SPEEDUP"] = float(speedup)

    def _target(self) -> float:
        sim0, wall0 = self._anchor
        return sim0 + (time.monotonic() - wall0) * self._speedup

    # -- the loop ---------------------------------------------------------------------------------
    def _handle_input(self, events) -> None:
        for key, _ in events:
            channel, client = key.data
            try:
                channel.on_readable(client)
            except Exception:  # bad input must not stop the fleet
                log.exception("sysid %d: handling input failed", channel.sysid)

    def _step_all(self) -> None:
        self.sim_time += self.dt
        self.steps += 1
        for vehicle in self.vehicles:
            try:
                vehicle.step(self.dt)
            except Exception:  # one faulty vehicle must not stop the fleet
                log.exception("sysid %d: step failed", vehicle.sysid)

    def _pump_all(self) -> None:
        for vehicle in self.vehicles:
            for channel in vehicle.channels:
                channel.pump()

    def _run(self) -> None:
        dt = self.dt
        wait = 0.0  # input first: a client connected before start() sees the first heartbeat
        while not self._stop.is_set():
            events = self.selector.select(timeout=wait)
            with self.lock:
                self._handle_input(events)
                target = self._target()
                max_catch_up = max(1, int(0.25 * self._speedup / dt))  # 0.25 wall s backlog
                n = 0
                while self.sim_time + dt <= target and n < max_catch_up:
                    if n:  # read what arrived meanwhile, so a backlog never starves input
                        self._handle_input(self.selector.select(timeout=0))
                    self._step_all()
                    n += 1
                if n == max_catch_up and self.sim_time + dt <= target:
                    # cannot keep up: slip the clock rather than burst (real-time factor drops)
                    self.slipped_s += target - self.sim_time
                    self._anchor = (self.sim_time, time.monotonic())
                self._pump_all()
            wait = min(max((self.sim_time + dt - self._target()) / self._speedup, 0.0), 0.02)

    def advance(self, sim_seconds: float) -> None:
        """Lock-step mode: run ``sim_seconds`` of simulated time from the calling thread, as
        fast as the CPU allows, handling socket input between steps. Deterministic; only for a
        fleet whose loop thread was not started."""
        if self._thread is not None:
            raise RuntimeError("advance() is for a fleet that was not start()ed")
        end = self.sim_time + sim_seconds
        while self.sim_time + self.dt <= end + 1e-9:
            self._handle_input(self.selector.select(timeout=0))
            self._step_all()
            self._pump_all()
        self._handle_input(self.selector.select(timeout=0))
        self._pump_all()

    # -- helpers for tests ---------------------------------------------------------------------
    def wait_for(
        self, predicate: Callable[[], object], sim_timeout: float, poll_s: float = 0.002
    ) -> object:
        """Wait until ``predicate()`` is truthy; raise TimeoutError after ``sim_timeout``
        simulated seconds."""
        start = self.sim_time
        wall_limit = time.monotonic() + sim_timeout / self._speedup * 4 + 10
        while True:
            with self.lock:
                value = predicate()
            if value:
                return value
            if self.sim_time - start > sim_timeout or time.monotonic() > wall_limit:
                raise TimeoutError(f"condition not met within {sim_timeout} simulated seconds")
            time.sleep(poll_s)

    def real_time_factor(self) -> float:
        """Simulated seconds per wall second achieved since start()."""
        wall = time.monotonic() - self._started_wall
        return self.sim_time / wall if self._thread is not None and wall > 0 else 0.0
