"""``patrol plan``: plan a patrol route over village grids and write it for the aircraft."""

from __future__ import annotations

import argparse
import json
import math
import unicodedata
from pathlib import Path

from missions.camera import CAMERAS
from patrol.errors import CommandError
from patrol.option_parsing import finite_float


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "plan",
        help="plan a patrol route over village grids",
        description="Plan coverage, perimeter or hover-point patrols over grid polygons "
        "(GeoJSON, KML, QGroundControl .plan) and write .plan, .waypoints or GeoJSON.",
    )
    p.add_argument("grids", type=Path, metavar="GRIDS", help="grids file (.geojson, .kml, .plan)")
    p.add_argument(
        "--grid", action="append", metavar="NAME", help="plan only this grid (repeatable)"
    )
    p.add_argument("--pattern", choices=("coverage", "perimeter", "points"), default="coverage")
    p.add_argument("--alt", type=float, default=30.0, metavar="M", help="height above take-off")
    p.add_argument("--speed", type=float, default=8.0, metavar="M/S", help="ground speed")
    spacing = p.add_mutually_exclusive_group()
    spacing.add_argument(
        "--spacing",
        type=float,
        metavar="M",
        help="distance between sweep lines (coverage) or hover points (points)",
    )
    spacing.add_argument("--camera", choices=sorted(CAMERAS), help="derive spacing from a camera")
    p.add_argument(
        "--overlap", type=float, default=20.0, metavar="PCT", help="side overlap with --camera"
    )
    p.add_argument(
        "--angle", default="auto", metavar="auto|DEG", help="sweep bearing from north, or auto"
    )
    p.add_argument(
        "--no-fly",
        action="append",
        nargs="+",
        type=Path,
        default=[],
        metavar="FILE",
        help="no-fly zones (polygons) to keep out of",
    )
    p.add_argument("--home", metavar="LAT,LON[,ALT]", help="take-off point (ALT metres AMSL)")
    p.add_argument("--endurance", type=float, metavar="MIN", help="split into sorties this long")
    p.add_argument("-o", "--output", type=Path, metavar="OUT", help=".plan, .waypoints, .geojson")
    p.add_argument("--json", action="store_true", help="print the stats as one JSON object")
    p.add_argument("--repair", action="store_true", help="fix invalid rings (make_valid)")
    p.add_argument("--allow-altitude", action="store_true", help="allow altitudes outside 5-120 m")
    p.add_argument("--loiter", type=float, default=30.0, metavar="S", help="hover time (points)")
    p.add_argument("--inset", type=float, default=10.0, metavar="M", help="perimeter inset")
    p.add_argument(
        "--clearance", type=float, default=10.0, metavar="M", help="distance from no-fly zones"
    )
    p.add_argument(
        "--fence-margin", type=float, default=30.0, metavar="M", help="fence beyond the route"
    )
    p.add_argument(
        "--min-coverage",
        type=float,
        default=99.5,
        metavar="PCT",
        help="shorten sweep ends while the camera still sees this share (100: never)",
    )
    p.add_argument(
        "--rally", action="append", default=[], metavar="LAT,LON", help="rally point (repeatable)"
    )
    p.set_defaults(func=run)


def _floats(text: str, option: str, counts: tuple[int, ...]) -> list[float]:
    try:
        values = [float(v) for v in text.replace(" ", "").split(",")]
    except ValueError:
        values = []
    if len(values) not in counts or not all(math.isfinite(v) for v in values):
        shapes = " or ".join(_shape(n) for n in counts)
        raise CommandError(f"{option} expects {shapes} in finite numbers: {text[:60]!r}")
    return values


def _shape(n: int) -> str:
    return {2: "LAT,LON", 3: "LAT,LON,ALT"}[n]


def _latlon(values: list[float], option: str) -> tuple[float, float]:
    lat, lon = values[0], values[1]
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        swapped = " (latitude and longitude swapped?)" if abs(lon) <= 90 < abs(lat) else ""
        raise CommandError(f"{option} {lat:g},{lon:g} is out of range{swapped}")
    return lat, lon


def _one_line_first(text: str) -> str:
    """Several problems: the first on the refusal's line, the rest indented below it."""
    first, *rest = text.split("\n")
    if not rest:
        return first
    return f"{first} (and {len(rest)} more below)\n" + "\n".join(f"  {r}" for r in rest)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 0)


def _duration(seconds: float) -> str:
    m = round(seconds / 60)
    return f"{m // 60} h {m % 60:02d} min" if m >= 60 else f"{m} min"


