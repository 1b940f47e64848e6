"""What ``patrol demo`` sets up in the console's own store, through the console's services:
the sample township's grids and no-fly zones and its home, an admin account with a fresh random
password, a message library (Mandarin and Cantonese text-to-speech, and one imported recording:
a stand-in synthesised with espeak-ng and sox, labelled as such) and a saved plan over grids
where the sample's people gather, split into one sortie per simulated copter, with a broadcast
playlist on every grid.

Idempotent: what is there already (found by name or title) is kept and reused; only the admin's
password changes on every run."""

from __future__ import annotations

import secrets
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from shapely.geometry import mapping

from audio.library import LibraryError
from missions.errors import GridFileError
from missions.grids import read_grids
from patrol.console.errors import ApiError
from patrol.console.planning import PlanRequest, ZoneBroadcast, make_plan
from patrol.console.services import Console
from patrol.store.accounts import AccountError
from patrol.store.patrols import mission_to_json
from patrol.store.planning import StoredPlan

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
ADMIN = "demo-admin"
BY = "patrol demo"
HOME_ALT_M = 200.0  # the sample township's take-off point, metres above sea level
# grids where the sample's people gather (data/sample/people.json): 新村 has the market and
# the east lane, 溪头村 the bridge and the threshing ground; two sorties of under 5 minutes
# (the simulated copter's battery lasts about 7)
DEMO_GRIDS = ("新村 Xincun", "溪头村 Xitou")
ALT_M, SPEED_MS, SPACING_M = 30.0, 10.0, 50.0


@dataclass(frozen=True)
class DemoMessage:
    title: str
    text: str
    language: str


TTS_MESSAGES = (
    DemoMessage("戴口罩 wear masks (普通话 Mandarin, text-to-speech)",
                "各位村民请注意，出门请戴好口罩，勤洗手。", "cmn"),
    DemoMessage("勿聚集 no gathering (粤语 Cantonese, text-to-speech)",
                "各位街坊请注意，唔好聚集，早啲返屋企。", "yue"),
)  # fmt: skip
# an operator's own recording goes through the import path (decode, master, check): the demo
# has none, so it makes a stand-in with espeak-ng's Mandarin voice and sox, and says so
RECORDING = DemoMessage(
    "防溺水 keep away from the river (stand-in recording, synthesised by espeak-ng)",
    "请注意安全，不要到河边玩水。",
    "cmn",
)


@dataclass(frozen=True)
class DemoSetup:
    admin: str
    password: str
    plan: StoredPlan
    messages: list[str]
    made: list[str]  # what this run added (empty on a second run but for the password)


class DemoError(RuntimeError):
    pass


def set_up(c: Console, grids: tuple[str, ...] = DEMO_GRIDS, sample: Path = SAMPLE) -> DemoSetup:
    made: list[str] = []
    lat, lon = (float(v) for v in (sample / "home.txt").read_text().split(","))
    if c.site.current.home is None:
        c.site.change({"home": {"lat": lat, "lon": lon, "alt": HOME_ALT_M}}, (), BY)
        made.append("the township's home")
    made += _grids(c, sample / "township.geojson", "grid")
    made += _grids(c, sample / "no-fly.geojson", "no_fly")
    password = _admin(c, made)
    messages = [_tts(c, m, made) for m in TTS_MESSAGES] + [_recording(c, made)]
    plan = _plan(c, grids, messages, made)
    return DemoSetup(ADMIN, password, plan, [c.library.get(m).title for m in messages], made)


def _grids(c: Console, path: Path, kind: str) -> list[str]:
    try:
        read = read_grids(path)
    except GridFileError as exc:
        raise DemoError(str(exc)) from None
    have = {g.name for g in c.planning.grids()}
    new = [g for g in read.grids if g.name not in have]
    if not new:
        return []
    c.planning.add_grids(
        [{"name": g.name, "kind": kind, "geometry": mapping(g.polygon),
          "properties": {}} for g in new],
        BY, path.name,
    )  # fmt: skip
    return [f"{len(new)} {'grids' if kind == 'grid' else 'no-fly zones'} from {path.name}"]


