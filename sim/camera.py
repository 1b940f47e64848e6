"""A camera on a simulated copter: a stabilised gimbal, and frames rendered from the vehicle's
true pose at the frame's simulated time (``Vehicle.pose_at``), stamped with the aircraft's UTC
time (what its GPS and SYSTEM_TIME report), as a camera synchronised to the autopilot would.

The gimbal holds ``pitch_deg`` level to the horizon and follows the nose. A real gimbal is
never perfectly still: each frame is rendered with a small random error (``jitter_deg``, one
sigma per axis) that the reported attitude does not show, as a stabiliser's residual error.

    rig = CameraRig(vehicle, scene, renderer, spec, lock=fleet.lock)
    image, utc = rig.frame_at(vehicle.sim_time)
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.camera_gimbal import Gimbal
from sim.camera_people import load_people
from sim.camera_render import Renderer, View
from sim.camera_scene import Scene, load_scenario, load_texture
from sim.vehicle import Vehicle

MIN_CAMERA_HEIGHT_M = 0.3  # on the ground the lens still sits above it


@dataclass(frozen=True)
class CameraSpec:
    """Matches vision's "sim-1080p" / "sim-720p" camera models."""

    width: int = 1920
    height: int = 1080
    hfov_deg: float = 70.0
    pitch_deg: float = -45.0
    fps: float = 10.0  # frames per simulated second
    jitter_deg: float = 0.3
    quality: int = 85

    def __post_init__(self) -> None:
        if not (16 <= self.width <= 8192 and 16 <= self.height <= 8192):
            raise ValueError(f"camera size {self.width}x{self.height} out of range")
        if not 1 < self.hfov_deg < 170:
            raise ValueError(f"camera field of view {self.hfov_deg} must be within 1-170 degrees")
        if not -90 <= self.pitch_deg <= 30:
            raise ValueError(f"gimbal pitch {self.pitch_deg} must be within -90..30 degrees")
        if not 0 < self.fps <= 60:
            raise ValueError(f"camera rate {self.fps} must be within 0-60 frames/s")


class World:
    """What every camera of a fleet shares: the scene, the ground texture and the people."""

    def __init__(self, scenario: Path, origin: tuple[float, float], cache_dir: Path) -> None:
        spec = load_scenario(scenario)  # a bad file is refused before anything is made
        self.sprites = load_people(cache_dir)
        self.texture = load_texture(cache_dir)
        self.scene = Scene(spec, origin, len(self.sprites))

    def renderer(self, spec: CameraSpec) -> Renderer:
        return Renderer(spec.width, spec.height, spec.hfov_deg, self.texture, self.sprites)


class CameraRig:
    def __init__(
        self,
        vehicle: Vehicle,
        world: World,
        spec: CameraSpec | None = None,
        lock: threading.RLock | None = None,
        seed: int = 0,
    ) -> None:
        self.vehicle = vehicle
        self.world = world
        self.spec = spec or CameraSpec()
        self.renderer = world.renderer(self.spec)
        self.lock = lock or threading.RLock()
        self.gimbal = Gimbal(pitch=math.radians(self.spec.pitch_deg))
        vehicle.gimbal = self.gimbal  # the vehicle reports it (sim.camera_gimbal)
        self._rng = np.random.default_rng(seed + 1000 * vehicle.index)
        self.last_view: View | None = None  # the true view of the last frame (for tests)

    def view_at(self, t: float, jitter: bool = True) -> View:
        with self.lock:
            pose = self.vehicle.pose_at(t)
        north, east = self.world.scene.local(pose.lat, pose.lon)
        sigma = math.radians(self.spec.jitter_deg)
        err = self._rng.normal(0.0, sigma, 3) if jitter and sigma > 0 else np.zeros(3)
        g = self.gimbal
        return View(
            north,
            east,
            max(pose.alt_rel, MIN_CAMERA_HEIGHT_M),
            g.roll + err[0],
            g.pitch + err[1],
            pose.yaw + g.yaw + err[2],
        )

    def people_at(self, t: float) -> list[tuple[float, float, float, int, bool]]:
        out = []
        for p in self.world.scene.people:
            north, east = p.at(t)
            out.append((north, east, p.height_m, p.sprite, p.id % 2 == 1))
        return out

    def frame_at(self, t: float) -> tuple[np.ndarray, float]:
        """The image at simulated time ``t`` and its capture time (UTC unix seconds)."""
        self.last_view = self.view_at(t)
        image = self.renderer.render(self.last_view, self.people_at(t))
        return image, self.vehicle.wall_epoch0 + t
