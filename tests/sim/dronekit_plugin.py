"""Loaded into dronekit2's own SITL test suite (``pytest -p tests.sim.dronekit_plugin``, in
.venv-dronekit): skips, with the reason, the tests that cannot pass against ArduPilot's SITL
either, so every other test of the suite must pass against the simulator."""

from __future__ import annotations

import pytest

CANNOT_PASS_AGAINST_SITL = {
    "test_timeout.py::test_timeout_empty": (
        "binds TCP 127.0.0.1:5760 itself to play a silent vehicle; it needs that fixed port "
        "free, so it fails against SITL (which listens there) and may collide with other "
        "simulators on a shared machine"
    ),
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        key = f"{item.path.name}::{item.name}"
        if key in CANNOT_PASS_AGAINST_SITL:
            item.add_marker(pytest.mark.skip(reason=CANNOT_PASS_AGAINST_SITL[key]))