def _admin(c: Console, made: list[str]) -> str:
    password = secrets.token_urlsafe(12)
    try:
        if c.accounts.get_user(ADMIN) is None:
            c.accounts.add_user(ADMIN, "admin", password)
            made.append(f"the admin account {ADMIN}")
        else:  # a new password each run: never a fixed one, never one printed before
            c.accounts.update_user(ADMIN, password=password, role="admin", disabled=False)
    except AccountError as exc:
        raise DemoError(str(exc)) from None
    return password


def _existing(c: Console, title: str) -> int | None:
    try:
        return c.library.get(title).id
    except LibraryError:
        return None


def _tts(c: Console, m: DemoMessage, made: list[str]) -> int:
    found = _existing(c, m.title)
    if found is not None:
        return found
    try:
        message = c.library.add_tts(m.title, m.text, m.language, with_chime=True, created_by=BY)
    except LibraryError as exc:
        raise DemoError(f"text-to-speech {m.title!r}: {exc}") from None
    made.append(f"message {message.title}")
    return message.id


def _recording(c: Console, made: list[str]) -> int:
    found = _existing(c, RECORDING.title)
    if found is not None:
        return found
    with tempfile.TemporaryDirectory(prefix="gridpatrol-demo-") as folder:
        speech, recording = Path(folder) / "speech.wav", Path(folder) / "recording.wav"
        try:
            subprocess.run(
                ["espeak-ng", "-v", "cmn-latn-pinyin", "-s", "150", "-w", str(speech),
                 RECORDING.text],
                check=True, capture_output=True, timeout=60,
            )  # fmt: skip
            # a handheld recorder's file: 44.1 kHz stereo, a room's reverb, quieter than TTS
            subprocess.run(
                ["sox", str(speech), "-r", "44100", "-c", "2", str(recording), "reverb", "30",
                 "gain", "-n", "-12"],
                check=True, capture_output=True, timeout=60,
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError) as exc:
            raise DemoError(
                f"cannot make the stand-in recording with espeak-ng and sox: {exc} "
                "(scripts/setup.sh installs them)"
            ) from None
        try:
            message = c.library.import_recording(
                recording, RECORDING.title, RECORDING.language, with_chime=True, created_by=BY
            )
        except (LibraryError, ValueError) as exc:
            raise DemoError(f"importing the stand-in recording: {exc}") from None
    made.append(f"message {message.title}")
    return message.id


def plan_name(grids: tuple[str, ...]) -> str:
    return "示范巡逻 demo patrol: " + ", ".join(g.split()[0] for g in grids)


def _plan(c: Console, grids: tuple[str, ...], messages: list[int], made: list[str]) -> StoredPlan:
    name = plan_name(grids)
    for plan in c.planning.plans():  # the newest first
        zones = (plan.broadcast or {}).get("zones") or []
        same = zones and all(z["messages"] == messages for z in zones)  # none deleted since
        if plan.name == name and len(plan.sorties) == 2 and same:
            return plan
    by_name = {g.name: g.id for g in c.planning.grids("grid")}
    missing = [g for g in grids if g not in by_name]
    if missing:
        raise DemoError(f"no grid named {', '.join(missing)} in the console")
    ids = [by_name[g] for g in grids]
    zones = [ZoneBroadcast(grid_id=i, messages=messages, gap_s=2.0) for i in ids]
    request = PlanRequest(name=name, grid_ids=ids, pattern="coverage", alt=ALT_M,
                          speed=SPEED_MS, spacing=SPACING_M, broadcast=zones)  # fmt: skip
    try:
        whole = make_plan(c, request).plan.flight_time_s
    except ApiError as exc:
        raise DemoError(f"planning {name}: {exc}") from None
    # one sortie per copter: the shortest endurance that cuts the route in two
    for share in (0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9):
        update = {"endurance_min": whole * share / 60.0}
        try:
            result = make_plan(c, request.model_copy(update=update))
        except ApiError:  # too short for a grid and back: try a longer one
            continue
        if len(result.plan.sorties) == 2:
            break
    else:
        raise DemoError(f"the route over {', '.join(grids)} does not split in two sorties")
    plan = c.planning.add_plan(
        name,
        result.request.model_dump(),
        result.plan.summary(),
        [mission_to_json(m) for m in result.plan.sorties],
        result.broadcast_spec,
        BY,
    )
    made.append(f"the plan {name} ({len(plan.sorties)} sorties)")
    return plan
