"""The README's dronekit2 example, as written there, against ``patrol sim``: a ground station
holds SERIAL0 with a mission uploaded, the script reads the aircraft on SERIAL2."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.sim.conftest import square_mission
from tests.sim.dronekit_env import DRONEKIT_PYTHON, ROOT, PatrolSim, env_with_root
from tests.sim.gcs import Gcs

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(
        not DRONEKIT_PYTHON.exists(),
        reason=f"dronekit2 missing: run scripts/setup.sh ({DRONEKIT_PYTHON})",
    ),
]


def readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(
        r"<!-- dronekit-example -->\n```python\n(.*?)```\n<!-- /dronekit-example -->", text, re.S
    )
    assert found, "README.md lost its dronekit example"
    return found.group(1)


def test_readme_dronekit_example_reads_the_patrol_on_serial2(tmp_path):
    script = tmp_path / "watch.py"
    script.write_text(readme_example())
    sim = PatrolSim(tmp_path / "sim", speedup=5, home="27.57,119.71,200,0")
    try:
        gcs = Gcs(sim.ports[0])  # the controller's link, kept open while the script runs
        try:
            assert gcs.upload(square_mission()).type == 0
            run = subprocess.run(
                [str(DRONEKIT_PYTHON), str(script), sim.url(2)],
                capture_output=True, text=True, timeout=180, env=env_with_root(),
            )  # fmt: skip
            gcs.pump_all()
        finally:
            gcs.close()
    finally:
        sim.stop()
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.splitlines()
    assert lines[0] == "mode STABILIZE armed False"
    assert re.match(r"at LocationGlobalRelative:lat=27\.57,lon=119\.71,alt=0\.0 battery ", lines[1])
    items = [line.split()[1:3] for line in lines if line.startswith("item ")]
    assert items == [["1", "22"], ["2", "16"], ["3", "16"], ["4", "16"], ["5", "20"]]
