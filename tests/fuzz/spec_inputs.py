"""Hypothesis strategies for JSON documents an operator or a hostile file delivers where a
broadcast spec or a bundle's plan.json belongs: a valid document with values swapped for the
wrong type anywhere (numbers, booleans, "no", ids over 2^63, geometry type "NaN", integers of
thousands of digits), keys dropped or added, then written with a BOM, in another encoding,
with bytes that are not UTF-8, nested deep or cut short."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st

from tests.fuzz.grid_inputs import junk, render

ODD = [
    0,
    -1,
    1,
    2**63,
    2**64,
    -(2**63) - 1,
    10**30,
    True,
    False,
    "no",
    "false",
    "true",
    "",
    "NaN",
    None,
    [],
    {},
    [True],
    [2**63],
    1.5,
    1e308,
    -0.0,
    "1",
    "\ud800",
    "__RAW_BIG_INT__",
    "__RAW_BIG_EXP__",
    "__RAW_NAN__",
    "__RAW_INF__",
    {"type": "NaN", "coordinates": []},
    {"type": "Polygon", "coordinates": [[["__RAW_BIG_INT__", 1], [2, 2], [3, 1]]]},
    "../../../etc/passwd",
    "x" * 300,
]
odd_value = st.one_of(st.sampled_from(ODD), junk).map(copy.deepcopy)  # never shared, never bent


def paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in ``doc`` (keys and list indexes), the root excluded."""
    found = []
    items = (
        doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    )
    for key, value in items:
        found.append((*prefix, key))
        found.extend(paths(value, (*prefix, key)))
    return found


@st.composite
def bent(draw, doc: dict) -> Any:
    """``doc`` with one to three places changed: a value of another type, a key dropped, an
    unknown key, an item appended."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 3))):
        places = paths(doc)
        if not places or not isinstance(doc, dict):
            break
        place = draw(st.sampled_from(places))
        parent = doc
        for key in place[:-1]:
            parent = parent[key]
        how = draw(st.sampled_from(["replace", "replace", "replace", "drop", "add", "append"]))
        value = parent[place[-1]]
        if how == "replace":
            parent[place[-1]] = draw(odd_value)
        elif how == "drop":
            del parent[place[-1]]
        elif how == "add" and isinstance(value, dict):
            value[draw(st.sampled_from(["loops", "zone", "", "\ud800", "messages "]))] = draw(
                odd_value
            )
        elif how == "append" and isinstance(value, list):
            value.append(draw(odd_value))
    if draw(st.integers(0, 15)) == 0:
        doc = draw(odd_value)  # not an object at all
    return doc


@st.composite
def json_bytes(draw, doc: Any) -> bytes:
    """``doc`` as a file: mostly UTF-8 JSON, sometimes with a BOM, in UTF-16 or GBK, with a
    byte that is not UTF-8, nested hundreds deep or cut short."""
    text = render(doc)
    how = draw(
        st.sampled_from(
            ["plain"] * 6 + ["bom", "utf-16", "gbk", "bad-byte", "deep", "cut", "ascii"]
        )
    )
    if how == "bom":
        return b"\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass")
    if how == "utf-16":
        return text.encode("utf-16", "surrogatepass")
    if how == "gbk":
        return text.encode("gbk", "replace")
    if how == "ascii":
        return json.dumps(doc).encode() if isinstance(doc, dict) else b"[]"
    data = text.encode("utf-8", "surrogatepass")
    if how == "bad-byte":
        at = draw(st.integers(0, len(data)))
        return (
            data[:at] + draw(st.sampled_from([b"\xff", b"\xc0\x80", b"\xed\xa0\x80"])) + data[at:]
        )
    if how == "deep":
        n = draw(st.sampled_from([50, 1000, 100_000]))
        return b'{"zones": ' + b"[" * n + b"]" * n + b"}"
    if how == "cut":
        return data[: draw(st.integers(0, max(len(data) - 1, 0)))]
    return data
