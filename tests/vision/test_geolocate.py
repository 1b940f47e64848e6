"""Geolocation against known geometry, against the simulator's own projection, and its error
estimate against a Monte Carlo of the same uncertainties."""

import math

import cv2
import numpy as np
import pytest
from pyproj import Geod

from sim.camera_render import Renderer, View
from vision.camera import CameraModel
from vision.geolocate import Geolocator, camera_frd
from vision.poses import Pose

CAM = CameraModel(name="t", width=1280, height=720, hfov_deg=70, pitch_deg=-45)
F = 640 / math.tan(math.radians(35))


def pose(height=40.0, roll=0.0, pitch=0.0, yaw=0.0, gimbal=(0.0, -90.0, 0.0), vn=0.0, ve=0.0):
    g = None if gimbal is None else tuple(math.radians(a) for a in gimbal)
    return Pose(1e9, 27.57, 119.71, 200 + height, height, roll, pitch, yaw, vn, ve, g)


def test_straight_down_the_image_top_is_the_nose_and_distances_scale_with_height():
    geo = Geolocator(CAM, 1280, 720)
    fix = geo.locate(pose(), [(640, 360), (640 + 100, 360), (640, 360 - 100)])
    assert fix.north == pytest.approx([0, 0, 100 * 40 / F], abs=1e-6)
    assert fix.east == pytest.approx([0, 100 * 40 / F, 0], abs=1e-6)
    east = geo.locate(pose(yaw=math.radians(90)), [(640, 360 - 100)])
    assert (east.north[0], east.east[0]) == pytest.approx((0, 100 * 40 / F), abs=1e-6)
    # and latitude/longitude are that far from the aircraft on the ellipsoid
    _, _, dist = Geod(ellps="WGS84").inv(119.71, 27.57, fix.lon[2], fix.lat[2])
    assert dist == pytest.approx(100 * 40 / F, abs=1e-6)


def test_the_gimbal_holds_the_horizon_a_fixed_camera_turns_with_the_airframe():
    geo = Geolocator(CAM, 1280, 720)
    level = geo.locate(pose(height=10, gimbal=(0, -30, 0)), [(640, 360)])
    assert level.north[0] == pytest.approx(10 / math.tan(math.radians(30)))
    tilted = geo.locate(pose(10, roll=0.2, pitch=-0.1, gimbal=(0, -30, 0)), [(640, 360)])
    assert tilted.north[0] == pytest.approx(level.north[0]) and tilted.east[0] == 0
    fixed = CameraModel(name="f", width=1280, height=720, hfov_deg=70, mount="fixed", pitch_deg=-30)
    nose_down = Geolocator(fixed, 1280, 720).locate(
        pose(10, pitch=math.radians(-10), gimbal=None), [(640, 360)]
    )
    assert nose_down.north[0] == pytest.approx(10 / math.tan(math.radians(40)))


def test_it_inverts_the_simulators_projection():
    """The simulator renders with its own code; a ground point it projects to a pixel must
    come back to the same ground point."""
    sim = Renderer(1280, 720, 70, np.zeros((16, 16, 3), np.uint8), [])
    geo = Geolocator(CAM, 1280, 720)
    rng = np.random.default_rng(3)
    for _ in range(20):
        yaw, gimbal_yaw = rng.uniform(-math.pi, math.pi), rng.uniform(-0.5, 0.5)
        g = (rng.uniform(-0.1, 0.1), rng.uniform(-1.4, -0.4), gimbal_yaw)
        p = Pose(0, 27.57, 119.71, 235, 35, 0.1, -0.05, yaw, gimbal=g)
        view = View(0, 0, 35, g[0], g[1], yaw + gimbal_yaw)
        ground = np.column_stack([rng.uniform(-60, 60, 5), rng.uniform(-60, 60, 5), np.zeros(5)])
        pixels, depth = sim.project(view, ground)
        inside = (depth > 0) & (pixels[:, 0] >= 0) & (pixels[:, 0] < 1280)
        inside &= (pixels[:, 1] >= 0) & (pixels[:, 1] < 720)
        if not inside.any():
            continue
        fix = geo.locate(p, pixels[inside])
        assert fix.valid.all()
        assert fix.north == pytest.approx(ground[inside, 0], abs=1e-6)
        assert fix.east == pytest.approx(ground[inside, 1], abs=1e-6)


