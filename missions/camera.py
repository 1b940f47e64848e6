"""Camera models and the footprint / line-spacing arithmetic of a nadir survey camera."""

from __future__ import annotations

from dataclasses import dataclass

from missions.errors import PlanningError


@dataclass(frozen=True)
class Camera:
    """A nadir camera mounted with the image's long side across the flight direction."""

    name: str
    sensor_width_mm: float
    sensor_height_mm: float
    focal_length_mm: float
    image_width_px: int
    image_height_px: int

    def footprint_width(self, alt_m: float) -> float:
        """Ground width (m) seen across track from ``alt_m`` above ground."""
        return alt_m * self.sensor_width_mm / self.focal_length_mm

    def footprint_height(self, alt_m: float) -> float:
        """Ground length (m) seen along track."""
        return alt_m * self.sensor_height_mm / self.focal_length_mm

    def gsd_cm(self, alt_m: float) -> float:
        """Ground sample distance in cm per pixel."""
        return 100 * self.footprint_width(alt_m) / self.image_width_px

    def line_spacing(self, alt_m: float, overlap_pct: float) -> float:
        """Distance between sweep lines for a side overlap of ``overlap_pct`` percent."""
        if not 0 <= overlap_pct < 100:
            raise PlanningError(f"overlap {overlap_pct:g}% must be at least 0 and below 100")
        return self.footprint_width(alt_m) * (1 - overlap_pct / 100)


# Published specifications (manufacturer data sheets).
CAMERAS: dict[str, Camera] = {
    c.name: c
    for c in (
        # DJI Mavic 3 Enterprise wide camera: 4/3" CMOS 17.3 x 13.0 mm, 12.29 mm (24 mm eq.), 20 MP.
        Camera("mavic3e", 17.3, 13.0, 12.29, 5280, 3956),
        # DJI Zenmuse H20 wide camera: 1/2.3" CMOS 6.17 x 4.55 mm, 4.5 mm (24 mm eq.), 12 MP.
        Camera("h20-wide", 6.17, 4.55, 4.5, 4056, 3040),
        # A generic 1/2.3" action/gimbal camera with a 4.5 mm lens, 12 MP.
        Camera("generic-1/2.3", 6.17, 4.55, 4.5, 4000, 3000),
    )
}


def camera_named(name: str) -> Camera:
    try:
        return CAMERAS[name]
    except KeyError:
        known = ", ".join(sorted(CAMERAS))
        raise PlanningError(f"unknown camera '{name}' (known: {known})") from None
