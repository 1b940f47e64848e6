import pytest

from audio.audibility import air_absorption_db_per_m, check_altitude, ground_level_db

# ISO 9613-1:1993 Table 1, 20 °C, 70 % relative humidity, 101.325 kPa, in dB/km.
ISO_TABLE_20C_70PCT = {125: 0.339, 250: 1.13, 500: 2.80, 1000: 4.98, 2000: 9.02, 4000: 22.9}


@pytest.mark.parametrize(("frequency", "db_per_km"), sorted(ISO_TABLE_20C_70PCT.items()))
def test_absorption_matches_the_iso_table(frequency, db_per_km):
    assert air_absorption_db_per_m(frequency) * 1000 == pytest.approx(db_per_km, rel=0.03)


def test_spreading_is_six_db_per_doubling_without_air():
    assert ground_level_db(120, 10, 0.0) - ground_level_db(120, 20, 0.0) == pytest.approx(
        6.02, 0.01
    )


def test_too_high_is_flagged_and_ceiling_is_consistent():
    low = check_altitude("村口", 110, 30)
    high = check_altitude("村口", 110, 200)
    assert low.ok and not high.ok
    assert 30 < low.max_alt_m < 200
    assert ground_level_db(110, low.max_alt_m) == pytest.approx(65.0, abs=0.01)
    assert "TOO HIGH" in high.describe()
