"""The one directory where Gridpatrol keeps what it stores (database, audio, plans, logs)."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "PATROL_DATA_DIR"


def data_dir(create: bool = True) -> Path:
    """Return the data directory: ``$PATROL_DATA_DIR``, else ``$XDG_DATA_HOME/gridpatrol``,
    else ``~/.local/share/gridpatrol``."""
    chosen = os.environ.get(ENV_VAR)
    if chosen:
        root = Path(chosen).expanduser()
    else:
        xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        root = Path(xdg) / "gridpatrol"
    if create:
        root.mkdir(parents=True, exist_ok=True)
    return root


def sub_dir(name: str) -> Path:
    """A named sub-directory of the data directory (``audio``, ``logs``, ``plans`` ...), created."""
    path = data_dir() / name
    path.mkdir(parents=True, exist_ok=True)
    return path
