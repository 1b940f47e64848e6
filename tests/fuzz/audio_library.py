"""A data directory with a small message library, made once per process, and a runner that
gives every case its own copy: broadcast specs and bundles then name messages that exist."""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import tempfile
from pathlib import Path

from tests.audio.media import riff_wav
from tests.audio.plans import square
from tests.fuzz.audio_inputs import pcm16
from tests.fuzz.harness import Case, Outcome, run_case

TITLES = ("通知一", "notice 2")
GRID = "上洋村"


@functools.cache
def template() -> Path:
    """A directory with ``data/`` (the library: messages 1 and 2, titled ``TITLES``),
    ``grids.geojson`` (one grid, ``GRID``) and ``plan.zip`` (a valid bundle using both)."""
    from audio.library import MessageLibrary
    from audio.plan import build_plan, write_bundle
    from patrol.store import DEFAULT_DB_NAME, open_engine

    root = Path(tempfile.mkdtemp(prefix="gridpatrol-fuzz-audio-"))
    atexit.register(shutil.rmtree, root, True)
    (root / "data").mkdir()
    engine = open_engine(f"sqlite:///{root / 'data' / DEFAULT_DB_NAME}")
    library = MessageLibrary(root / "data" / "audio", engine)
    wav = root / "speech.wav"
    wav.write_bytes(riff_wav(pcm16(1.0, 8000)))
    for title in TITLES:
        library.import_recording(wav, title, "wuu")
    (root / "grids.geojson").write_text(grids_geojson(), encoding="utf-8")
    plan = build_plan(valid_spec(), library.plan_message, {GRID: _grid_polygon()})
    write_bundle(plan, root / "plan.zip")
    engine.dispose()
    wav.unlink()
    return root


def valid_spec() -> dict:
    """A broadcast spec that plans: two zones, quiet hours, a priority message."""
    return {
        "name": "防疫广播",
        "timezone": "Asia/Shanghai",
        "quiet_hours": ["22:00-07:00"],
        "hysteresis_m": 10,
        "zones": [
            {
                "name": "A",
                "geometry": square(0, 0, 300),
                "messages": [1, TITLES[1]],
                "loop": True,
                "gap_s": 2,
                "volume": 0.8,
                "priority": 0,
                "alt_m": 40,
            },
            {"grid": GRID, "messages": [2], "count": 2, "priority": 1},
        ],
        "priority_messages": [
            {"id": "p", "message": 1, "zones": ["A"], "repeat": 2, "override_quiet": False}
        ],
    }


def _grid_polygon():  # type: ignore[no-untyped-def]
    from shapely.geometry import shape

    return shape(square(600, 0, 300))


def grids_geojson() -> str:
    feature = {"type": "Feature", "properties": {"name": GRID}, "geometry": square(600, 0, 300)}
    return json.dumps({"type": "FeatureCollection", "features": [feature]}, ensure_ascii=False)


def with_library(case: Case, workdir: Path) -> Outcome:
    """``run_case`` with the template's data directory (library and store) copied in first."""
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(template() / "data", workdir / "data")
    return run_case(case, workdir)