def _table(plan, files: list[list[Path]], note: str, min_coverage: float) -> str:
    sweep = any(g.angle_deg is not None for g in plan.grids)
    rows = [
        (
            g.name,
            f"{g.area_m2:,.0f}",
            f"{g.coverage_pct:.1f}",
            f"{g.length_m:,.0f}",
            f"{g.angle_deg:.1f}" if g.angle_deg is not None else "",
        )
        for g in plan.grids
    ]
    head = ("grid", "area m²", "coverage %", "route m", "bearing °" if sweep else "")
    w0 = max(_width(r[0]) for r in [head, *rows])
    lines = [
        f"{len(plan.grids)} grid(s), {len(plan.sorties)} sortie(s), {plan.items} mission items, "
        f"{plan.length_m / 1000:.2f} km, about {_duration(plan.flight_time_s)} in the air",
        note,
    ]
    if sweep:
        lines.append(
            f"area left unseen: {plan.given_up_pct:.2f} % (up to {100 - min_coverage:g} % a grid "
            "spent on a shorter route, --min-coverage; no-fly clearances cut off more)"
        )
    lines += ["", _row(head, w0)]
    lines += [_row(r, w0) for r in rows]
    lines.append("")
    for n, (m, length, t) in enumerate(
        zip(plan.sorties, plan.sortie_lengths, plan.sortie_times, strict=True), 1
    ):
        lines.append(
            f"sortie {n}: {len(m.items)} items, {length / 1000:.2f} km, {_duration(t)}"
            f" -> {_files_text(files[n - 1])}"
        )
    return "\n".join(lines)


def _row(r: tuple[str, ...], w0: int) -> str:
    return f"{_pad(r[0], w0)}  {r[1]:>12}  {r[2]:>10}  {r[3]:>9}  {r[4]:>9}".rstrip()


def _files_text(files: list[Path]) -> str:
    """A sortie's mission file, and what was written beside it (fence, rally, parameters)."""
    main, *beside = files
    return str(main) + (f" (with {', '.join(f.name for f in beside)})" if beside else "")


def run(args: argparse.Namespace) -> int:
    import sys

    from missions.camera import camera_named
    from missions.errors import PlanningError
    from missions.formats import write_missions
    from missions.grids import read_grids
    from missions.plan_settings import PlanSettings, footprint_note
    from missions.planner import plan_patrol
    from patrol.datadir import sub_dir

    if not args.home:
        raise CommandError("--home LAT,LON[,ALT] is required (the take-off point)")
    home_values = _floats(args.home, "--home", (2, 3))
    home = _latlon(home_values, "--home")
    rally = [_latlon(_floats(r, "--rally", (2,)), "--rally") for r in args.rally]
    angle = None
    if args.angle.strip().lower() != "auto":
        try:
            angle = finite_float(args.angle) % 180.0
        except argparse.ArgumentTypeError:
            raise CommandError(
                f"--angle expects auto or degrees, not {args.angle[:40]!r}"
            ) from None
    output = args.output or sub_dir("plans") / f"{args.grids.stem}.plan"
    if output.suffix.lower() not in (".plan", ".waypoints", ".geojson"):
        raise CommandError(f"-o {output}: use a .plan, .waypoints or .geojson file name")
    try:
        grid_file = read_grids(args.grids, repair=args.repair, select=args.grid)
        grids = grid_file.grids
        zone_files = [read_grids(f) for group in args.no_fly for f in group]
        no_fly = [z for f in zone_files for z in f.grids]
        settings = PlanSettings(
            pattern=args.pattern,
            alt=args.alt,
            speed=args.speed,
            spacing=args.spacing,
            camera=camera_named(args.camera) if args.camera else None,
            overlap=args.overlap,
            angle=angle,
            loiter=args.loiter,
            endurance_min=args.endurance,
            inset=args.inset,
            clearance=args.clearance,
            fence_margin=args.fence_margin,
            min_coverage=args.min_coverage,
            allow_altitude=args.allow_altitude,
            home_alt=home_values[2] if len(home_values) == 3 else 0.0,
            rally=rally,
            name=output.stem,
        )
        plan = plan_patrol(grids, settings, home, no_fly)
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CommandError(f"-o {output}: cannot make its directory: {exc.strerror}") from None
        files = write_missions(output, plan.sorties)
    except PlanningError as exc:
        raise CommandError(_one_line_first(str(exc))) from None
    notices = [grid_file.notice(pins_used=args.pattern == "points")]
    notices += [f.notice(pins_used=False, hover_hint=False) for f in zone_files]
    for notice in filter(None, notices):
        print(f"patrol plan: note: {notice}", file=sys.stderr)
    for line in plan.notes + plan.unreachable:
        print(f"patrol plan: warning: {line}", file=sys.stderr)
    if args.json:
        print(
            json.dumps(
                plan.summary() | {"files": [str(f) for fs in files for f in fs]}, ensure_ascii=False
            )
        )
    else:
        print(_table(plan, files, footprint_note(settings), settings.min_coverage))
    return 0
