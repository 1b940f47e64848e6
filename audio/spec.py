"""The broadcast plan spec as an operator writes it (JSON), declared as strict pydantic models:
a value of the wrong type is refused with its place, never coerced ("no" is not true, a number
is not a list, ``true`` is not message 1)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from geojson_pydantic import MultiPolygon, Polygon
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

MAX_NAME = 200
MAX_ZONES = 500
MAX_PLAYLIST = 100
MAX_PRIORITY_MESSAGES = 100
# SQLite and PostgreSQL integers are signed 64-bit: a larger id cannot name a stored message
MAX_MESSAGE_ID = 2**63 - 1

Name = Annotated[StrictStr, Field(min_length=1, max_length=MAX_NAME)]
MessageRef = Annotated[StrictInt, Field(ge=1, le=MAX_MESSAGE_ID)] | Name


def _number(low: float, high: float, default: float | None) -> Any:
    return Field(default, ge=low, le=high, json_schema_extra={"range": [low, high]})


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False, frozen=True)


class ZoneSpec(_Strict):
    name: Name | None = None
    grid: Name | None = None
    geometry: Annotated[Polygon | MultiPolygon, Field(discriminator="type")] | None = None
    messages: list[MessageRef] = Field(default_factory=list, max_length=MAX_PLAYLIST)
    loop: StrictBool | None = None  # default: loop unless a count is given
    count: StrictInt = _number(1, 1000, 1)
    gap_s: float = _number(0, 3600, 2.0)
    volume: float = _number(0.01, 1.0, 1.0)
    priority: StrictInt = _number(-1000, 1000, 0)
    alt_m: float | None = _number(1, 1000, None)


class PrioritySpec(_Strict):
    id: Annotated[StrictStr, Field(min_length=1, max_length=100)] | None = None
    message: MessageRef
    zones: list[Name] = Field(default_factory=list, max_length=MAX_ZONES)
    repeat: StrictInt = _number(1, 100, 1)
    override_quiet: StrictBool = False


class PlanSpec(_Strict):
    name: Name = "broadcast plan"
    timezone: Annotated[StrictStr, Field(min_length=1, max_length=64)] = "Asia/Shanghai"
    quiet_hours: list[Annotated[StrictStr, Field(max_length=20)]] = Field(
        default_factory=list, max_length=24
    )
    hysteresis_m: float = _number(0, 500, 15.0)
    zones: list[ZoneSpec] = Field(default_factory=list, max_length=MAX_ZONES)
    priority_messages: list[PrioritySpec] = Field(
        default_factory=list, max_length=MAX_PRIORITY_MESSAGES
    )


# ---- the bundle's plan.json (written by audio.plan.plan_to_json, read by the agent) ---------

BUNDLE_FORMAT = "gridpatrol-broadcast-plan/1"
MAX_BUNDLE_MESSAGES = 1000
MAX_MESSAGE_SECONDS = 3600.0
Sha256 = Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")]
# a message id as a JSON object key: 1 to 2^63-1, no sign, no leading zero
MessageKey = Annotated[StrictStr, Field(pattern=r"^[1-9][0-9]{0,18}$")]


class BundleMessage(_Strict):
    title: Name
    duration_s: float = Field(gt=0, le=MAX_MESSAGE_SECONDS)
    sha256: Sha256
    file: Annotated[StrictStr, Field(pattern=r"^audio/[1-9][0-9]{0,18}\.wav$")]


class BundleSpec(PlanSpec):
    """plan.json in a bundle: the spec with every message it plays, by id."""

    format: Literal[BUNDLE_FORMAT]  # type: ignore[valid-type]
    messages: dict[MessageKey, BundleMessage] = Field(max_length=MAX_BUNDLE_MESSAGES)


_EXPECTED = {
    "bool_type": "true or false",
    "int_type": "a whole number",
    "float_type": "a number",
    "string_type": "text",
    "list_type": "a list",
    "model_type": "an object",
    "dict_type": "an object",
    "finite_number": "a finite number",
}
_PATTERNS = {
    "[key]": "a message id (1 to 2^63-1)",
    "sha256": "a SHA-256 (64 lowercase hex digits)",
    "file": "audio/<id>.wav",
}
_UNION_LABELS = ("constrained-int", "constrained-str", "Polygon", "MultiPolygon", "Position2D",
                 "Position3D")  # fmt: skip
_MODELS = {"zones": ZoneSpec, "priority_messages": PrioritySpec}


def parse_spec(data: Any) -> tuple[PlanSpec | None, list[str]]:
    """The spec as models, or None and one line per problem, each naming its place."""
    return _parse(PlanSpec, data, "the plan spec")


def parse_bundle_plan(data: Any) -> tuple[BundleSpec | None, list[str]]:
    """A bundle's plan.json as models (message ids within 2^63-1, each message's file
    ``audio/<id>.wav``), or None and one line per problem."""
    parsed, problems = _parse(BundleSpec, data, "plan.json")
    if parsed is None:
        return None, problems
    for key, m in parsed.messages.items():
        if int(key) > MAX_MESSAGE_ID:
            problems.append(f"messages: id {key} is over 2^63-1")
        elif m.file != f"audio/{key}.wav":
            problems.append(f"messages[{key}]: file {m.file!r} is not audio/{key}.wav")
    return (None, problems) if problems else (parsed, [])


def _parse(model: type[PlanSpec], data: Any, what: str) -> tuple[Any, list[str]]:
    if not isinstance(data, dict):
        return None, [f"{what} must be a JSON object"]
    try:
        # JSON's own types: a tuple (as shapely's mapping() gives) becomes the list it stands for
        data = json.loads(json.dumps(data))
    except (TypeError, ValueError) as exc:
        return None, [f"the plan spec is not JSON data ({exc})"]
    try:
        return model.model_validate(data, strict=True), []
    except ValidationError as exc:
        return None, _describe(exc, data, model)


def zone_label(index: int, raw: Any) -> str:
    """``zones[i] (name)``: a zone's place as problems name it."""
    name = ""
    if isinstance(raw, dict):
        name = next((v for v in (raw.get("name"), raw.get("grid")) if isinstance(v, str)), "")
    return f"zones[{index}] ({name.strip()})" if name.strip() else f"zones[{index}]"


