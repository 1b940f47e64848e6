from __future__ import annotations

import pytest

from missions.camera import CAMERAS, camera_named
from missions.errors import PlanningError


def test_mavic3e_footprint_and_spacing():
    cam = camera_named("mavic3e")
    assert cam.footprint_width(100) == pytest.approx(140.8, abs=0.1)  # 17.3 / 12.29 * 100
    assert cam.line_spacing(100, 20) == pytest.approx(0.8 * 140.8, abs=0.1)
    assert cam.gsd_cm(100) == pytest.approx(2.67, abs=0.01)


def test_h20_wide_footprint():
    assert CAMERAS["h20-wide"].footprint_width(30) == pytest.approx(41.1, abs=0.1)


def test_bad_overlap_and_unknown_camera():
    with pytest.raises(PlanningError, match="overlap"):
        camera_named("mavic3e").line_spacing(50, 100)
    with pytest.raises(PlanningError, match=r"unknown camera 'gopro'.*mavic3e"):
        camera_named("gopro")
