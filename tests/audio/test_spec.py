"""The plan spec's types are strict: a value of the wrong type is a problem with its place,
never a crash and never a silent coercion."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audio.plan import PlanError, build_plan
from tests.audio.plans import make_messages, resolver, square


@pytest.fixture
def messages(tmp_path):
    return make_messages(tmp_path, {1: 1.0, 2: 2.0})


HUGE_POLYGON = {"type": "Polygon", "coordinates": [[[10**400, 1], [2, 2], [3, 1], [10**400, 1]]]}


def spec(**zone_changes) -> dict:
    zone = {"name": "A", "geometry": square(0, 0, 300), "messages": [1], **zone_changes}
    return {"zones": [zone]}


def problems_of(data, messages) -> list[str]:
    with pytest.raises(PlanError) as info:
        build_plan(data, resolver(messages))
    return info.value.problems


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"loop": "false"}, "zones[0] (A): loop must be true or false, not 'false'"),
        ({"loop": 0}, "zones[0] (A): loop must be true or false, not 0"),
        ({"messages": [True]}, "zones[0] (A).messages[0]: must be a message id"),
        ({"messages": [2**64]}, "zones[0] (A).messages[0]: must be a message id"),
        ({"messages": 5}, "zones[0] (A): messages must be a list, not 5"),
        ({"messages": True}, "zones[0] (A): messages must be a list, not True"),
        ({"count": True}, "zones[0] (A): count must be a whole number, not True"),
        ({"count": 2.5}, "zones[0] (A): count must be a whole number, not 2.5"),
        ({"gap_s": float("nan")}, "zones[0] (A): gap_s must be a finite number, not nan"),
        ({"volume": 1e309}, "zones[0] (A): volume must be a finite number, not inf"),
        ({"priority": 10**30}, "zones[0] (A): priority 1000000000000000000000000000000 is "),
        ({"geometry": {"type": "NaN", "coordinates": []}}, "zones[0] (A): the geometry is a NaN"),
        ({"geometry": HUGE_POLYGON}, "zones[0] (A): the geometry is not a GeoJSON Polygon"),
        ({"loops": True}, "zones[0] (A): unknown field 'loops'"),
    ],
)
def test_wrong_types_are_problems_with_their_place(messages, changes, expected):
    assert any(p.startswith(expected) for p in problems_of(spec(**changes), messages)), expected


@pytest.mark.parametrize("key", ["zones", "quiet_hours", "priority_messages"])
@pytest.mark.parametrize("value", [3, True, "text", {"a": 1}])
def test_lists_given_as_other_things(messages, key, value):
    data = {**spec(), key: value}
    (problem,) = problems_of(data, messages)
    assert problem.startswith(f"plan: {key} must be a list")


def test_yes_and_no_are_not_booleans(messages):
    data = {**spec(), "priority_messages": [{"message": 1, "override_quiet": "no"}]}
    assert problems_of(data, messages) == [
        "priority_messages[0]: override_quiet must be true or false, not 'no'"
    ]


def test_well_typed_values_still_plan(messages):
    plan = build_plan(spec(loop=False, count=2, gap_s=0, volume=0.5), resolver(messages))
    zone = plan.zone("A")
    assert zone.playlist.loop is False and zone.playlist.count == 2
    assert zone.playlist.volume == 0.5 and zone.playlist.messages == (1,)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
KEYS = st.sampled_from(["name", "grid", "geometry", "messages", "loop", "count", "gap_s",
                        "volume", "priority", "alt_m", "zones", "quiet_hours", "timezone",
                        "priority_messages", "message", "override_quiet", "repeat", "id",
                        "hysteresis_m", "type", "coordinates"])  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        JSON,
        lambda inner: st.dictionaries(KEYS, inner, max_size=6) | st.lists(inner, max_size=3),
        max_leaves=30,
    )
)
def test_any_json_is_a_plan_or_a_list_of_problems(tmp_path_factory, data):
    messages = make_messages(tmp_path_factory.mktemp("m"), {1: 1.0})
    try:
        build_plan(data, resolver(messages))
    except PlanError as exc:
        assert exc.problems and all(isinstance(p, str) and "\n" not in p for p in exc.problems)
        json.dumps(exc.problems)  # printable


def test_a_number_of_thousands_of_digits_is_shown_short(messages):
    (problem,) = problems_of(spec(count=10**4000), messages)
    assert problem.startswith("zones[0] (A): count 1000000") and problem.endswith(
        "... is outside 1..1000"
    )
    assert len(problem) < 120
