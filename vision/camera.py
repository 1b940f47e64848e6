"""Camera models: image size, lens (field of view or calibrated intrinsics), how the camera is
mounted, and the uncertainties geolocation propagates.

A model comes from a named preset (``CAMERAS``) or a JSON/TOML file validated strictly: an
unknown field or an impossible value is refused with the file and the field named.

Angles follow ArduPilot's mount conventions: pitch negative looks down (-90 is straight down),
roll positive is right side down, yaw relative to the aircraft's nose. A ``gimbal`` mount holds
pitch and roll level to the horizon (earth frame) and follows the aircraft's yaw, as ArduPilot's
gimbals report in GIMBAL_DEVICE_ATTITUDE_STATUS / MOUNT_STATUS; a ``fixed`` mount turns with the
airframe.
"""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class CameraError(ValueError):
    """A camera model that cannot be used, with the file and field at fault."""


class Intrinsics(BaseModel):
    """A calibration (OpenCV's pinhole model), in pixels of the model's width x height."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fx: float = Field(gt=0, le=1e5)
    fy: float = Field(gt=0, le=1e5)
    cx: float = Field(gt=0)
    cy: float = Field(gt=0)
    # k1, k2, p1, p2[, k3[, k4, k5, k6]] as cv2.calibrateCamera returns them
    dist: tuple[float, ...] = ()

    @model_validator(mode="after")
    def _dist_length(self) -> Intrinsics:
        if len(self.dist) not in (0, 4, 5, 8):
            raise ValueError("dist must hold 4, 5 or 8 coefficients (k1 k2 p1 p2 [k3 [k4 k5 k6]])")
        return self


class CameraModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    width: int = Field(ge=16, le=16384)
    height: int = Field(ge=16, le=16384)
    hfov_deg: float | None = Field(default=None, gt=1, lt=170)
    intrinsics: Intrinsics | None = None
    mount: Literal["gimbal", "fixed"] = "gimbal"
    # the gimbal's pitch when the aircraft reports none; for a fixed mount, its tilt
    pitch_deg: float = Field(default=-45.0, ge=-90, le=30)
    roll_deg: float = Field(default=0.0, ge=-45, le=45)
    yaw_deg: float = Field(default=0.0, ge=-180, le=180)
    # one-sigma uncertainties geolocation propagates
    attitude_sigma_deg: float = Field(default=1.0, ge=0, le=20)  # camera pitch and roll
    yaw_sigma_deg: float = Field(default=2.0, ge=0, le=30)
    pixel_sigma: float = Field(default=3.0, ge=0, le=100)  # foot point, in pixels
    height_sigma_m: float = Field(default=1.0, ge=0, le=50)  # height above the ground
    position_sigma_m: float = Field(default=1.0, ge=0, le=50)  # aircraft horizontal position
    time_sigma_s: float = Field(default=0.05, ge=0, le=5)  # frame to pose time pairing

    @model_validator(mode="after")
    def _lens(self) -> CameraModel:
        if (self.hfov_deg is None) == (self.intrinsics is None):
            raise ValueError("give exactly one of hfov_deg and intrinsics")
        if self.intrinsics is not None:
            k = self.intrinsics
            if not (0 < k.cx < self.width and 0 < k.cy < self.height):
                raise ValueError(
                    f"intrinsics cx, cy ({k.cx:g}, {k.cy:g}) lie outside the "
                    f"{self.width}x{self.height} image"
                )
            if self.fov_deg[0] >= 170:
                raise ValueError("intrinsics give a field of view of 170 degrees or more")
        return self

    # -- derived values -----------------------------------------------------------------
    def matrix(self, width: int | None = None, height: int | None = None) -> np.ndarray:
        """The 3x3 camera matrix K, scaled to a ``width`` x ``height`` frame (same aspect)."""
        if self.intrinsics is not None:
            k = self.intrinsics
            fx, fy, cx, cy = k.fx, k.fy, k.cx, k.cy
        else:
            fx = fy = (self.width / 2) / math.tan(math.radians(self.hfov_deg) / 2)
            cx, cy = self.width / 2, self.height / 2
        sx = (width or self.width) / self.width
        sy = (height or self.height) / self.height
        return np.array([[fx * sx, 0, cx * sx], [0, fy * sy, cy * sy], [0, 0, 1]], float)

    @property
    def dist(self) -> np.ndarray | None:
        if self.intrinsics is None or not self.intrinsics.dist:
            return None
        return np.asarray(self.intrinsics.dist, float)

    @property
    def fov_deg(self) -> tuple[float, float]:
        """Horizontal and vertical field of view (degrees)."""
        k = self.matrix()
        h = math.atan(k[0, 2] / k[0, 0]) + math.atan((self.width - k[0, 2]) / k[0, 0])
        v = math.atan(k[1, 2] / k[1, 1]) + math.atan((self.height - k[1, 2]) / k[1, 1])
        return math.degrees(h), math.degrees(v)

    def check_frame(self, width: int, height: int) -> None:
        """Refuse a frame whose shape the model cannot describe (another aspect ratio)."""
        if abs(width / height - self.width / self.height) > 0.01:
            raise CameraError(
                f"camera {self.name}: frames are {width}x{height}, the model is "
                f"{self.width}x{self.height} (another aspect ratio): give the right --camera"
            )


def _hfov_from_diagonal(dfov_deg: float, width: int, height: int) -> float:
    """Horizontal field of view of a rectilinear lens given its diagonal one (data sheets)."""
    half = math.tan(math.radians(dfov_deg) / 2) * width / math.hypot(width, height)
    return round(math.degrees(2 * math.atan(half)), 2)


def _preset(name: str, width: int, height: int, dfov: float, **kw: float | str) -> CameraModel:
    return CameraModel(
        name=name,
        width=width,
        height=height,
        hfov_deg=_hfov_from_diagonal(dfov, width, height),
        **kw,
    )


# Video modes of common drone cameras, from their data sheets' diagonal field of view.
CAMERAS: dict[str, CameraModel] = {
    c.name: c
    for c in (
        # DJI Mavic 3 Enterprise wide camera: 84° DFOV, 4K video
        _preset("mavic3e-wide", 3840, 2160, 84.0),
        # DJI Zenmuse H20 wide camera: 82.9° DFOV, 1080p video
        _preset("h20-wide", 1920, 1080, 82.9),
        # SIYI A8 mini gimbal camera: 93° DFOV, 1080p video
        _preset("siyi-a8", 1920, 1080, 93.0),
        # The simulator's camera (patrol sim --camera): 70° horizontal, gimbal at -45°
        CameraModel(
            name="sim-1080p",
            width=1920,
            height=1080,
            hfov_deg=70.0,
            pitch_deg=-45.0,
            attitude_sigma_deg=0.5,
            yaw_sigma_deg=1.0,
        ),
        CameraModel(
            name="sim-720p",
            width=1280,
            height=720,
            hfov_deg=70.0,
            pitch_deg=-45.0,
            attitude_sigma_deg=0.5,
            yaw_sigma_deg=1.0,
        ),
    )
}


def _field_errors(where: str, exc: ValidationError) -> CameraError:
    parts = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"]) or "(model)"
        message = error["msg"].removeprefix("Value error, ")
        value = error.get("input")
        shown = "" if isinstance(value, dict) or "loc" not in error else f" (got {value!r})"
        parts.append(f"{field}: {message}{shown}")
    return CameraError(f"camera {where}: " + "; ".join(parts))


def load_camera(spec: str | Path) -> CameraModel:
    """A preset by name, or a .json / .toml file; CameraError names the file and field."""
    if str(spec) in CAMERAS:
        return CAMERAS[str(spec)]
    path = Path(spec)
    if path.suffix.lower() not in (".json", ".toml"):
        known = ", ".join(sorted(CAMERAS))
        raise CameraError(f"camera {spec}: not a preset ({known}) nor a .json/.toml file")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CameraError(f"camera {path}: cannot read it ({exc.strerror or exc})") from None
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise CameraError(f"camera {path}: not valid {path.suffix[1:].upper()}: {exc}") from None
    if not isinstance(data, dict):
        raise CameraError(f"camera {path}: expected a table of fields, got {type(data).__name__}")
    data.setdefault("name", path.stem)
    try:
        return CameraModel.model_validate(data)
    except ValidationError as exc:
        raise _field_errors(str(path), exc) from None
