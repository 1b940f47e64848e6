import json
import math

import numpy as np
import pytest

from vision.camera import CAMERAS, CameraError, CameraModel, load_camera


def test_presets_have_the_data_sheets_field_of_view():
    h20 = CAMERAS["h20-wide"]
    h, v = h20.fov_deg
    diagonal = 2 * math.degrees(
        math.atan(math.hypot(*(math.tan(math.radians(a) / 2) for a in (h, v))))
    )
    assert diagonal == pytest.approx(82.9, abs=0.05)
    assert CAMERAS["sim-720p"].fov_deg[0] == pytest.approx(70.0)
    assert load_camera("siyi-a8") is CAMERAS["siyi-a8"]


def test_a_toml_file_with_intrinsics(tmp_path):
    path = tmp_path / "a8.toml"
    path.write_text(
        'width = 1920\nheight = 1080\nmount = "fixed"\npitch_deg = -60\n'
        "[intrinsics]\nfx = 1000.0\nfy = 1002.0\ncx = 955.0\ncy = 545.0\n"
        "dist = [-0.1, 0.02, 0.0, 0.0, 0.0]\n"
    )
    cam = load_camera(path)
    assert cam.name == "a8" and cam.mount == "fixed" and cam.dist is not None
    k = cam.matrix(960, 540)  # a half-size stream of the same camera
    assert k[0, 0] == pytest.approx(500.0) and k[1, 2] == pytest.approx(272.5)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"hfov_deg": 200}, "hfov_deg: Input should be less than 170"),
        ({"width": 0}, "width: Input should be greater than or equal to 16"),
        ({"pitch_deg": -120}, "pitch_deg"),
        ({"attitude_sigma_deg": -1}, "attitude_sigma_deg"),
        ({"lens": "wide"}, "lens: Extra inputs are not permitted"),
        ({"intrinsics": {"fx": 900, "fy": 900, "cx": 640, "cy": 360}}, "exactly one of"),
        (
            {"hfov_deg": None, "intrinsics": {"fx": 900, "fy": 900, "cx": 1700, "cy": 360}},
            "outside the 1280x720 image",
        ),
        ({"hfov_deg": None, "intrinsics": {"fx": 9, "fy": 9, "cx": 640, "cy": 360}}, "170 degrees"),
    ],
)
def test_impossible_values_are_refused_with_the_file_and_field(tmp_path, fields, message):
    doc = {"width": 1280, "height": 720, "hfov_deg": 70, **fields}
    doc = {k: v for k, v in doc.items() if v is not None}
    path = tmp_path / "cam.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(CameraError, match=f"camera {path}: .*{message}"):
        load_camera(path)


def test_unreadable_and_unknown_cameras(tmp_path):
    bad = tmp_path / "cam.toml"
    bad.write_text("width = \n")
    with pytest.raises(CameraError, match="not valid TOML"):
        load_camera(bad)
    with pytest.raises(CameraError, match="cannot read"):
        load_camera(tmp_path / "none.json")
    with pytest.raises(CameraError, match="not a preset"):
        load_camera("gopro")


def test_frames_of_another_aspect_are_refused():
    cam = CameraModel(name="c", width=1920, height=1080, hfov_deg=70)
    cam.check_frame(1280, 720)
    with pytest.raises(CameraError, match="1280x960"):
        cam.check_frame(1280, 960)
    assert np.allclose(cam.matrix(1280, 720)[0], [cam.matrix()[0, 0] * 2 / 3, 0, 640])
