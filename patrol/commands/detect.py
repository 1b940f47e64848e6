"""``patrol detect SRC``: find people, gatherings and missing masks in a video, stream, camera
or image folder; with poses (``--tlog`` or ``--connect``) place them on the ground and raise
flags in the store.

Exit status: 0 the source was read to its end (or ``--duration`` / Ctrl-C stopped it);
3 the source failed part-way (a stream that dropped, a damaged video): what was found until
then is stored and exported; 2 bad input, nothing run.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

EXIT_ENDED_EARLY = 3
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
PROGRESS_EVERY_S = 2.0
MAX_THREADS = 8


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "detect",
        help="detect people, gatherings and missing masks in camera footage",
        description="Detect people and faces in SRC (a video file, an image folder, an HTTP "
        "MJPEG / RTSP / UDP stream URL, or a camera device such as 0 or /dev/video0). With "
        "the aircraft's poses (--tlog or --connect) people are placed on the ground, "
        "gatherings and people without masks are flagged in the store and exported with -o. "
        "Exit status 3 when the source failed part-way (what was found is kept).",
    )
    p.add_argument("source", metavar="SRC")
    poses = p.add_mutually_exclusive_group()
    poses.add_argument("--tlog", type=Path, metavar="FILE", help="poses from a .tlog")
    poses.add_argument(
        "--connect",
        metavar="URL",
        help="poses from a live MAVLink link (e.g. the aircraft's "
        "SERIAL2: tcp:127.0.0.1:5763, or udpin:0.0.0.0:14550)",
    )
    p.add_argument("--sysid", type=int, metavar="N", help="the aircraft's system id")
    p.add_argument(
        "--camera",
        default="sim-1080p",
        metavar="NAME|FILE",
        help="camera model: a preset (mavic3e-wide, h20-wide, siyi-a8, sim-1080p, sim-720p) "
        "or a .json/.toml file (default sim-1080p)",
    )
    p.add_argument(
        "--detector",
        default="hog",
        metavar="NAME[,NAME]",
        help="detectors to run on each frame, e.g. hog, or a people detector and faces "
        "(default hog)",
    )
    p.add_argument("--every", type=int, default=1, metavar="N", help="process every Nth frame")
    p.add_argument(
        "--threads",
        type=int,
        default=2,
        metavar="N",
        help="frames detected at once, each by a detector of its own on a thread (default 2: "
        "both cores of a small companion computer; 1 = one frame at a time)",
    )
    p.add_argument("--boxes", type=Path, metavar="OUT.jsonl", help="write every frame's boxes")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FLAGS",
        help=".geojson or .csv of the flags this run raised",
    )
    p.add_argument("--grids", type=Path, metavar="FILE", help="grids to tag flags with")
    p.add_argument("--db", metavar="URL", help="SQLAlchemy URL (default: SQLite in data dir)")
    p.add_argument(
        "--video-start",
        metavar="ISO",
        help="UTC time of a video's first frame (default: the file's creation_time tag)",
    )
    p.add_argument("--fps", type=float, metavar="N", help="frame rate of an image folder")
    p.add_argument(
        "--max-gap",
        type=float,
        default=1.0,
        metavar="S",
        help="longest gap in the poses a frame may be paired across (default 1 s)",
    )
    p.add_argument(
        "--reconnect",
        type=float,
        default=10.0,
        metavar="S",
        help="how long a stream that stopped is retried before the run ends (default 10 s)",
    )
    g = p.add_argument_group("gatherings")
    g.add_argument(
        "--distance",
        type=float,
        default=2.0,
        metavar="M",
        help="people closer than this belong to one group (default 2 m)",
    )
    g.add_argument(
        "--min-people", type=int, default=3, metavar="N", help="smallest gathering (default 3)"
    )
    g.add_argument(
        "--confirm",
        type=int,
        default=2,
        metavar="N",
        help="frames a gathering must be seen in before it is flagged (default 2)",
    )
    tags = p.add_argument_group("tagging (set by patrol fly)")
    tags.add_argument("--patrol", type=int, metavar="ID")
    tags.add_argument("--sortie", type=int, metavar="ID")
    tags.add_argument(
        "--source-name",
        metavar="NAME",
        help="name of this camera on its flags (default SRC, or patrol-ID)",
    )
    p.add_argument("--duration", type=float, metavar="S", help="stop after S wall seconds")
    p.add_argument("--max-frames", type=int, metavar="N", help="stop after N processed frames")
    p.add_argument(
        "--nice",
        type=int,
        default=0,
        metavar="N",
        help="lower this process's CPU priority by N (patrol fly uses 10)",
    )
    p.set_defaults(func=run)


def _check(args: argparse.Namespace) -> None:
    from patrol.errors import CommandError

    if args.every < 1:
        raise CommandError("--every must be at least 1")
    if not 1 <= args.threads <= MAX_THREADS:
        raise CommandError(f"--threads must be 1 to {MAX_THREADS}")
    if args.distance <= 0 or args.min_people < 1 or args.confirm < 1:
        raise CommandError("--distance must be positive, --min-people and --confirm at least 1")
    if args.max_gap <= 0 or args.reconnect <= 0:
        raise CommandError("--max-gap and --reconnect must be positive")
    if args.output and args.output.suffix.lower() not in (".geojson", ".json", ".csv"):
        raise CommandError(f"-o {args.output}: give a .geojson or .csv file")
    if args.fps is not None and args.fps <= 0:
        raise CommandError("--fps must be positive")


def load_detectors(names: str):
    """One detector, or several run as one ("nanodet,faces"); CommandError if one cannot load."""
    from patrol.errors import CommandError
    from vision.detect import load_detector
    from vision.pipeline import Detectors

    detectors = []
    for name in (n.strip() for n in names.split(",")):
        try:
            detectors.append(load_detector(name))
        except Exception as exc:  # an unknown name, a model file missing or unreadable
            raise CommandError(f"detector {name}: {exc}") from None
    return detectors[0] if len(detectors) == 1 else Detectors(detectors)


@dataclass
class PoseFeed:
    lookup: Callable[[float], object] | None = None  # UTC time -> Pose
    clock: Callable[[], str] = lambda: "gps"  # where pose times come from: "gps", "receive"
    close: Callable[[], None] = lambda: None


def open_poses(args: argparse.Namespace, source) -> PoseFeed:
    """The poses of ``--tlog`` (checked to cover a video's time) or ``--connect``."""
    from patrol.errors import CommandError
    from vision.poses import PoseError, utc_text
    from vision.poses_mavlink import LivePoses, read_tlog
    from vision.sources import VideoFileSource

    try:
        if args.tlog:
            track = read_tlog(args.tlog, args.sysid, args.max_gap)
            if isinstance(source, VideoFileSource):
                if source.start is None:
                    raise CommandError(
                        f"video {args.source} has no start time (no creation_time tag): give "
                        "--video-start to pair it with the tlog"
                    )
                first, last = source.start, source.start + source.duration
                (begin, end) = track.span
                if last < begin or first > end:
                    raise CommandError(
                        f"tlog {args.tlog} covers {utc_text(begin)} to {utc_text(end)}; the "
                        f"video runs {utc_text(first)} to {utc_text(last)}: no frame can be "
                        "paired (check --video-start)"
                    )
            return PoseFeed(track.at, lambda: track.clock)
        if args.connect:
            live = LivePoses(args.connect, args.sysid, args.max_gap)
            return PoseFeed(live.pose_at, lambda: live.clock, live.close)
    except PoseError as exc:
        raise CommandError(str(exc)) from None
    return PoseFeed()


@dataclass
class Tally:
    """What a run saw, for the progress lines and the summary."""

    began: float = field(default_factory=time.monotonic)
    processed: int = 0
    placed: int = 0
    people: int = 0
    unplaced: dict[str, int] = field(default_factory=dict)
    store_errors: list[str] = field(default_factory=list)

    def add(self, report, placing: bool) -> None:
        self.processed += 1
        self.people += report.people
        if report.pose is not None:
            self.placed += 1
        elif report.pose_error and placing:
            self.unplaced[report.pose_error] = self.unplaced.get(report.pose_error, 0) + 1
        self.store_errors += report.store_errors

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.began


def export(path: Path, flags: list) -> None:
    from patrol.errors import CommandError
    from vision.flags import to_csv, to_geojson

    if path.suffix.lower() == ".csv":
        text = to_csv(flags)
    else:
        text = json.dumps(to_geojson(flags), ensure_ascii=False, indent=1)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"-o {path}: {exc.strerror or exc}") from None
    print(f"wrote {len(flags)} flag(s) to {path}")


