"""What every command shares: a closed stdout, a data directory that cannot be one."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.fuzz.harness import Case, Target, register

COMMANDS = [["status"], ["status", "1"], ["status", "--events", "5"], ["audio", "list"]]


@st.composite
def cli_cases(draw) -> Case:
    argv = draw(st.sampled_from(COMMANDS))
    where = draw(st.sampled_from(["fine", "file", "below a file"]))
    env = {"fine": {}, "file": {"PATROL_DATA_DIR": "{dir}/f"}}.get(where, {})
    if where == "below a file":
        env = {"PATROL_DATA_DIR": "{dir}/f/data"}
    return Case(f"{' '.join(argv)} ({where})", argv, {"f": b"x"}, env=env,
                closed_stdout=draw(st.booleans()))  # fmt: skip


def corpus() -> list[Case]:
    return [
        Case("status | head", ["status"], closed_stdout=True, expect=("ok",)),
        Case("status with the data directory a file", ["status"], {"f": b"x"},
             env={"PATROL_DATA_DIR": "{dir}/f"}, expect=("refused",)),
        Case("--data-dir a file", ["--data-dir", "{dir}/f", "status"], {"f": b"x"},
             expect=("refused",)),
        Case("a negative number as a separate value", ["plan", "{dir}/none.geojson", "--home",
             "-25.3,129.1", "--spacing", "-inf"], expect=("refused",)),
    ]  # fmt: skip


register(Target("cli", cli_cases(), corpus, warm=("patrol.store", "patrol.commands.status")))
