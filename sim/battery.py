"""Simulated battery: SITL's SIM_BATT_VOLTAGE, current from effort, consumption, failsafe."""

from __future__ import annotations

from pymavlink.dialects.v20 import ardupilotmega as mavlink

HOVER_CURRENT_A = 28.0
IDLE_CURRENT_A = 0.5
ARMED_GROUND_CURRENT_A = 3.0
EMPTY_VOLTS = 10.5  # 3S at 3.5 V per cell


class Battery:
    def __init__(self) -> None:
        self.voltage = 12.6
        self.current = 0.0
        self.consumed_mah = 0.0
        self.consumed_wh = 0.0
        self.capacity_mah = 3300.0
        self.low_since: float | None = None
        self.crit_since: float | None = None
        self.failsafe = 0  # 0 none, 1 low, 2 critical
        self.failsafe_reason = "voltage"  # or "capacity"
        self.charge_state = mavlink.MAV_BATTERY_CHARGE_STATE_OK

    @property
    def remaining(self) -> int:
        if self.capacity_mah <= 0:
            return -1
        return max(0, min(100, round(100 * (1 - self.consumed_mah / self.capacity_mah))))

    def update(
        self,
        dt: float,
        nominal_v: float,
        sag_v: float,
        armed: bool,
        flying: bool,
        airspeed: float,
        climb: float,
        sim_capacity_ah: float = 0.0,
    ) -> None:
        """Advance consumption over ``dt`` seconds of the given effort (airspeed: speed through
        the air, so flying into wind costs more). With SITL's SIM_BATT_CAP_AH > 0 the voltage
        falls as the pack empties (3S LiPo, full to ~3.5 V/cell); otherwise it stays at
        SIM_BATT_VOLTAGE, as in SITL."""
        if flying:
            current = HOVER_CURRENT_A + 0.4 * airspeed + 2.0 * max(climb, 0.0)
        elif armed:
            current = ARMED_GROUND_CURRENT_A
        else:
            current = IDLE_CURRENT_A
        self.current = current
        self.consumed_mah += current * dt / 3.6
        voltage = nominal_v
        if sim_capacity_ah > 0:
            used = min(self.consumed_mah / (sim_capacity_ah * 1000.0), 1.0)
            voltage -= (nominal_v - EMPTY_VOLTS) * used
        self.voltage = max(0.0, voltage - sag_v - 0.001)
        self.consumed_wh += current * self.voltage * dt / 3600.0
