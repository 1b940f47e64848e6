"""Flying a simulated copter from a test over SERIAL0, with plain pymavlink, like a ground
station would: GUIDED, arm, takeoff, then position targets."""

from __future__ import annotations

import math
import time

from pymavlink import mavutil

GUIDED = 4


class GroundStation:
    def __init__(self, fleet, vehicle) -> None:  # type: ignore[no-untyped-def]
        self.fleet, self.vehicle = fleet, vehicle
        self.conn = mavutil.mavlink_connection(
            f"tcp:127.0.0.1:{vehicle.ports[0]}", source_system=255, source_component=190
        )
        self.conn.wait_heartbeat(timeout=10)
        self.target = (self.conn.target_system, self.conn.target_component)

    def close(self) -> None:
        self.conn.close()

    def heartbeat(self) -> None:
        self.conn.mav.heartbeat_send(
            mavutil.mavlink.MAV_TYPE_GCS, mavutil.mavlink.MAV_AUTOPILOT_INVALID, 0, 0, 0
        )

    def command(self, command: int, *params: float, timeout_wall: float = 5.0) -> int:
        p = [*params, 0, 0, 0, 0, 0, 0, 0][:7]
        self.conn.mav.command_long_send(*self.target, command, 0, *p)
        deadline = time.monotonic() + timeout_wall
        while time.monotonic() < deadline:
            ack = self.conn.recv_match(type="COMMAND_ACK", blocking=True, timeout=0.2)
            if ack is not None and ack.command == command:
                return ack.result
        raise TimeoutError(f"no COMMAND_ACK for command {command}")

    def take_off(self, alt_m: float) -> None:
        mav = mavutil.mavlink
        assert self.command(mav.MAV_CMD_DO_SET_MODE, 1, GUIDED) == 0
        # The vehicle needs ~41 s (sim) for a GPS position before it arms in GUIDED.
        start = self.fleet.sim_time
        while not self._try_arm():
            if self.fleet.sim_time - start > 120:
                raise TimeoutError("the vehicle did not arm within 120 simulated seconds")
            time.sleep(1.0 / self.fleet.speedup)
        assert self.command(mav.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, alt_m) == 0
        self.fleet.wait_for(lambda: self.vehicle.pose().alt_rel > alt_m - 1.0, sim_timeout=60)

    def _try_arm(self) -> bool:
        self.heartbeat()
        return self.command(mavutil.mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1) == 0

    def send_target(self, lat: float, lon: float, alt_m: float) -> None:
        type_mask = 0b0000111111111000  # position only
        self.conn.mav.set_position_target_global_int_send(
            0, *self.target, mavutil.mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, type_mask,
            int(lat * 1e7), int(lon * 1e7), alt_m, 0, 0, 0, 0, 0, 0, 0, 0,
        )  # fmt: skip

    def go_to(self, lat: float, lon: float, alt_m: float, sim_timeout: float = 300) -> None:
        self.send_target(lat, lon, alt_m)

        def arrived() -> bool:
            pose = self.vehicle.pose()
            return distance_m(pose.lat, pose.lon, lat, lon) < 3.0

        self.fleet.wait_for(arrived, sim_timeout=sim_timeout)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    north = (lat2 - lat1) * 110_790.0
    east = (lon2 - lon1) * 110_790.0 * math.cos(math.radians(lat1))
    return math.hypot(north, east)
