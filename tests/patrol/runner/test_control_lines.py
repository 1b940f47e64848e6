"""The control server files each sortie's printed lines: preflight checks (also when the
runner labels its lines with the vehicle, "[v1]   [ ok ] GPS: ..."), progress, events."""

from __future__ import annotations

import threading
from pathlib import Path

from patrol.runner.control import ControlServer
from patrol.store import open_engine
from patrol.store.claims import ClaimStore


def test_labelled_and_plain_lines_are_filed_per_sortie(tmp_path: Path) -> None:
    control = ControlServer(ClaimStore(open_engine(f"sqlite:///{tmp_path / 'db'}")), tmp_path)
    lines = ["[v1] preflight checklist:", "[v1]   [ ok ] heartbeat: vehicle 1, mode STABILIZE",
             "[v1]   [FAIL] GPS: no fix", "  [ ok ] EKF: flags 0x33f", "[v1] armed",
             "[v1] item 1/12 | waypoints 0/9 | flown 0 m, left 2895 m"]  # fmt: skip
    worker = threading.Thread(target=lambda: [control._file_line(n) for n in lines],
                              name="sortie-7")  # fmt: skip
    worker.start()
    worker.join()
    state = control._states[7]
    assert [(c["name"], c["ok"]) for c in state.preflight] == [
        ("heartbeat", True),
        ("GPS", False),
        ("EKF", True),
    ]
    assert state.progress.startswith("item 1/12") and state.events[-1]["text"] == "armed"