def run(args: argparse.Namespace) -> int:
    from missions.errors import GridFileError
    from missions.grids import load_grids
    from patrol.detection import open_flag_store
    from patrol.errors import CommandError
    from patrol.option_parsing import parse_datetime
    from vision.camera import CameraError, load_camera
    from vision.detect.parallel import detect_frames
    from vision.pipeline import Pipeline, Settings
    from vision.sources import SourceError, open_source

    _check(args)
    if args.nice:
        os.nice(args.nice)
    try:
        camera = load_camera(args.camera)
    except CameraError as exc:
        raise CommandError(str(exc)) from None
    detector = load_detectors(args.detector)
    try:
        grids = load_grids(args.grids) if args.grids else []
    except GridFileError as exc:
        raise CommandError(str(exc)) from None
    start = None
    if args.video_start:
        start = parse_datetime(args.video_start, "--video-start").timestamp()
    try:
        source = open_source(args.source, start=start, fps=args.fps, reconnect_s=args.reconnect)
    except SourceError as exc:
        raise CommandError(str(exc)) from None
    try:
        poses = open_poses(args, source)
        boxes_out = _open_boxes(args.boxes)
    except CommandError:
        source.close()
        raise
    placing = poses.lookup is not None
    store = open_flag_store(args.db) if placing else None
    name = args.source_name or (f"patrol-{args.patrol}" if args.patrol else args.source)
    settings = Settings(
        distance_m=args.distance, min_people=args.min_people, confirm_frames=args.confirm
    )
    pipeline = Pipeline(
        detector,
        camera,
        settings,
        poses.lookup,
        store,
        name[:300],
        grids,
        args.patrol,
        args.sortie,
        track_prefix=f"s{args.sortie}-" if args.sortie else "",
    )
    what = "detecting" + (" and placing" if placing else " only (no poses: no flags)")
    print(f"detect: {source.name} with {detector.name}, camera {camera.name}; {what}", flush=True)
    tally = Tally()
    failure = None
    stop = threading.Event()
    handlers = {}
    if threading.current_thread() is threading.main_thread():
        handlers = {s: signal.signal(s, lambda *_: stop.set()) for s in STOP_SIGNALS}
    last_progress = tally.began
    spare = [detector]  # the first thread takes this one, the others load their own

    def make_detector():  # type: ignore[no-untyped-def]
        return spare.pop() if spare else load_detectors(args.detector)

    frames = detect_frames(
        make_detector, source.frames(args.every), args.threads, lambda frame: frame.image
    )
    try:
        for frame, boxes in frames:
            report = pipeline.process(frame, boxes)
            tally.add(report, placing)
            if boxes_out is not None:
                line = {"frame": frame.index, "boxes": [b.to_json() for b in report.boxes]}
                boxes_out.write(json.dumps(line) + "\n")
            if time.monotonic() - last_progress >= PROGRESS_EVERY_S:
                last_progress = time.monotonic()
                print(
                    f"  frame {frame.index}: {tally.processed} processed "
                    f"({tally.processed / tally.seconds:.1f}/s), {tally.people} people, "
                    f"{len(pipeline.flag_ids)} flags",
                    flush=True,
                )
            if (
                stop.is_set()
                or (args.duration is not None and tally.seconds >= args.duration)
                or (args.max_frames is not None and tally.processed >= args.max_frames)
            ):
                break
    except SourceError as exc:
        failure = str(exc)
    finally:
        frames.close()  # the detecting threads finish their frames and stop
        source.close()
        poses.close()
        if boxes_out is not None:
            boxes_out.close()
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    failure = failure or getattr(source, "ended_early", None)
    flags = [store.get(i) for i in sorted(pipeline.flag_ids)] if store else []
    _summary(tally, placing, flags, poses.clock())
    if args.output:
        export(args.output, flags)
    if args.boxes:
        print(f"wrote boxes of {tally.processed} frames to {args.boxes}")
    if failure:
        print(f"patrol detect: {failure}; what was found until then is kept", file=sys.stderr)
        return EXIT_ENDED_EARLY
    return 0