def _place(path: tuple, data: dict) -> tuple[str, tuple]:
    """Split an error path into the place it is reported under and the rest."""
    if len(path) >= 2 and path[0] in _MODELS and isinstance(path[1], int):
        items = data.get(path[0])
        raw = items[path[1]] if isinstance(items, list) and path[1] < len(items) else None
        head = zone_label(path[1], raw) if path[0] == "zones" else f"{path[0]}[{path[1]}]"
        return head, path[2:]
    return "plan", path


def _describe(exc: ValidationError, data: dict, top: type[BaseModel]) -> list[str]:
    lines: list[str] = []
    seen: set[tuple] = set()
    for err in exc.errors():
        path = tuple(p for p in err["loc"] if isinstance(p, int) or p not in _UNION_LABELS)
        if "geometry" in path:  # one line for a geometry, not one per coordinate
            path = path[: path.index("geometry") + 1]
        if path in seen:
            continue
        seen.add(path)
        head, rest = _place(path, data)
        model = _MODELS.get(path[0], top) if head != "plan" else top
        name = rest[0] if rest else ""
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest).lstrip(".")
        if rest and isinstance(rest[-1], int):  # a list item: name it in the place
            head, field = f"{head}.{field}", ""
        lines.append(f"{head}: {_what(err, model, str(name), field)}")
    return lines


def _what(err: dict, model: type[BaseModel], name: str, field: str) -> str:
    kind, value = err["type"], err.get("input")
    subject = f"{field} " if field else ""
    info = model.model_fields.get(name)
    extra = info.json_schema_extra if info else None
    bounds = extra.get("range") if isinstance(extra, dict) else None
    if name == "geometry" and kind == "union_tag_invalid":
        return f"the geometry is a {_short(err['ctx']['tag']).strip(chr(39))}, not a polygon"
    if name == "geometry":
        return f"the geometry is not a GeoJSON Polygon or MultiPolygon ({err['msg']})"
    if kind == "extra_forbidden":
        return f"unknown field {field!r}"
    if kind == "missing":
        return f"{subject}is required"
    refs = model in (ZoneSpec, PrioritySpec) and name in ("messages", "message")
    if refs and kind not in ("list_type", "too_long"):
        return f"{subject}must be a message id (whole number) or title (text), not {_short(value)}"
    if kind in ("greater_than_equal", "less_than_equal") and bounds:
        return f"{subject}{_short(value)} is outside {bounds[0]:g}..{bounds[1]:g}"
    if kind == "string_pattern_mismatch":
        return f"{subject}{_short(value)} is not {_PATTERNS.get(name_of(field), 'valid here')}"
    if kind in _EXPECTED:
        return f"{subject}must be {_EXPECTED[kind]}, not {_short(value)}"
    return f"{subject}{err['msg'][0].lower()}{err['msg'][1:]}"


def name_of(field: str) -> str:
    """The last name in a dotted field path (``messages.7.sha256`` -> ``sha256``)."""
    return field.rpartition(".")[2]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
