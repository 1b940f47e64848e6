"""The RC input SITL reads (its simulated receiver) and the ground station's
RC_CHANNELS_OVERRIDE on top of it, as RC_CHANNELS reports them."""

from __future__ import annotations

# SITL's receiver with the sticks untouched (12): roll, pitch, throttle low, yaw, then the
# switches of its default copter.parm (flight mode 1800, RC7 low, RC8 high).
SITL_RC_IN = (1500, 1500, 1000, 1500, 1800, 1000, 1000, 1800)
CHANNELS = 18  # RC_CHANNELS carries 18; SITL reports chancount 8 and zeros above it
IGNORE = 65535  # UINT16_MAX: leave this channel as it is
RELEASE_HIGH = 65534  # channels 9-18 release with UINT16_MAX-1 (0 means ignore there)


class RcInput:
    """Overrides last RC_OVERRIDE_TIME seconds after the latest one for that channel."""

    def __init__(self) -> None:
        self.overrides: dict[int, tuple[int, float]] = {}  # channel index -> (pwm, when)

    def override(self, values: list[int], now: float) -> None:
        """Apply one RC_CHANNELS_OVERRIDE (chan1..chan18 values, MAVLink 2 semantics)."""
        for i, value in enumerate(values[:CHANNELS]):
            if i < 8:
                if value == IGNORE:
                    continue
                if value == 0:
                    self.overrides.pop(i, None)
                    continue
            else:
                if value in (0, IGNORE):
                    continue
                if value == RELEASE_HIGH:
                    self.overrides.pop(i, None)
                    continue
            self.overrides[i] = (value, now)

    def channels(self, now: float, timeout_s: float) -> list[int]:
        """The 18 raw values RC_CHANNELS reports now. RC_OVERRIDE_TIME ``timeout_s``: 0 turns
        overrides off, a negative value keeps them until released."""
        values = list(SITL_RC_IN) + [0] * (CHANNELS - len(SITL_RC_IN))
        if timeout_s == 0:
            return values
        for i, (value, when) in list(self.overrides.items()):
            if timeout_s > 0 and now - when >= timeout_s:
                del self.overrides[i]
                continue
            values[i] = value
        return values