def _open_boxes(path: Path | None):
    from patrol.errors import CommandError

    if path is None:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("w", encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"--boxes {path}: {exc.strerror or exc}") from None


def _summary(tally: Tally, placing: bool, flags: list, clock: str) -> None:
    rate = tally.processed / max(tally.seconds, 1e-9)
    print(
        f"processed {tally.processed} frames in {tally.seconds:.1f} s ({rate:.1f}/s); "
        f"{tally.people} people detected"
    )
    if placing:
        missing = ""
        if tally.unplaced:
            example = next(iter(tally.unplaced))
            missing = f"; {sum(tally.unplaced.values())} without a pose, e.g. {example}"
        print(f"placed {tally.placed} frames on the ground{missing}")
        kinds = {k: sum(1 for f in flags if f.kind == k) for k in ("gathering", "no_mask")}
        print(f"flags: {kinds['gathering']} gathering(s), {kinds['no_mask']} no_mask")
        for f in flags:
            where = f" in {f.grid}" if f.grid else ""
            print(
                f"  #{f.id} {f.kind} {f.count} people at {f.lat:.6f}, {f.lon:.6f} "
                f"(±{f.error_m:.1f} m){where}"
            )
        if clock == "receive":
            print(
                "warning: no GPS time from the aircraft: frames were paired by the time the "
                "telemetry arrived",
                file=sys.stderr,
            )
    if tally.store_errors:
        print(
            f"warning: {len(tally.store_errors)} flag(s) not stored, e.g. {tally.store_errors[0]}",
            file=sys.stderr,
        )
