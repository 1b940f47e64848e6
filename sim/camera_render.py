"""Rendering a pinhole camera's view of flat ground with people standing on it.

The ground is a plane at home altitude: a homography maps the tiling ground texture into the
image in one cv2.warpPerspective. Each person is a photographic cut-out anchored by the
feet at their exact ground point. Seen from above at elevation e, a standing body of height h
and depth d shows about h cos e + d sin e of itself: the sprite is stretched along the
projected vertical to that length, and as wide as the person is at that range.

Frames: world NED (metres from the scene origin), camera FRD (x along the optical axis), and
OpenCV's image axes (x right, y down). Rays that meet the ground beyond ``max_range_m`` (or
never, above the horizon) show a haze colour. The people are drawn at full resolution; the
ground is warped at most 1280 pixels wide and scaled up (its texture is no finer). This module
is the simulator's own implementation: it shares nothing with the detection side it tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from sim.camera_scene import TEXTURE_RES_M

CAM_TO_FRD = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
BODY_DEPTH_M = 0.35
HAZE_BGR = (200, 196, 190)
MIN_SPRITE_PX = 4
GROUND_MAX_WIDTH = 1280


def rotation(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """FRD to NED for ZYX Euler angles."""
    cr, sr = math.cos(roll), math.sin(roll)
    cp, sp = math.cos(pitch), math.sin(pitch)
    cy, sy = math.cos(yaw), math.sin(yaw)
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    return rz @ ry @ rx


@dataclass(frozen=True)
class View:
    """A camera at (north, east) metres from the origin, ``height`` above the ground, looking
    along the FRD attitude (roll, pitch, yaw) in radians."""

    north: float
    east: float
    height: float
    roll: float
    pitch: float
    yaw: float


class Renderer:
    def __init__(
        self,
        width: int,
        height: int,
        hfov_deg: float,
        texture: np.ndarray,
        sprites: list[np.ndarray],
        max_range_m: float = 400.0,
    ) -> None:
        self.width, self.height = width, height
        f = (width / 2) / math.tan(math.radians(hfov_deg) / 2)
        self.k = np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1]], float)
        self.k_inv = np.linalg.inv(self.k)
        self.f = f
        self.texture = texture
        self.period = texture.shape[0] * TEXTURE_RES_M  # metres; the texture is square
        self.sprites = sprites
        self.flipped = [np.ascontiguousarray(s[:, ::-1]) for s in sprites]
        self.max_range_m = max_range_m

    def project(self, view: View, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixels (n, 2) of NED points (n, 3) and their depth along the optical axis."""
        r_cw = (rotation(view.roll, view.pitch, view.yaw) @ CAM_TO_FRD).T
        centre = np.array([view.north, view.east, -view.height])
        cam = (np.asarray(points, float) - centre) @ r_cw.T
        depth = cam[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            pix = (cam @ self.k.T)[:, :2] / depth[:, None]
        return pix, depth

    def render(self, view: View, people: list[tuple[float, float, float, int, bool]]) -> np.ndarray:
        """The image (BGR) seen from ``view``; ``people`` are (north, east, height_m, sprite,
        flipped)."""
        image = self._ground(view)
        if people:
            self._people(image, view, people)
        return image

    def _ground(self, view: View) -> np.ndarray:
        r_wc = rotation(view.roll, view.pitch, view.yaw) @ CAM_TO_FRD
        r_cw = r_wc.T
        # texture tile origin near the camera keeps the warp's coordinates small
        n0 = math.floor(view.north / self.period) * self.period + self.period
        e0 = math.floor(view.east / self.period) * self.period - self.period
        t = -r_cw @ np.array([view.north, view.east, -view.height])
        ground_to_image = self.k @ np.column_stack([r_cw[:, 0], r_cw[:, 1], t])
        res = TEXTURE_RES_M
        tex_to_ground = np.array([[0, -res, n0], [res, 0, e0], [0, 0, 1]], float)
        # the ground is warped at most 1280 pixels wide and scaled up: its texture has no
        # detail finer than that, and the warp is most of a frame's cost
        scale = min(1.0, GROUND_MAX_WIDTH / self.width)
        size = (round(self.width * scale), round(self.height * scale))
        to_small = np.diag([size[0] / self.width, size[1] / self.height, 1.0])
        image = cv2.warpPerspective(
            self.texture,
            to_small @ ground_to_image @ tex_to_ground,
            size,
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_WRAP,
        )
        if size != (self.width, self.height):
            image = cv2.resize(image, (self.width, self.height), interpolation=cv2.INTER_LINEAR)
        # where rays miss the ground or meet it too far away: haze
        corners = np.array(
            [[0, 0, 1], [self.width, 0, 1], [0, self.height, 1], [self.width, self.height, 1]],
            float,
        )
        if self._too_far(corners, r_wc, view.height).any():
            u, v = np.meshgrid(np.arange(self.width) + 0.5, np.arange(self.height) + 0.5)
            pix = np.stack([u, v, np.ones_like(u)], axis=-1).reshape(-1, 3)
            image[self._too_far(pix, r_wc, view.height).reshape(self.height, self.width)] = HAZE_BGR
        return image

    def _too_far(self, pix: np.ndarray, r_wc: np.ndarray, height: float) -> np.ndarray:
        rays = pix @ self.k_inv.T @ r_wc.T
        down = rays[:, 2] / np.linalg.norm(rays, axis=1)
        return down * self.max_range_m <= height

    def _people(self, image: np.ndarray, view: View, people: list) -> None:
        feet = np.array([(n, e, 0.0) for n, e, *_ in people])
        heads = np.array([(n, e, -h) for n, e, h, *_ in people])
        foot_px, foot_depth = self.project(view, feet)
        head_px, head_depth = self.project(view, heads)
        ranges = np.linalg.norm(feet - np.array([view.north, view.east, -view.height]), axis=1)
        order = np.argsort(-ranges)  # far first: nearer people are drawn over them
        for i in order:
            if foot_depth[i] <= 0.5 or head_depth[i] <= 0.5 or ranges[i] > self.max_range_m:
                continue
            _, _, h_m, sprite_index, flip = people[i]
            sprite = (self.flipped if flip else self.sprites)[sprite_index % len(self.sprites)]
            axis = head_px[i] - foot_px[i]
            upright = float(np.hypot(*axis))
            if upright < 1e-3:
                continue
            unit = axis / upright
            elevation_sin = view.height / ranges[i]
            scale = self.f / ranges[i]  # pixels per metre at this range
            length = upright + BODY_DEPTH_M * elevation_sin * scale
            width = h_m * sprite.shape[1] / sprite.shape[0] * scale
            if length < MIN_SPRITE_PX:
                continue
            self._blit(image, sprite, foot_px[i], unit, length, width)

    def _blit(
        self,
        image: np.ndarray,
        sprite: np.ndarray,
        foot: np.ndarray,
        unit: np.ndarray,
        length: float,
        width: float,
    ) -> None:
        sh, sw = sprite.shape[:2]
        across = np.array([-unit[1], unit[0]])
        top = foot + unit * length
        dst = np.array([foot, top, foot + across * width / 2], np.float32)
        src = np.array([[sw / 2, sh], [sw / 2, 0], [sw, sh]], np.float32)
        corners = np.array(
            [
                foot - across * width / 2,
                foot + across * width / 2,
                top - across * width / 2,
                top + across * width / 2,
            ]
        )
        x1, y1 = np.floor(corners.min(axis=0)).astype(int) - 1
        x2, y2 = np.ceil(corners.max(axis=0)).astype(int) + 1
        x1, y1 = max(x1, 0), max(y1, 0)
        x2, y2 = min(x2, self.width), min(y2, self.height)
        if x2 <= x1 or y2 <= y1:
            return
        matrix = cv2.getAffineTransform(src, dst - np.float32([x1, y1]))
        patch = cv2.warpAffine(
            sprite,
            matrix,
            (x2 - x1, y2 - y1),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(0, 0, 0, 0),
        )
        alpha = patch[:, :, 3:4].astype(np.float32) / 255.0
        roi = image[y1:y2, x1:x2]
        roi[:] = (patch[:, :, :3] * alpha + roi * (1.0 - alpha)).astype(np.uint8)
