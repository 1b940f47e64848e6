"""Reading JSON files that anyone may have written: limits before parsing, one-line errors.

Before ``json.loads`` sees a document its nesting depth is measured (a 1,000-deep array would
exhaust the parser's recursion), and while it parses, integers of more digits than any
coordinate or count needs (Python refuses to convert those of over 4,300) and the non-standard
``NaN`` and ``Infinity`` become ``Unrepresentable`` markers: the schema that validates the
document then names where they are. A float that overflows (``1e309``) parses as infinity,
which the schemas refuse as not finite, also naming the place.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from missions.errors import PlanningError

MAX_DEPTH = 64  # GeoJSON needs 6 (a MultiPolygon in a feature collection), a .plan about 8
MAX_INT_DIGITS = 30  # far beyond any count, id or coordinate a grid or mission holds
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_OPEN = np.frombuffer(b"[{", dtype=np.uint8)
_CLOSE = np.frombuffer(b"]}", dtype=np.uint8)


class Unrepresentable:
    """A JSON number no float holds (``1e309``, a 5,000-digit integer) or a non-standard
    constant (``NaN``, ``Infinity``): kept as text so that validation can say where it is."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        shown = self.text if len(self.text) <= 24 else f"{self.text[:12]}…({len(self.text)} chars)"
        return f"the number {shown}"


def decode_text(data: bytes, where: str) -> str:
    """JSON text from bytes: UTF-8 with or without a byte-order mark, or UTF-16 with one."""
    encoding = "utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise PlanningError(
            f"{where}: not {encoding.upper().removesuffix('-SIG')} text: byte "
            f"0x{data[exc.start]:02x} at offset {exc.start} (save the file as UTF-8)"
        ) from None


def nesting_depth(data: bytes) -> int:
    """How deep arrays and objects nest, strings skipped."""
    skeleton = np.frombuffer(_STRING.sub(b'""', data), dtype=np.uint8)
    brackets = skeleton[np.isin(skeleton, np.concatenate([_OPEN, _CLOSE]))]
    if not len(brackets):
        return 0
    steps = np.where(np.isin(brackets, _OPEN), 1, -1).astype(np.int64)
    return int(np.cumsum(steps).max())


def load_json(data: bytes, where: str) -> Any:
    """Parse a JSON document of at most ``MAX_DEPTH`` levels; errors name ``where``."""
    text = decode_text(data, where)
    depth = nesting_depth(text.encode("utf-8", "surrogatepass"))
    if depth > MAX_DEPTH:
        raise PlanningError(
            f"{where}: arrays and objects nested {depth} levels deep (at most {MAX_DEPTH})"
        )
    try:
        # floats stay on the C parser's fast path: a hook would cost a call per coordinate
        return json.loads(text, parse_int=_integer, parse_constant=Unrepresentable)
    except json.JSONDecodeError as exc:
        raise PlanningError(
            f"{where}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None


def _integer(text: str) -> int | Unrepresentable:
    digits = len(text.lstrip("-"))
    return int(text) if digits <= MAX_INT_DIGITS else Unrepresentable(text)
