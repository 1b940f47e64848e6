"""Pixels to ground: a pinhole camera at the aircraft's pose, rays cast onto flat ground.

Assumptions, stated because they bound the accuracy:
- The ground is a plane at home altitude: the aircraft's height above it is
  GLOBAL_POSITION_INT.relative_alt. Terrain higher or lower than home shifts a point along the
  ray; ``CameraModel.height_sigma_m`` carries that (with the barometer's error) into the error.
- The camera sits at the aircraft's GPS position (a lever arm of centimetres is ignored).
- Frames: world NED (north, east, down); the gimbal/airframe FRD; OpenCV's camera (x right,
  y down, z along the optical axis). Euler angles are ZYX (yaw, pitch, roll), as ATTITUDE's.

The expected error is propagated to first order: numerical derivatives of the ground point
with respect to camera roll, pitch and yaw, height and the pixel, combined with their one-sigma
values from the camera model, plus the aircraft's horizontal position error and the
frame-to-pose time error times the ground speed. ``error_m`` is the root of the covariance's
trace (DRMS: about 1.2 sigma along each axis for a round error, ~65 % of fixes fall within).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from pyproj import Geod

from vision.camera import CameraModel
from vision.poses import Pose

FRD_FROM_CAM = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
MAX_RANGE_M = 1000.0  # rays that meet the ground farther away (near the horizon) are refused
_GEOD = Geod(ellps="WGS84")
# perturbations for the numerical derivatives: roll, pitch, yaw (rad), height (m), u, v (px)
_STEPS = np.array([1e-4, 1e-4, 1e-4, 1e-3, 0.05, 0.05])
SHARED = 4  # the first four parameters are shared by every point of a frame


def rot_x(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]], float)


def rot_y(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]], float)


def rot_z(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]], float)


def euler(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """Rotation from a body (FRD) to NED for ZYX Euler angles."""
    return rot_z(yaw) @ rot_y(pitch) @ rot_x(roll)


def camera_frd(pose: Pose, camera: CameraModel) -> np.ndarray:
    """Rotation from the camera's FRD frame (x along the optical axis) to NED."""
    if camera.mount == "fixed":
        mount = euler(
            *(math.radians(a) for a in (camera.roll_deg, camera.pitch_deg, camera.yaw_deg))
        )
        return euler(pose.roll, pose.pitch, pose.yaw) @ mount
    if pose.gimbal is not None:
        roll, pitch, yaw = pose.gimbal
    else:
        roll, pitch, yaw = (
            math.radians(a) for a in (camera.roll_deg, camera.pitch_deg, camera.yaw_deg)
        )
    # a stabilised gimbal: roll and pitch level to the horizon, yaw follows the nose
    return euler(roll, pitch, pose.yaw + yaw)


@dataclass(frozen=True)
class GroundFix:
    """Ground points for the pixels of one frame. ``north``/``east`` are metres from the point
    below the aircraft; ``jacobian`` (n, 2, 6) holds d(north, east) / d(roll, pitch, yaw,
    height, u, v); ``cov`` (n, 2, 2) the full covariance; ``valid`` says which rays met the
    ground (in front of the camera, within MAX_RANGE_M)."""

    pose: Pose
    north: np.ndarray
    east: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    valid: np.ndarray
    jacobian: np.ndarray
    cov: np.ndarray
    sigmas: np.ndarray  # the parameters' one-sigma values, (n, 6)
    floor_cov: np.ndarray  # position and timing covariance every point shares, (2, 2)

    @property
    def error_m(self) -> np.ndarray:
        return np.sqrt(np.trace(self.cov, axis1=1, axis2=2))

    def centre(self, members: np.ndarray) -> tuple[float, float, np.ndarray]:
        """North, east and covariance of the mean of ``members`` (indices): the shared
        parameters' errors move every member together, the pixel errors average out."""
        n = len(members)
        north = float(self.north[members].mean())
        east = float(self.east[members].mean())
        j_shared = self.jacobian[members, :, :SHARED].mean(axis=0)
        s_shared = self.sigmas[members[0], :SHARED] ** 2
        cov = j_shared @ np.diag(s_shared) @ j_shared.T + self.floor_cov
        for i in members:
            jp = self.jacobian[i, :, SHARED:]
            cov = cov + jp @ np.diag(self.sigmas[i, SHARED:] ** 2) @ jp.T / n**2
        return north, east, cov


