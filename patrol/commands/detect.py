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
from pathlib import Path

EXIT_ENDED_EARLY = 3
PROGRESS_EVERY_S = 2.0


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


def _video_span(source) -> tuple[float, float] | None:
    start = getattr(source, "start", None)
    if start is None:
        return None
    count, fps = getattr(source, "count", 0), getattr(source, "fps", 0.0)
    return start, start + (count / fps if count and fps else 0.0)


def run(args: argparse.Namespace) -> int:
    from missions.errors import GridFileError
    from missions.grids import load_grids
    from patrol.detection import open_flag_store
    from patrol.errors import CommandError
    from patrol.option_parsing import parse_datetime
    from vision.camera import CameraError, load_camera
    from vision.flags import to_csv, to_geojson
    from vision.pipeline import Pipeline, Settings
    from vision.poses import PoseError, utc_text
    from vision.poses_mavlink import LivePoses, read_tlog
    from vision.sources import SourceError, open_source

    _check(args)
    if args.nice:
        os.nice(args.nice)
    try:
        camera = load_camera(args.camera)
    except CameraError as exc:
        raise CommandError(str(exc)) from None
    detector = load_detectors(args.detector)
    grids = []
    if args.grids:
        try:
            grids = load_grids(args.grids)
        except GridFileError as exc:
            raise CommandError(str(exc)) from None
    start = (
        parse_datetime(args.video_start, "--video-start").timestamp() if args.video_start else None
    )
    try:
        source = open_source(args.source, start=start, fps=args.fps, reconnect_s=args.reconnect)
    except SourceError as exc:
        raise CommandError(str(exc)) from None

    live = None
    poses = None
    clock = None  # where pose times come from: "gps" or "receive"
    try:
        if args.tlog:
            track = read_tlog(args.tlog, args.sysid, args.max_gap)
            span = track.span
            if not source.live:
                video = _video_span(source) if hasattr(source, "count") else None
                if hasattr(source, "count") and video is None:
                    raise CommandError(
                        f"video {args.source} has no start time (no creation_time tag): give "
                        "--video-start to pair it with the tlog"
                    )
                if video and (video[1] < span[0] or video[0] > span[1]):
                    raise CommandError(
                        f"tlog {args.tlog} covers {utc_text(span[0])} to {utc_text(span[1])}; "
                        f"the video runs {utc_text(video[0])} to {utc_text(video[1])}: no frame "
                        "can be paired (check --video-start)"
                    )
            poses, clock = track.at, (lambda: track.clock)
        elif args.connect:
            live = LivePoses(args.connect, args.sysid, args.max_gap)
            poses, clock = live.pose_at, (lambda: live.clock)
    except PoseError as exc:
        source.close()
        raise CommandError(str(exc)) from None
    except CommandError:
        source.close()
        raise

    source_name = args.source_name or (f"patrol-{args.patrol}" if args.patrol else args.source)
    store = open_flag_store(args.db) if poses is not None else None
    settings = Settings(
        distance_m=args.distance, min_people=args.min_people, confirm_frames=args.confirm
    )
    pipeline = Pipeline(
        detector,
        camera,
        settings,
        poses,
        store,
        source_name[:300],
        grids,
        args.patrol,
        args.sortie,
        track_prefix=f"s{args.sortie}-" if args.sortie else "",
    )
    boxes_out = None
    if args.boxes:
        try:
            args.boxes.parent.mkdir(parents=True, exist_ok=True)
            boxes_out = args.boxes.open("w", encoding="utf-8")
        except OSError as exc:
            source.close()
            raise CommandError(f"--boxes {args.boxes}: {exc.strerror or exc}") from None

    stop = threading.Event()
    handlers = {}
    if threading.current_thread() is threading.main_thread():
        handlers = {
            s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)
        }
    what = "detecting" + (" and placing" if poses else " only (no poses: no flags)")
    print(f"detect: {source.name} with {detector.name}, camera {camera.name}; {what}", flush=True)
    began = time.monotonic()
    last_progress = began
    processed = placed = people = 0
    unplaced: dict[str, int] = {}
    failure = None
    store_errors: list[str] = []
    try:
        for frame in source.frames(args.every):
            report = pipeline.process(frame)
            processed += 1
            people += report.people
            if report.pose is not None:
                placed += 1
            elif report.pose_error and poses is not None:
                unplaced[report.pose_error] = unplaced.get(report.pose_error, 0) + 1
            store_errors += report.store_errors
            if boxes_out is not None:
                line = {"frame": frame.index, "boxes": [b.to_json() for b in report.boxes]}
                boxes_out.write(json.dumps(line) + "\n")
            now = time.monotonic()
            if now - last_progress >= PROGRESS_EVERY_S:
                last_progress = now
                rate = processed / (now - began)
                print(
                    f"  frame {frame.index}: {processed} processed ({rate:.1f}/s), "
                    f"{people} people, {len(pipeline.flag_ids)} flags",
                    flush=True,
                )
            if stop.is_set():
                break
            if args.duration is not None and now - began >= args.duration:
                break
            if args.max_frames is not None and processed >= args.max_frames:
                break
    except SourceError as exc:
        failure = str(exc)
    finally:
        source.close()
        if live is not None:
            live.close()
        if boxes_out is not None:
            boxes_out.close()
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    if failure is None:
        failure = getattr(source, "ended_early", None)

    seconds = time.monotonic() - began
    print(
        f"processed {processed} frames in {seconds:.1f} s ({processed / max(seconds, 1e-9):.1f}"
        f"/s); {people} people detected"
    )
    if poses is not None:
        print(
            f"placed {placed} frames on the ground"
            + (
                ""
                if not unplaced
                else f"; {sum(unplaced.values())} without a pose, e.g. {next(iter(unplaced))}"
            )
        )
        flags = [store.get(i) for i in sorted(pipeline.flag_ids)]
        by_kind = {k: sum(1 for f in flags if f.kind == k) for k in ("gathering", "no_mask")}
        print(f"flags: {by_kind['gathering']} gathering(s), {by_kind['no_mask']} no_mask")
        for f in flags:
            print(
                f"  #{f.id} {f.kind} {f.count} people at {f.lat:.6f}, {f.lon:.6f} "
                f"(±{f.error_m:.1f} m){' in ' + f.grid if f.grid else ''}"
            )
        if clock() == "receive":
            print(
                "warning: no GPS time from the aircraft: frames were paired by the time the "
                "telemetry arrived",
                file=sys.stderr,
            )
    if store_errors:
        print(
            f"warning: {len(store_errors)} flag(s) not stored, e.g. {store_errors[0]}",
            file=sys.stderr,
        )
    if args.output:
        flags = [store.get(i) for i in sorted(pipeline.flag_ids)] if store else []
        text = (
            to_csv(flags)
            if args.output.suffix.lower() == ".csv"
            else json.dumps(to_geojson(flags), ensure_ascii=False, indent=1)
        )
        try:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"-o {args.output}: {exc.strerror or exc}") from None
        print(f"wrote {len(flags)} flag(s) to {args.output}")
    if args.boxes:
        print(f"wrote boxes of {processed} frames to {args.boxes}")
    if failure:
        print(f"patrol detect: {failure}; what was found until then is kept", file=sys.stderr)
        return EXIT_ENDED_EARLY
    return 0
