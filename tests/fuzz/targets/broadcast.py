"""``patrol audio plan`` on bent broadcast specs and options, ``patrol broadcast-agent`` on
damaged and hostile bundles and options, and the corpus of known bad input (issue 13 §3).

Every case has a data directory with a two-message library (``tests.fuzz.audio_library``). The
agent listens on a port of its own (``udpin:127.0.0.1:0``), waits for no autopilot and runs for
a fraction of a second when its plan and options are good; a bad bundle is refused before it
opens any link (the corpus proves it with a link to a closed TCP port)."""

from __future__ import annotations

import functools
import io
import json
import math
import struct
import zipfile

from hypothesis import strategies as st

from tests.audio.plans import offset, square
from tests.fuzz.audio_library import TITLES, template, valid_spec, with_library
from tests.fuzz.grid_inputs import render
from tests.fuzz.harness import Case, Target, register
from tests.fuzz.plan_options import number
from tests.fuzz.spec_inputs import bent, json_bytes

REFUSED = ("refused",)
PLANNED = ("ok",)
LISTEN = "udpin:127.0.0.1:0"
CLOSED_PORT = "tcp:127.0.0.1:9"  # discard: nothing listens there on a test machine
WARM = (
    "audio.plan",
    "audio.library",
    "audio.agent",
    "patrol.commands.audio",
    "patrol.commands.broadcast_agent",
    "pymavlink.mavutil",
    "missions.grids",
)


# ---- audio plan ------------------------------------------------------------------------------


@st.composite
def plan_cases(draw) -> Case:
    doc = draw(st.one_of(st.just(valid_spec()), bent(valid_spec())))
    files = {"spec.json": draw(json_bytes(doc)), "f": b"a file"}
    argv = ["audio", "plan", "{dir}/spec.json"]
    grids = draw(st.sampled_from(["good", "good", "good", "good", "none", "missing", "junk"]))
    if grids != "none":
        argv += ["--grids", "{dir}/grids.geojson"]
    if grids == "good":
        files["grids.geojson"] = (template() / "grids.geojson").read_bytes()
    elif grids == "junk":
        files["grids.geojson"] = draw(json_bytes(draw(bent({"type": "FeatureCollection"}))))
    if draw(st.booleans()):
        argv += ["-o", draw(st.sampled_from(["{dir}/out/plan.zip", "{dir}/f/plan.zip"]))]
    for option, typical in [
        ("--speaker-spl", ("120", "130")),
        ("--alt", ("40", "60")),
        ("--min-level", ("65", "55")),
    ]:
        if draw(st.integers(0, 2)) == 0:
            argv += [option, draw(number(*typical))]
    return Case("plan spec", argv, files)


def _spec(
    name: str, spec, expect=REFUSED, *options: str, raw: bytes | None = None, heavy=False
) -> Case:
    data = raw if raw is not None else render(spec).encode("utf-8", "surrogatepass")
    grids = (template() / "grids.geojson").read_bytes()
    argv = ["audio", "plan", "{dir}/spec.json", "--grids", "{dir}/grids.geojson", *options]
    files = {"spec.json": data, "grids.geojson": grids}
    return Case(name, argv, files, expect=expect, heavy=heavy)


def _zone(**changes) -> dict:
    spec = valid_spec()
    spec["zones"][0].update(changes)
    return spec


def _priority(**changes) -> dict:
    spec = valid_spec()
    spec["priority_messages"][0].update(changes)
    return spec


def _ring(n: int, radius_m: float, jag_m: float = 0.0) -> list[list[float]]:
    ring = []
    for i in range(n):
        r = radius_m + (jag_m if i % 2 else -jag_m)
        lat, lon = offset(r * math.cos(2 * math.pi * i / n), r * math.sin(2 * math.pi * i / n))
        ring.append([round(lon, 8), round(lat, 8)])
    return [*ring, ring[0]]


