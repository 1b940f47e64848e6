"""The detection pipeline: frame -> detector -> pose at the frame's time -> ground points ->
clusters -> tracks -> flags in the FlagStore (with grid, patrol, sortie, crop and thumbnail).

``Pipeline.process(frame)`` does one frame and says what it found; it never raises for a frame
it cannot place (no pose at that time): the frame's boxes are still reported. Flags already
stored are never lost: a flag that cannot be stored is reported and the run goes on.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import cv2
import numpy as np
import shapely
from shapely.geometry import Point

from missions.grids import Grid
from missions.projection import LocalFrame
from vision.boxes import Box, Detector
from vision.camera import CameraModel
from vision.flags import Flag, FlagError, FlagFilter, FlagStore, Observation
from vision.gatherings import Sighting, Track, Tracker, cluster
from vision.geolocate import Geolocator, GroundFix
from vision.poses import Pose, PoseError
from vision.sources import Frame

log = logging.getLogger(__name__)

FACE_HEIGHT_M = 1.6  # a face with no person box around it: assumed this high over the ground
EDGE_FRACTION = 0.02  # a box this close to the frame's border may be cut off
THUMBNAIL_WIDTH = 640
JPEG_QUALITY = 85

PoseLookup = Callable[[float], Pose]


@dataclass(frozen=True)
class Settings:
    distance_m: float = 2.0  # people closer than this to one of a group belong to it
    min_people: int = 3  # a gathering has at least this many
    confirm_frames: int = 2  # sightings before a track becomes a flag
    gate_m: float = 4.0  # how far a group may seem to move between sightings
    update_every_s: float = 10.0  # an unchanged flag is refreshed at most this often
    move_m: float = 1.0  # a flag moved at least this much is refreshed at once
    adopt_within_s: float = 3600.0  # continue a stored flag of the same source seen this recently


@dataclass
class FoundGathering:
    track: Track
    sighting: Sighting
    lat: float
    lon: float


@dataclass
class FrameReport:
    frame: Frame
    boxes: list[Box]
    pose: Pose | None = None
    pose_error: str | None = None
    people: int = 0
    located: int = 0
    gatherings: list[FoundGathering] = field(default_factory=list)
    no_mask: list[FoundGathering] = field(default_factory=list)
    recorded: list[Flag] = field(default_factory=list)
    store_errors: list[str] = field(default_factory=list)


class Detectors:
    """Several detectors run on each frame as one (people from one, faces from another)."""

    def __init__(self, detectors: Sequence[Detector]) -> None:
        self.detectors = list(detectors)
        self.name = "+".join(d.name for d in self.detectors)

    def detect(self, frame: np.ndarray) -> list[Box]:
        return [box for d in self.detectors for box in d.detect(frame)]


class GridIndex:
    """Which grid polygon holds a point."""

    def __init__(self, grids: Sequence[Grid]) -> None:
        self.names = [g.name for g in grids]
        self.tree = shapely.STRtree([g.polygon for g in grids]) if grids else None
        self.polygons = [g.polygon for g in grids]

    def name_at(self, lat: float, lon: float) -> str | None:
        if self.tree is None:
            return None
        point = Point(lon, lat)
        hits = sorted(int(i) for i in self.tree.query(point, predicate="intersects"))
        return self.names[hits[0]] if hits else None


def jpeg(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return data.tobytes()


class Pipeline:
    def __init__(
        self,
        detector: Detector,
        camera: CameraModel,
        settings: Settings | None = None,
        poses: PoseLookup | None = None,
        store: FlagStore | None = None,
        source: str = "",
        grids: Sequence[Grid] = (),
        patrol_id: int | None = None,
        sortie_id: int | None = None,
        track_prefix: str = "",
    ) -> None:
        self.detector = detector
        self.camera = camera
        self.settings = settings or Settings()
        self.poses = poses
        self.store = store
        self.source = source
        self.grids = GridIndex(grids)
        self.patrol_id = patrol_id
        self.sortie_id = sortie_id
        s = self.settings
        self.people_tracker = Tracker(
            f"{track_prefix}g",
            s.gate_m,
            s.confirm_frames,
            adopt=self._adopter("gathering"),
        )
        self.mask_tracker = Tracker(
            f"{track_prefix}m", s.gate_m, s.confirm_frames, adopt=self._adopter("no_mask")
        )
        self.local: LocalFrame | None = None
        self._geolocators: dict[tuple[int, int], Geolocator] = {}
        self._last_record: dict[str, tuple[float, int, float, float]] = {}
        self.flag_ids: set[int] = set()
        self.frames = self.placed = self.people = 0
        self._now = 0.0

    # -- stored flags a new track may continue ------------------------------------------------
    def _adopter(self, kind: str) -> Callable[[float, float], str | None]:
        def adopt(north: float, east: float) -> str | None:
            if self.store is None or self.local is None:
                return None
            since = datetime.fromtimestamp(self._now - self.settings.adopt_within_s, UTC)
            flt = FlagFilter(kind=kind, patrol_id=self.patrol_id, since=since)
            best, best_d = None, math.inf
            for flag in self.store.list(flt, limit=500):
                if flag.source != self.source or flag.track is None:
                    continue
                x, y = self.local.to_local(flag.lon, flag.lat)
                d = math.hypot(float(y) - north, float(x) - east)
                if d < best_d and d <= self.settings.gate_m + (flag.radius_m or 0.0):
                    best, best_d = flag.track, d
            if best is not None and any(
                t.id == best for t in (self.people_tracker.tracks + self.mask_tracker.tracks)
            ):
                return None  # that flag is already followed by a live track
            return best

        return adopt

    # -- one frame ----------------------------------------------------------------------------
    def process(self, frame: Frame, boxes: list[Box] | None = None) -> FrameReport:
        """One frame; ``boxes`` when its detection already ran (vision.detect.parallel)."""
        self.frames += 1
        if boxes is None:
            boxes = self.detector.detect(frame.image)
        report = FrameReport(frame, boxes)
        people = [b for b in boxes if b.cls == "person"]
        report.people = len(people)
        self.people += len(people)
        if self.poses is None:
            return report
        if frame.time is None:
            report.pose_error = "the frame has no capture time"
            return report
        try:
            pose = self.poses(frame.time)
        except PoseError as exc:
            report.pose_error = str(exc)
            return report
        report.pose = pose
        self.placed += 1
        self._now = frame.time
        if self.local is None:
            self.local = LocalFrame(pose.lat, pose.lon)
        height, width = frame.image.shape[:2]
        geo = self._geolocators.get((width, height))
        if geo is None:
            geo = self._geolocators[(width, height)] = Geolocator(self.camera, width, height)
        if people:
            fix = geo.locate(pose, np.array([b.foot for b in people]), self._pixel_sigma(people))
            report.located = int(fix.valid.sum())
            sightings = self._sightings(fix, people, frame, self.settings.min_people)
            for track, s in self.people_tracker.update(frame.time, sightings):
                report.gatherings.append(self._found(track, s))
                self._record("gathering", track, s, frame, people, report)
        unmasked = [b for b in boxes if b.cls == "face" and b.mask is False]
        if unmasked:
            pixels, above = self._face_points(unmasked, people)
            fix = geo.locate(pose, pixels, self._pixel_sigma(unmasked), above)
            sightings = self._sightings(fix, unmasked, frame, 1)
            for track, s in self.mask_tracker.update(frame.time, sightings):
                report.no_mask.append(self._found(track, s))
                self._record("no_mask", track, s, frame, unmasked, report)
        return report

    def _pixel_sigma(self, boxes: list[Box]) -> np.ndarray:
        # where a box's bottom edge meets the ground is uncertain by a share of its height
        return np.array([max(self.camera.pixel_sigma, 0.05 * b.height) for b in boxes])

    @staticmethod
    def _face_points(faces: list[Box], people: list[Box]) -> tuple[np.ndarray, np.ndarray]:
        """A face's ground point: the foot of the person box around it, else the face itself
        taken at FACE_HEIGHT_M over the ground."""
        pixels, above = [], []
        for face in faces:
            cx, cy = (face.x1 + face.x2) / 2, (face.y1 + face.y2) / 2
            around = [p for p in people if p.x1 <= cx <= p.x2 and p.y1 <= cy <= p.y2]
            if around:
                person = max(around, key=lambda p: p.height)
                pixels.append(person.foot)
                above.append(0.0)
            else:
                pixels.append((cx, cy))
                above.append(FACE_HEIGHT_M)
        return np.array(pixels, float), np.array(above, float)

    def _sightings(
        self, fix: GroundFix, boxes: list[Box], frame: Frame, min_size: int
    ) -> list[Sighting]:
        valid = np.flatnonzero(fix.valid)
        if len(valid) < min_size:
            return []
        north, east = self._local(fix)
        points = np.column_stack([north[valid], east[valid]])
        height, width = frame.image.shape[:2]
        mx, my = EDGE_FRACTION * width, EDGE_FRACTION * height
        result = []
        for group in cluster(points, self.settings.distance_m, min_size):
            members = valid[group]
            _, _, cov = fix.centre(members)
            cn, ce = float(north[members].mean()), float(east[members].mean())
            radius = float(np.hypot(north[members] - cn, east[members] - ce).max())
            edge = any(
                b.x1 < mx or b.y1 < my or b.x2 > width - mx or b.y2 > height - my
                for b in (boxes[i] for i in members)
            )
            result.append(
                Sighting(
                    cn,
                    ce,
                    float(math.sqrt(np.trace(cov))),
                    len(members),
                    radius,
                    float(np.mean([boxes[i].score for i in members])),
                    edge,
                    tuple(int(i) for i in members),
                )
            )
        return result

    def _local(self, fix: GroundFix) -> tuple[np.ndarray, np.ndarray]:
        """The fixes in the tracker's metric frame (north, east), NaN where invalid."""
        north = np.full(len(fix.lat), np.nan)
        east = np.full(len(fix.lat), np.nan)
        ok = fix.valid
        if ok.any():
            x, y = self.local.to_local(fix.lon[ok], fix.lat[ok])
            north[ok], east[ok] = y, x
        return north, east

    def _found(self, track: Track, s: Sighting) -> FoundGathering:
        lon, lat = self.local.to_geo(track.east, track.north)
        return FoundGathering(track, s, float(lat), float(lon))

    # -- flags --------------------------------------------------------------------------------
    def _record(
        self,
        kind: str,
        track: Track,
        s: Sighting,
        frame: Frame,
        boxes: list[Box],
        report: FrameReport,
    ) -> None:
        if self.store is None or not track.confirmed:
            return
        last = self._last_record.get(track.id)
        t = frame.time
        if last is not None:
            last_t, last_count, last_n, last_e = last
            moved = math.hypot(track.north - last_n, track.east - last_e)
            if (
                track.count == last_count
                and moved < self.settings.move_m
                and t - last_t < self.settings.update_every_s
            ):
                return
        found = self._found(track, s)
        members = [boxes[i] for i in s.members]
        obs = Observation(
            kind=kind,
            count=track.count,
            confidence=min(max(track.score, 0.0), 1.0),
            lat=found.lat,
            lon=found.lon,
            error_m=round(track.error_m, 2),
            at=datetime.fromtimestamp(t, UTC),
            radius_m=round(track.radius_m, 2) if kind == "gathering" else None,
            grid=self.grids.name_at(found.lat, found.lon),
            patrol_id=self.patrol_id,
            sortie_id=self.sortie_id,
            source=self.source,
            track=track.id,
            crop_jpeg=jpeg(self._crop(frame.image, members)),
            thumbnail_jpeg=jpeg(self._thumbnail(frame.image, members)),
            detail={
                "frame": frame.index,
                "seen": track.seen,
                "in_view": s.count,
                "at_edge": s.at_edge,
            },
        )
        try:
            flag = self.store.record(obs)
        except FlagError as exc:
            report.store_errors.append(f"{kind} {track.id}: {exc}")
            log.warning("flag %s not stored: %s", track.id, exc)
            return
        self._last_record[track.id] = (t, track.count, track.north, track.east)
        self.flag_ids.add(flag.id)
        report.recorded.append(flag)

    @staticmethod
    def _crop(image: np.ndarray, boxes: list[Box]) -> np.ndarray:
        h, w = image.shape[:2]
        x1, y1 = min(b.x1 for b in boxes), min(b.y1 for b in boxes)
        x2, y2 = max(b.x2 for b in boxes), max(b.y2 for b in boxes)
        pad = max(0.3 * max(x2 - x1, y2 - y1), 32)
        x1, y1 = int(max(0, x1 - pad)), int(max(0, y1 - pad))
        x2, y2 = int(min(w, x2 + pad)), int(min(h, y2 + pad))
        return image[y1:y2, x1:x2]

    @staticmethod
    def _thumbnail(image: np.ndarray, boxes: list[Box]) -> np.ndarray:
        h, w = image.shape[:2]
        scale = min(1.0, THUMBNAIL_WIDTH / w)
        thumb = cv2.resize(
            image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA
        )
        for b in boxes:
            p1 = (int(b.x1 * scale), int(b.y1 * scale))
            p2 = (int(b.x2 * scale), int(b.y2 * scale))
            cv2.rectangle(thumb, p1, p2, (0, 0, 255), 2)
        return thumb
