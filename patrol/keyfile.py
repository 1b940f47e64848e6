"""MAVLink 2 signing keys as operators hand them over: a key file, or standard input.

A key given on the command line (``--signing-key KEY``) is visible to every user of the machine
for as long as the command runs (``ps``, ``/proc/PID/cmdline``) and stays in the shell's
history, so commands take ``--signing-key-file FILE`` (``-`` reads standard input) and only warn
about the argument. A key file must be readable by its owner alone, as ssh insists for private
keys. The file holds 64 hex digits, or a passphrase hashed with SHA-256 as MAVProxy's ``signing
setup`` does, on its first line. No error message, log line or stored record carries the key."""

from __future__ import annotations

import os
import secrets
import stat
import sys
from pathlib import Path
from typing import TextIO

from patrol.link import LinkError, signing_key

ARGV_WARNING = (
    "--signing-key puts the key where every user of this machine can read it (the process "
    "list) and in your shell history: put it in a file only you can read (chmod 600) and give "
    "--signing-key-file FILE, or --signing-key-file - to type or pipe it in"
)


class KeyFileError(Exception):
    """A key file that cannot be used; the message names the file, never the key."""


def read_key_file(path: str | Path, stdin: TextIO | None = None) -> bytes:
    """The 32-byte signing key in ``path`` (``-``: the first line of standard input)."""
    if str(path) == "-":
        text = (stdin or sys.stdin).readline()
        where = "standard input"
    else:
        where = f"signing key file {path}"
        text = _read_private(Path(path), where)
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    try:
        return signing_key(line)
    except LinkError:
        raise KeyFileError(f"{where}: no key in it (64 hex digits or a passphrase)") from None


def _read_private(path: Path, where: str) -> str:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise KeyFileError(f"{where}: no such file") from None
    except OSError as exc:
        raise KeyFileError(f"{where}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise KeyFileError(f"{where}: not a regular file")
    loose = stat.S_IMODE(info.st_mode) & 0o077
    if loose:
        raise KeyFileError(
            f"{where}: other users may read it (mode {stat.S_IMODE(info.st_mode):04o}); "
            f"make it private with: chmod 600 {path}"
        )
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise KeyFileError(f"{where}: not a text file") from None
    except OSError as exc:
        raise KeyFileError(f"{where}: {exc.strerror}") from None


def write_new_key(path: Path) -> None:
    """A new random key (64 hex digits) in a new file only its owner can read."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(secrets.token_hex(32) + "\n")
