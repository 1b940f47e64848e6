"""How loud a broadcast is on the ground: spherical spreading plus air absorption (ISO 9613-1)."""

from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_FREQUENCY_HZ = 1000.0  # the middle of the speech band that carries intelligibility
DEFAULT_MIN_LEVEL_DB = 65.0  # understandable over street noise
REFERENCE_PRESSURE_KPA = 101.325
# Plausible inputs; outside them a figure is a typo or a unit slip, not a loudspeaker or a flight.
SPL_RANGE_DB = (60.0, 160.0)  # drone loudspeakers are rated about 100-130 dB SPL at 1 m
MIN_LEVEL_RANGE_DB = (30.0, 120.0)
ALT_RANGE_M = (1.0, 1000.0)


def check_inputs(spl_at_1m_db: float, min_level_db: float, alt_m: float | None) -> None:
    """Raise ValueError, naming the figure, for a rating, level or altitude out of range."""
    for label, value, (low, high), unit in (
        ("loudspeaker rating", spl_at_1m_db, SPL_RANGE_DB, "dB SPL at 1 m"),
        ("level needed on the ground", min_level_db, MIN_LEVEL_RANGE_DB, "dB SPL"),
        ("altitude", alt_m, ALT_RANGE_M, "m"),
    ):
        if value is not None and not low <= value <= high:
            raise ValueError(f"{label} {value:g} {unit} is outside {low:g}-{high:g} {unit}")


def air_absorption_db_per_m(
    frequency_hz: float = DEFAULT_FREQUENCY_HZ,
    temperature_c: float = 20.0,
    humidity_pct: float = 70.0,
    pressure_kpa: float = REFERENCE_PRESSURE_KPA,
) -> float:
    """Pure-tone atmospheric absorption coefficient, ISO 9613-1:1993 equations (3)-(5) and B.1."""
    t = temperature_c + 273.15
    t0, t01 = 293.15, 273.16
    pa = pressure_kpa / REFERENCE_PRESSURE_KPA
    c = -6.8346 * (t01 / t) ** 1.261 + 4.6151
    h = humidity_pct * 10**c / pa  # molar concentration of water vapour, %
    fr_o = pa * (24 + 4.04e4 * h * (0.02 + h) / (0.391 + h))
    fr_n = pa * (t / t0) ** -0.5 * (9 + 280 * h * math.exp(-4.170 * ((t / t0) ** (-1 / 3) - 1)))
    f2 = frequency_hz**2
    return (
        8.686
        * f2
        * (
            1.84e-11 / pa * (t / t0) ** 0.5
            + (t / t0) ** -2.5
            * (
                0.01275 * math.exp(-2239.1 / t) / (fr_o + f2 / fr_o)
                + 0.1068 * math.exp(-3352.0 / t) / (fr_n + f2 / fr_n)
            )
        )
    )


def ground_level_db(
    spl_at_1m_db: float, distance_m: float, absorption_db_per_m: float | None = None
) -> float:
    """Level at ``distance_m`` from a loudspeaker rated ``spl_at_1m_db`` dB SPL at 1 m, on its
    axis: inverse-square spreading (-6 dB per doubling) plus air absorption."""
    if distance_m < 1.0:
        return spl_at_1m_db
    alpha = air_absorption_db_per_m() if absorption_db_per_m is None else absorption_db_per_m
    return spl_at_1m_db - 20 * math.log10(distance_m) - alpha * (distance_m - 1.0)


def max_distance_m(
    spl_at_1m_db: float, min_level_db: float, absorption_db_per_m: float | None = None
) -> float:
    """The farthest distance at which the level is still ``min_level_db`` (bisection)."""
    if ground_level_db(spl_at_1m_db, 1.0, absorption_db_per_m) < min_level_db:
        return 0.0
    low, high = 1.0, 1.0
    while ground_level_db(spl_at_1m_db, high, absorption_db_per_m) >= min_level_db:
        high *= 2
        if high > 1e6:
            return high
    for _ in range(60):
        mid = (low + high) / 2
        if ground_level_db(spl_at_1m_db, mid, absorption_db_per_m) >= min_level_db:
            low = mid
        else:
            high = mid
    return low


@dataclass(frozen=True)
class Audibility:
    zone: str
    alt_m: float
    level_db: float
    max_alt_m: float
    ok: bool

    def describe(self) -> str:
        verdict = "ok" if self.ok else "TOO HIGH to be understood"
        return (
            f"zone {self.zone!r}: {self.level_db:.1f} dB SPL on the ground below {self.alt_m:g} m "
            f"(audible up to {self.max_alt_m:.0f} m): {verdict}"
        )


def check_altitude(
    zone: str,
    spl_at_1m_db: float,
    alt_m: float,
    min_level_db: float = DEFAULT_MIN_LEVEL_DB,
    absorption_db_per_m: float | None = None,
) -> Audibility:
    """Level on the ground straight below the aircraft (the loudest spot), and the verdict."""
    level = ground_level_db(spl_at_1m_db, alt_m, absorption_db_per_m)
    ceiling = max_distance_m(spl_at_1m_db, min_level_db, absorption_db_per_m)
    return Audibility(zone, alt_m, level, ceiling, level >= min_level_db)
