"""A real client's own tests against the simulator: dronekit2's SITL suite (shipped in its
wheel, run from .venv-dronekit) against ``patrol sim``. Every test that passes against
ArduPilot SITL must pass; the one that cannot pass against SITL either is skipped with its
reason (tests/sim/dronekit_plugin.py)."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET

import pytest

from tests.sim.dronekit_env import DRONEKIT_PYTHON, PatrolSim, env_with_root
from tests.sim.dronekit_plugin import CANNOT_PASS_AGAINST_SITL

SUITE_SIZE = 33  # dronekit2 3.0.0 (pinned in scripts/setup.sh)
# The client polls with 1 s wall sleeps: at speed-up 20 a GUIDED arm without take-off is
# auto-disarmed (DISARM_DELAY 10 s simulated) before test_goto sees it armed. 5 is the speed-up
# of the reference recordings; the suite's own sleeps (~70 s) dominate the run time anyway.
SPEEDUP = 5
TEST_TIMEOUT_S = 120  # some of the client's tests loop without a limit when the vehicle misbehaves

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(
        not DRONEKIT_PYTHON.exists(),
        reason=f"dronekit2 missing: run scripts/setup.sh ({DRONEKIT_PYTHON})",
    ),
]


def suite_dir() -> str:
    out = subprocess.run(
        [str(DRONEKIT_PYTHON), "-c", "import dronekit.test.sitl as s; print(s.__path__[0])"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout.strip()


def test_dronekit_sitl_suite_passes_against_patrol_sim(tmp_path):
    sitl_tests = suite_dir()
    ini = tmp_path / "pytest.ini"
    ini.write_text("[pytest]\nmarkers =\n    sitl: needs a live vehicle\n")
    junit = tmp_path / "dronekit.xml"
    sim = PatrolSim(tmp_path / "sim", SPEEDUP)
    try:
        env = env_with_root() | {"DRONEKIT_TEST_CONNECTION": sim.url()}
        run = subprocess.run(
            [str(DRONEKIT_PYTHON), "-m", "pytest", "-c", str(ini), "--rootdir",
             str(tmp_path), "-p", "no:cacheprovider", "-p", "tests.sim.dronekit_plugin",
             "-q", f"--timeout={TEST_TIMEOUT_S}", f"--junitxml={junit}", sitl_tests],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
    finally:
        sim.stop()
    assert junit.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    outcomes = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1]
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        message = "; ".join(child.get("message", "") for child in case)[:300]
        outcomes[f"{module}.py::{case.get('name')}"] = (kinds[0] if kinds else "passed", message)
    bad = {n: o for n, o in outcomes.items() if o[0] in ("failure", "error")}
    assert not bad, "\n".join(f"{n}: {kind} {msg}" for n, (kind, msg) in bad.items())
    skipped = {n for n, o in outcomes.items() if o[0] == "skipped"}
    assert skipped == set(CANNOT_PASS_AGAINST_SITL)
    assert len(outcomes) == SUITE_SIZE, sorted(outcomes)
