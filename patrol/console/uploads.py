"""Uploaded files: copied to a name we choose (never the browser's), within a size limit; the
browser's name is kept only for messages, stripped of folders and control characters."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile

from patrol.console.errors import ApiError

CHUNK = 1 << 16


MAX_SHOWN = 100


def display_name(filename: str | None) -> str:
    """The browser's file name for messages: the last path part, printable, at most 100 chars
    (a longer one keeps its extension)."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    if len(name) > MAX_SHOWN:
        suffix = Path(name).suffix if len(Path(name).suffix) <= 10 else ""
        name = name[: MAX_SHOWN - len(suffix) - 1] + "…" + suffix
    return name or "upload"


@contextmanager
def saved_upload(
    upload: UploadFile, allowed: tuple[str, ...], limit: int, field: str = "file"
) -> Iterator[tuple[Path, str]]:
    """The upload as a temporary file ``upload<ext>`` (ext from ``allowed``), and its display
    name; removed afterwards. 400 for another type, 413 over ``limit`` bytes."""
    shown = display_name(upload.filename)
    suffix = Path(shown).suffix.lower()
    if suffix not in allowed:
        message = f"{shown}: a {suffix or 'file without extension'} cannot be used here " \
                  f"({', '.join(allowed)})"  # fmt: skip
        raise ApiError(400, message, {field: message})
    with tempfile.TemporaryDirectory(prefix="gridpatrol-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        size = 0
        with path.open("wb") as out:
            while chunk := upload.file.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    message = f"{shown}: over the {limit / 2**20:.0f} MB limit"
                    raise ApiError(413, message, {field: message})
                out.write(chunk)
        if size == 0:
            raise ApiError(400, f"{shown}: the file is empty", {field: f"{shown}: empty"})
        yield path, shown