class Geolocator:
    """Projects pixels of ``width`` x ``height`` frames from ``camera`` onto the ground."""

    def __init__(self, camera: CameraModel, width: int, height: int) -> None:
        camera.check_frame(width, height)
        self.camera = camera
        self.k = camera.matrix(width, height)
        self.k_inv = np.linalg.inv(self.k)
        self.dist = camera.dist

    def _rays(self, pixels: np.ndarray) -> np.ndarray:
        """Unit-less camera-frame rays (n, 3) for pixels (n, 2), lens distortion removed."""
        if self.dist is not None:
            norm = cv2.undistortPoints(pixels.reshape(-1, 1, 2), self.k, self.dist)
            xy = norm.reshape(-1, 2)
            return np.column_stack([xy, np.ones(len(xy))])
        homog = np.column_stack([pixels, np.ones(len(pixels))])
        return homog @ self.k_inv.T

    def _ground(
        self, pose: Pose, pixels: np.ndarray, heights: np.ndarray, delta: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """North/east (n, 2) and validity for pixels under a parameter perturbation ``delta``
        (roll, pitch, yaw about the camera and the vertical, height, u, v)."""
        rot = camera_frd(pose, self.camera)
        rot = rot_z(delta[2]) @ rot @ rot_y(delta[1]) @ rot_x(delta[0])
        rays = self._rays(pixels + delta[4:6]) @ (rot @ FRD_FROM_CAM).T
        down = rays[:, 2]
        drop = heights + delta[3]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(down > 1e-9, drop / down, np.nan)
        ne = rays[:, :2] * t[:, None]
        rng = t * np.linalg.norm(rays, axis=1)
        valid = np.isfinite(t) & (drop > 0) & (rng < MAX_RANGE_M)
        return ne, valid

    def locate(
        self,
        pose: Pose,
        pixels: np.ndarray,
        pixel_sigma: np.ndarray | float | None = None,
        above_ground: np.ndarray | float = 0.0,
    ) -> GroundFix:
        """Ground points for ``pixels`` (n, 2) seen at ``pose``. ``above_ground`` is how high
        over the ground each pixel's point is (0 for feet; ~1.6 m for a face)."""
        cam = self.camera
        pixels = np.asarray(pixels, float).reshape(-1, 2)
        n = len(pixels)
        heights = pose.height - np.broadcast_to(np.asarray(above_ground, float), (n,))
        ne, valid = self._ground(pose, pixels, heights, np.zeros(6))
        jac = np.zeros((n, 2, 6))
        for p, step in enumerate(_STEPS):
            d = np.zeros(6)
            d[p] = step
            plus, _ = self._ground(pose, pixels, heights, d)
            minus, _ = self._ground(pose, pixels, heights, -d)
            jac[:, :, p] = (plus - minus) / (2 * step)
        px = cam.pixel_sigma if pixel_sigma is None else pixel_sigma
        px = np.broadcast_to(np.asarray(px, float), (n,))
        att, yaw = math.radians(cam.attitude_sigma_deg), math.radians(cam.yaw_sigma_deg)
        sigmas = np.column_stack(
            [
                np.full(n, att),
                np.full(n, att),
                np.full(n, yaw),
                np.full(n, cam.height_sigma_m),
                px,
                px,
            ]
        )
        velocity = np.array([pose.vn, pose.ve])
        floor = cam.position_sigma_m**2 * np.eye(2) + cam.time_sigma_s**2 * np.outer(
            velocity, velocity
        )
        cov = np.einsum("nij,nj,nkj->nik", jac, sigmas**2, jac) + floor
        valid &= np.isfinite(cov).all(axis=(1, 2))
        north, east = ne[:, 0], ne[:, 1]
        dist = np.hypot(north, east)
        az = np.degrees(np.arctan2(east, north))
        ok = valid & np.isfinite(dist)
        lon = np.full(n, np.nan)
        lat = np.full(n, np.nan)
        if ok.any():
            lo, la, _ = _GEOD.fwd(
                np.full(ok.sum(), pose.lon), np.full(ok.sum(), pose.lat), az[ok], dist[ok]
            )
            lon[ok], lat[ok] = lo, la
        return GroundFix(pose, north, east, lat, lon, ok, jac, cov, sigmas, floor)