def _crowded(n: int, inside: int, jag_m: float = 0.0) -> dict:
    """A round zone of ``n`` vertices, 1 km across, and ``inside`` small zones inside it at
    higher priorities."""
    big = {"type": "Polygon", "coordinates": [_ring(n, 1000, jag_m)]}
    zones = [{"name": "big", "geometry": big, "messages": [1]}]
    zones += [{"name": f"z{j}", "geometry": square(-500 + j % 20 * 40, -500 + j // 20 * 40, 35),
               "messages": [2], "priority": 1 + j} for j in range(inside)]  # fmt: skip
    return {"zones": zones}


def _stacked(count: int) -> dict:
    return {"zones": [{"name": f"z{j}", "geometry": square(0, 0, 100), "messages": [1]}
                      for j in range(count)]}  # fmt: skip


def plan_corpus() -> list[Case]:
    valid = valid_spec()
    cases = [
        _spec("a valid spec", valid, PLANNED, "-o", "{dir}/out/plan.zip"),
        _spec(
            "with a byte-order mark", None, PLANNED, raw=b"\xef\xbb\xbf" + render(valid).encode()
        ),
        _spec("not UTF-8", None, raw=render(valid).encode().replace("防".encode(), b"\xff")),
        _spec("GBK", None, raw=json.dumps(valid, ensure_ascii=False).encode("gbk")),
        _spec(
            "nested 100,000 deep", None, raw=b'{"zones": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        ),
        _spec("an integer of 5000 digits", _zone(priority="__RAW_BIG_INT__")),
        _spec("a number of 1e309", _zone(gap_s="__RAW_BIG_EXP__")),
        _spec("NaN", _zone(volume="__RAW_NAN__")),
        _spec("not an object", [valid]),
        _spec("empty", None, raw=b""),
        _spec("-o below a file", valid, REFUSED, "-o", "{dir}/grids.geojson/plan.zip"),
        *[
            _spec(f"{key} as {value!r}", {**valid, key: value})
            for key in ("zones", "messages", "quiet_hours", "priority_messages")
            for value in (3, True, "text", 1.5, None)
        ],
        _spec("override_quiet as 'no'", _priority(override_quiet="no")),
        _spec("loop as 'false'", _zone(loop="false")),
        _spec("messages [true]", _zone(messages=[True])),
        _spec("a message id over 2^63", _zone(messages=[2**63])),
        _spec("a message id of 2^63-1 (no such message)", _zone(messages=[2**63 - 1])),
        _spec("a priority message id over 2^64", _priority(message=2**64)),
        _spec("geometry type NaN", _zone(geometry={"type": "NaN", "coordinates": []})),
        _spec(
            "huge-integer coordinates",
            _zone(
                geometry={
                    "type": "Polygon",
                    "coordinates": [[[10**400, 1], [2, 2], [3, 1], [10**400, 1]]],
                }
            ),
        ),
        _spec(
            "coordinates not in degrees",
            _zone(
                geometry={
                    "type": "Polygon",
                    "coordinates": [[[1e6, 1], [2e6, 2], [3e6, 1], [1e6, 1]]],
                }
            ),
        ),
        _spec("a zone name of 300 characters", _zone(name="区" * 300)),
        _spec("a zone name with a lone surrogate", _zone(name="\udcff")),
        _spec("a message title", _zone(messages=[TITLES[0]]), PLANNED),
        _spec("a zone of 30,000 vertices holding 100 zones", _crowded(30_000, 100), PLANNED),
        _spec("a jagged zone of 30,000 vertices", _crowded(30_000, 0, jag_m=2.0)),
        _spec("100 zones on one spot at one priority", _stacked(100)),
        _spec(
            "a zone of 150,000 vertices holding 499 zones",
            _crowded(150_000, 499),
            PLANNED,
            heavy=True,
        ),
        *[
            _spec(f"--{o} {v}", valid, REFUSED, f"--{o}", v)
            for o in ("speaker-spl", "alt", "min-level")
            for v in ("nan", "-inf", "1e309")
        ],
    ]
    return cases


# ---- broadcast agent -------------------------------------------------------------------------


def _members() -> dict[str, bytes]:
    with zipfile.ZipFile(template() / "plan.zip") as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def zipped(members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


@functools.cache
def bomb(member: str, megabytes: int, declare: int | None = None) -> bytes:
    """A bundle whose ``member`` inflates to ``megabytes`` of zeros (about a thousandth of that
    in the file), the other members as in the valid bundle; ``declare``: the size its headers
    give instead (a lie)."""
    members = _members()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            if name != member:
                zf.writestr(name, data)
        info = zipfile.ZipInfo(member)
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w") as out:
            block = bytes(1 << 20)
            for _ in range(megabytes):
                out.write(block)
    data = bytearray(buffer.getvalue())
    if declare is not None:
        name = member.encode()
        real = struct.pack("<I", megabytes << 20)
        for signature, at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
            start = data.find(signature)
            while start >= 0:
                offset = 46 if signature == b"PK\x01\x02" else 30
                if data[start + offset : start + offset + len(name)] == name:
                    assert data[start + at : start + at + 4] == real
                    data[start + at : start + at + 4] = struct.pack("<I", declare)
                start = data.find(signature, start + 4)
    return bytes(data)


def _plan_json() -> dict:
    return json.loads(_members()["plan.json"])


@st.composite
def bundles(draw) -> bytes:
    members = _members()
    how = draw(
        st.sampled_from(
            [
                "valid",
                "valid",
                "valid",
                "plan-json",
                "plan-json",
                "plan-json",
                "drop",
                "rename",
                "bytes",
                "not-zip",
                "deflated",
            ]
        )
    )
    if how == "plan-json":
        members["plan.json"] = draw(json_bytes(draw(bent(_plan_json()))))
    elif how == "drop":
        del members[draw(st.sampled_from(sorted(members)))]
    elif how == "rename":
        old = draw(st.sampled_from(sorted(members)))
        new = draw(
            st.sampled_from(
                [
                    "../evil.wav",
                    "/tmp/evil.wav",
                    "audio/../../x.wav",
                    "audio/1.wav/",
                    "\\..\\x.wav",
                    "plan.json",
                ]
            )
        )
        members[new] = members.pop(old)
    elif how == "not-zip":
        return draw(st.binary(max_size=200))
    data = zipped(members, zipfile.ZIP_DEFLATED if how == "deflated" else zipfile.ZIP_STORED)
    if how == "bytes":
        out = bytearray(data)
        for _ in range(draw(st.integers(1, 4))):
            out[draw(st.integers(0, len(out) - 1))] ^= draw(st.integers(1, 255))
        if draw(st.booleans()):
            del out[draw(st.integers(0, len(out) - 1)) :]
        data = bytes(out)
    return data


@st.composite
def agent_cases(draw) -> Case:
    files = {"plan.zip": draw(bundles()), "f": b"a file"}
    argv = ["broadcast-agent", "--plan", "{dir}/plan.zip", "--connect"]
    argv.append(
        draw(
            st.one_of(
                *[st.just(LISTEN)] * 4,
                st.sampled_from(
                    [
                        "tcp:x",
                        "tcp:127.0.0.1:abc",
                        "udpin:0.0.0.0:99999",
                        "",
                        "udpin:127.0.0.1:-1",
                        "tcp:127.0.0.1:0",
                        "udp:[::1",
                        "tcp:127.0.0.1:1:2",
                    ]
                ),
            )
        )
    )
    argv += [
        "--wait",
        draw(
            st.one_of(
                *[st.sampled_from(["0", "0.05"])] * 4,
                st.sampled_from(["-1", "nan", "inf", "1e309", "x"]),
            )
        ),
    ]
    argv += [
        "--duration",
        draw(
            st.one_of(
                *[st.sampled_from(["0.1", "0.3"])] * 4,
                st.sampled_from(["0", "-1", "nan", "1e308", "x"]),
            )
        ),
    ]
    if draw(st.booleans()):
        argv += ["--time-scale", draw(number("1", "10", "0", "-1", "1e308"))]
    if draw(st.integers(0, 2)) == 0:
        argv += [
            "--sysid",
            draw(st.sampled_from(["1", "255", "0", "256", "-1", str(2**63), str(2**64), "1.5"])),
        ]
    if draw(st.integers(0, 2)) == 0:
        argv += [
            "--sink",
            draw(
                st.sampled_from(
                    ["null", "dir:{dir}/sink", "dir:", "bogus", "null:x", "dir:{dir}/f/sink"]
                )
            ),
        ]
    if draw(st.integers(0, 3)) == 0:
        argv += [
            "--log",
            draw(st.sampled_from(["{dir}/plays.jsonl", "{dir}/f/plays.jsonl", "{dir}"])),
        ]
    if draw(st.integers(0, 3)) == 0:
        argv += [
            "--start-time",
            draw(
                st.sampled_from(
                    [
                        "2026-07-01T21:30+08:00",
                        "21:30",
                        "2026-07-01T21:30",
                        "9999-12-31T23:59+14:00",
                        "\udcff",
                    ]
                )
            ),
        ]
    return Case("agent", argv, files)


def _agent(
    name: str, bundle: bytes, *options: str, expect=REFUSED, heavy=False, connect: str = CLOSED_PORT
) -> Case:
    argv = [
        "broadcast-agent",
        "--plan",
        "{dir}/plan.zip",
        "--connect",
        connect,
        "--wait",
        "0",
        "--duration",
        "0.2",
        *options,
    ]
    return Case(name, argv, {"plan.zip": bundle, "f": b"a file"}, expect=expect, heavy=heavy)


def _with_plan(plan: dict | bytes) -> bytes:
    members = _members()
    members["plan.json"] = plan if isinstance(plan, bytes) else render(plan).encode()
    return zipped(members)


def agent_corpus() -> list[Case]:
    valid = _plan_json()
    message = next(iter(valid["messages"]))
    members = _members()
    audio = next(n for n in members if n != "plan.json")

    def change(path: list, value) -> dict:
        doc = json.loads(json.dumps(valid))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = value
        return doc

    return [
        _agent("a valid bundle", zipped(members), connect=LISTEN, expect=PLANNED),
        _agent("a valid bundle, a closed TCP port", zipped(members), expect=REFUSED),
        _agent("no plan.json", zipped({audio: members[audio]})),
        _agent("no audio", zipped({"plan.json": members["plan.json"]})),
        _agent("plan.json not JSON", _with_plan(b"{not json")),
        _agent("plan.json not UTF-8", _with_plan(members["plan.json"] + b"\xff")),
        _agent("plan.json a list", _with_plan([valid])),
        _agent("plan.json of another format", _with_plan(change(["format"], "other/1"))),
        _agent("messages a list", _with_plan(change(["messages"], [1]))),
        _agent(
            "a message id that is not a number",
            _with_plan({**valid, "messages": {"x": valid["messages"][message]}}),
        ),
        _agent(
            "a message id over 2^63",
            _with_plan({**valid, "messages": {str(2**64): valid["messages"][message]}}),
        ),
        _agent(
            "a sha256 that climbs out of the cache",
            _with_plan(change(["messages", message, "sha256"], "../../../escaped")),
        ),
        _agent(
            "a message file that climbs out",
            _with_plan(change(["messages", message, "file"], "../../etc/passwd")),
        ),
        _agent(
            "a duration of NaN",
            _with_plan(change(["messages", message, "duration_s"], "__RAW_NAN__")),
        ),
        _agent("a duration as text", _with_plan(change(["messages", message, "duration_s"], "3"))),
        _agent(
            "a title of 300 characters",
            _with_plan(change(["messages", message, "title"], "题" * 300)),
        ),
        _agent("loop as 'false'", _with_plan(change(["zones", 0, "loop"], "false"))),
        _agent(
            "override_quiet as 'no'",
            _with_plan(change(["priority_messages", 0, "override_quiet"], "no")),
        ),
        _agent(
            "a zone playing a message the bundle lacks",
            _with_plan(change(["zones", 0, "messages"], [7])),
        ),
        _agent("audio that does not match its checksum", zipped({**members, audio: b"RIFF"})),
        _agent(
            "member names that climb out",
            zipped({"plan.json": members["plan.json"], "../" + audio: members[audio]}),
        ),
        _agent("an absolute member name", zipped({**members, "/tmp/gridpatrol-evil": b"x"})),
        _agent("plan.json inflating to 20 MB", bomb("plan.json", 20)),
        _agent("audio inflating to 120 MB", bomb(audio, 120)),
        _agent("audio declaring 1 kB, inflating to 120 MB", bomb(audio, 120, 1000)),
        _agent("not a zip", b"PK\x03\x04 not really"),
        _agent("an empty file", b""),
        # options
        _agent("--sysid 0", zipped(members), "--sysid", "0"),
        _agent("--sysid 256", zipped(members), "--sysid", "256"),
        _agent("--sysid 2^64", zipped(members), "--sysid", str(2**64)),
        _agent("--wait -1", zipped(members), "--wait", "-1"),
        _agent("--duration 0", zipped(members), "--duration", "0"),
        _agent("--duration 1e308", zipped(members), "--duration", "1e308", connect=LISTEN),
        _agent("--time-scale 0", zipped(members), "--time-scale", "0"),
        _agent("--time-scale 1e308", zipped(members), "--time-scale", "1e308", connect=LISTEN),
        _agent("--connect tcp:x", zipped(members), connect="tcp:x"),
        _agent("--connect tcp port not a number", zipped(members), connect="tcp:127.0.0.1:abc"),
        _agent("--connect port over 65535", zipped(members), connect="udpin:0.0.0.0:99999"),
        _agent("--connect empty", zipped(members), connect=""),
        _agent("--sink bogus", zipped(members), "--sink", "bogus"),
        _agent("--sink below a file", zipped(members), "--sink", "dir:{dir}/f/sink"),
        _agent(
            "--log below a file", zipped(members), "--log", "{dir}/f/plays.jsonl", connect=LISTEN
        ),
        _agent("--start-time without an offset", zipped(members), "--start-time", "21:30"),
    ]


register(Target("audio-plan", plan_cases(), plan_corpus, with_library, WARM))
register(Target("broadcast-agent", agent_cases(), agent_corpus, with_library, WARM))
