"""The one directory where Gridpatrol keeps what it stores (database, audio, plans, logs)."""

from __future__ import annotations

import os
from pathlib import Path

from patrol.errors import CommandError

ENV_VAR = "PATROL_DATA_DIR"


def data_dir(create: bool = True) -> Path:
    """Return the data directory: ``$PATROL_DATA_DIR``, else ``$XDG_DATA_HOME/gridpatrol``,
    else ``~/.local/share/gridpatrol``. A path that cannot be a directory (a file, no
    permission) is a ``CommandError`` naming it."""
    chosen = os.environ.get(ENV_VAR)
    if chosen:
        root = Path(chosen).expanduser()
    else:
        xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        root = Path(xdg) / "gridpatrol"
    if create:
        _make_dir(root, f"data directory {root}" + (f" (${ENV_VAR})" if chosen else ""))
    return root


def sub_dir(name: str) -> Path:
    """A named sub-directory of the data directory (``audio``, ``logs``, ``plans`` ...), created."""
    path = data_dir() / name
    _make_dir(path, f"data directory {path}")
    return path


def _make_dir(path: Path, what: str) -> None:
    if path.exists() and not path.is_dir():
        raise CommandError(f"{what} is a file, not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"{what} cannot be created: {exc.strerror or exc}") from None
