"""ArduCopter flight-mode numbers and their properties."""

from __future__ import annotations

STABILIZE, ALT_HOLD, AUTO, GUIDED, LOITER, RTL = 0, 2, 3, 4, 5, 6
LAND, POSHOLD, BRAKE, SMART_RTL = 9, 16, 17, 21

NAMES = {
    STABILIZE: "STABILIZE",
    ALT_HOLD: "ALT_HOLD",
    AUTO: "AUTO",
    GUIDED: "GUIDED",
    LOITER: "LOITER",
    RTL: "RTL",
    LAND: "LAND",
    POSHOLD: "POSHOLD",
    BRAKE: "BRAKE",
    SMART_RTL: "SMARTRTL",
}
# Modes that need the EKF's position to be entered while armed.
NEEDS_POSITION = {AUTO, GUIDED, LOITER, RTL, POSHOLD, BRAKE, SMART_RTL}
# Modes the horizontal position controller flies (HEARTBEAT base_mode GUIDED_ENABLED).
POSITION_CONTROLLED = NEEDS_POSITION | {LAND}
# Modes ArduCopter lets you arm in (AUTO needs AUTO_OPTIONS bit 0).
ARMABLE = {STABILIZE, ALT_HOLD, GUIDED, LOITER, POSHOLD}
# Modes a pilot flies (FS_OPTIONS bit 4 keeps them on a GCS failsafe).
PILOT_CONTROLLED = {STABILIZE, ALT_HOLD, LOITER, POSHOLD}