def test_lens_distortion_is_removed():
    k = np.array([[900.0, 0, 640], [0, 900.0, 360], [0, 0, 1]])
    dist = np.array([-0.25, 0.08, 0.001, -0.001, 0.0])
    cam = CameraModel(
        name="d",
        width=1280,
        height=720,
        pitch_deg=-90,
        intrinsics={"fx": 900, "fy": 900, "cx": 640, "cy": 360, "dist": dist.tolist()},
    )
    # a ground point 12 m north, 9 m east, seen straight down from 30 m (yaw 0)
    cam_point = np.array([[9.0, -12.0, 30.0]])  # x right (east), y down (south), z down
    pixel, _ = cv2.projectPoints(cam_point, np.zeros(3), np.zeros(3), k, dist)
    fix = Geolocator(cam, 1280, 720).locate(pose(30), pixel.reshape(1, 2))
    assert (fix.north[0], fix.east[0]) == pytest.approx((12.0, 9.0), abs=1e-3)


def test_rays_above_the_horizon_or_too_far_are_not_placed():
    geo = Geolocator(CAM, 1280, 720)
    fix = geo.locate(pose(30, gimbal=(0, -10, 0)), [(640, 0), (640, 700)])
    assert list(fix.valid) == [False, True]


def test_the_error_estimate_matches_a_monte_carlo_of_its_assumptions():
    geo = Geolocator(CAM, 1280, 720)
    p = pose(40, gimbal=(0, -45, 0), vn=8.0)
    pixel = np.array([[900.0, 250.0]])
    fix = geo.locate(p, pixel, pixel_sigma=4.0)
    rng = np.random.default_rng(0)
    sig = fix.sigmas[0]
    heights = np.array([p.height])
    samples = []
    for _ in range(3000):
        delta = rng.normal(0, sig)
        ne, _ = geo._ground(p, pixel, heights, delta)
        shift = rng.normal(0, CAM.position_sigma_m, 2)  # the aircraft's position
        shift += np.array([p.vn, p.ve]) * rng.normal(0, CAM.time_sigma_s)  # frame timing
        samples.append(ne[0] + shift)
    samples = np.array(samples)
    drms = math.sqrt(((samples - samples.mean(axis=0)) ** 2).sum(axis=1).mean())
    assert fix.error_m[0] == pytest.approx(drms, rel=0.08)
    # the error grows with range: a pixel near the horizon is worse than one below
    near = geo.locate(p, [(640.0, 700.0)]).error_m[0]
    assert near < fix.error_m[0]


def test_a_groups_centre_keeps_the_shared_error_and_averages_the_pixel_error():
    geo = Geolocator(CAM, 1280, 720)
    fix = geo.locate(pose(40, gimbal=(0, -45, 0)), [(600, 300), (620, 305), (640, 298)], 30.0)
    _, _, cov = fix.centre(np.array([0, 1, 2]))
    one = fix.cov[0]
    assert np.trace(cov) < np.trace(one)  # pixel errors average out...
    shared_only = geo.locate(pose(40, gimbal=(0, -45, 0)), [(620, 301)], 0.0).cov[0]
    assert np.trace(cov) > 0.95 * np.trace(shared_only)  # ...the attitude error does not


def test_camera_rotation_conventions():
    # gimbal pitch -90 (straight down): the optical axis points down in NED
    rot = camera_frd(pose(gimbal=(0, -90, 0)), CAM)
    assert rot @ np.array([1, 0, 0]) == pytest.approx([0, 0, 1], abs=1e-12)
