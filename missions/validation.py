"""Types shared by the input schemas, and pydantic's validation errors as one-line problems."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AllowInfNan, BeforeValidator, Strict, ValidationError

from missions.json_input import Unrepresentable

# A JSON number that is a finite float (ints are numbers too; booleans and strings are not).
Number = Annotated[float, Strict(), AllowInfNan(False)]


def _whole(value: Any) -> Any:
    """QGroundControl stores every number as a double: 16.0 is the command 16."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


# A whole number, written as 16 or 16.0.
Whole = Annotated[int, BeforeValidator(_whole), Strict()]


def problems(
    error: ValidationError, skip: frozenset[str] = frozenset(), limit: int = 1
) -> list[str]:
    """The first ``limit`` errors as ``place: what is wrong (got ...)`` lines; ``skip`` drops
    the tags pydantic inserts into locations for the member of a union it tried."""
    lines = []
    errors = error.errors(include_url=False)
    for err in errors[:limit]:
        lines.append(describe(err, skip))
    if len(errors) > limit:
        lines[-1] += f" (and {len(errors) - limit} more problem(s) in it)"
    return lines


_EXPECTED = {
    "model_type": "an object",
    "model_attributes_type": "an object",
    "dict_type": "an object",
    "list_type": "a list",
    "tuple_type": "a list",
    "float_type": "a number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "string_type": "text",
    "finite_number": "a finite number",
}


def describe(err: Any, skip: frozenset[str] = frozenset()) -> str:
    """One error as ``place: what is wrong``."""
    place = ""
    for part in err["loc"]:
        if isinstance(part, int):
            place += f"[{part}]"
        elif part not in skip:
            place += f".{part}" if place else str(part)
    value = err.get("input")
    ctx = err.get("ctx") or {}
    if isinstance(value, Unrepresentable):
        what = f"{value!r} is out of range"
    elif err["type"] == "missing":
        what = "missing"
    elif err["type"] in _EXPECTED:
        what = f"expected {_EXPECTED[err['type']]} (got {_shown(value)})"
    elif err["type"] == "union_tag_invalid":
        what = f"type {_shown(ctx.get('tag'))} is not one of {ctx.get('expected_tags')}"
    else:
        what = f"{err['msg'][0].lower()}{err['msg'][1:]} (got {_shown(value)})"
    return f"{place}: {what}" if place else what


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."
