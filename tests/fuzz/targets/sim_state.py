"""``patrol sim`` booting on a damaged or hand-edited state file (params.json of vehicle 0):
it starts, wiped when the file is not the state it writes, and never crashes at boot."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from hypothesis import strategies as st

from tests.fuzz.grid_inputs import render
from tests.fuzz.harness import Case, Outcome, Target, register, run_case
from tests.fuzz.spec_inputs import bent, json_bytes

STATE = "params.json"
ITEM = {"seq": 0, "frame": 0, "command": 16, "param1": 0, "param2": 0, "param3": 0,
        "param4": 0, "x": 275700000, "y": 1197100000, "z": 30.0, "autocontinue": 1,
        "mission_type": 0}  # fmt: skip


def saved_state() -> dict:
    """A state file as the simulator writes it: changed parameters, a mission, signing."""
    return {
        "params": {"RTL_ALT": 900, "WPNAV_SPEED": 800},
        "extra": {"missions": {"0": [ITEM]}, "signing_key": "", "signing_timestamp": 5},
    }


def with_state_dir(case: Case, workdir: Path) -> Outcome:
    """``run_case`` with ``case.files[STATE]`` placed as vehicle 0's state file."""
    instance = workdir / "data" / "sim" / "instance-0"
    instance.mkdir(parents=True, exist_ok=True)
    files = dict(case.files)
    if STATE in files:
        (instance / STATE).write_bytes(files.pop(STATE))
    return run_case(replace(case, files=files), workdir)


ARGV = ["sim", "--port", "0", "--speedup", "10", "--duration", "0.1"]


@st.composite
def state_cases(draw) -> Case:
    doc = draw(st.one_of(st.just(saved_state()), bent(saved_state())))
    return Case("sim state", ARGV, {STATE: draw(json_bytes(doc))}, expect=("ok",))


def corpus() -> list[Case]:
    def state(name: str, doc, raw: bytes | None = None) -> Case:
        data = raw if raw is not None else render(doc).encode("utf-8", "surrogatepass")
        return Case(name, ARGV, {STATE: data}, expect=("ok",))

    good = saved_state()
    return [
        state("as written", good),
        state("not JSON", None, b"{not json"),
        state("empty", None, b""),
        state("not UTF-8", None, b'{"params": {"RTL_ALT": 900\xff}}'),
        state("a list", [good]),
        state("params a list", {**good, "params": [1]}),
        state("a parameter as text", {**good, "params": {"RTL_ALT": "high"}}),
        state("a parameter of 1e309", {**good, "params": {"MAV_SYSID": "__RAW_BIG_EXP__"}}),
        state("extra a list", {**good, "extra": []}),
        state("missions as text", {**good, "extra": {"missions": "x"}}),
        state("a mission item missing fields", {**good, "extra": {"missions": {"0": [{}]}}}),
        state("a mission type 7", {**good, "extra": {"missions": {"7": [ITEM]}}}),
        state("a signing key not hex", {**good, "extra": {"signing_key": "zz"}}),
        state("a signing timestamp as text", {**good, "extra": {"signing_timestamp": "x"}}),
        state("nested 100,000 deep", None, b"[" * 100_000),
        *[
            state(f"{name} {value}", {**good, "params": {name: value}})
            for name, value in [
                ("SIM_SPEEDUP", 0),
                ("SIM_SPEEDUP", -1),
                ("SIM_SPEEDUP", 1e30),
                ("MAV_SYSID", 0),
                ("MAV_SYSID", 300),
                ("WPNAV_SPEED", -5),
                ("SIM_WIND_SPD", 1e300),
                ("BATT_CAPACITY", 0),
            ]
        ],
    ]


register(Target("sim-state", state_cases(), corpus, with_state_dir, ("sim", "sim.vehicle")))
