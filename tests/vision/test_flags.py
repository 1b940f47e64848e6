import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine

from vision.flags import FlagError, FlagFilter, FlagStore, Observation, to_csv, to_geojson

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    return FlagStore(create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}"), tmp_path / "media")


def sighting(**changes) -> Observation:
    base = dict(kind="gathering", count=3, confidence=0.8, lat=27.57, lon=119.71, error_m=1.2,
                at=T0, radius_m=2.5, grid="上洋村", patrol_id=4, sortie_id=7, source="cam-1",
                track="g1", crop_jpeg=JPEG, thumbnail_jpeg=JPEG)  # fmt: skip
    return Observation(**{**base, **changes})


def test_one_track_is_one_flag_updated_as_it_grows(store):
    first = store.record(sighting())
    later = store.record(sighting(count=5, lat=27.5701, at=T0 + timedelta(seconds=9)))
    assert later.id == first.id and store.count() == 1
    assert later.count == 5 and later.lat == 27.5701 and later.observations == 2
    assert later.first_seen == T0 and later.last_seen == T0 + timedelta(seconds=9)
    assert later.crop.read_bytes() == JPEG and later.thumbnail.is_file()
    assert later.grid == "上洋村" and later.state == "new"
    other = store.record(sighting(track="g2"))
    assert other.id != first.id and store.count() == 2
    # the same track name from another camera is another gathering
    assert store.record(sighting(source="cam-2")).id not in (first.id, other.id)


def test_review_walks_the_states_and_keeps_history(store):
    flag = store.record(sighting())
    store.review(flag.id, "confirm", "reviewer-wang")
    assigned = store.review(flag.id, "assign", "reviewer-wang", "please check", assignee="li")
    assert assigned.state == "assigned" and assigned.assigned_to == "li"
    assert [f.id for f in store.list(FlagFilter(assigned_to="li"))] == [flag.id]
    done = store.review(flag.id, "resolve", "li", "dispersed, masks handed out", photo_jpeg=JPEG)
    assert done.state == "resolved"
    history = store.history(flag.id)
    assert [(e.action, e.from_state, e.to_state) for e in history] == [
        ("confirm", "new", "confirmed"),
        ("assign", "confirmed", "assigned"),
        ("resolve", "assigned", "resolved"),
    ]
    assert history[-1].photo.read_bytes() == JPEG and history[1].assignee == "li"
    # a sighting after the review keeps the review state
    assert store.record(sighting(count=4)).state == "resolved"


@pytest.mark.parametrize(
    ("steps", "state"),
    [
        (["resolve"], "new"),
        (["dismiss", "confirm"], "dismissed"),
        (["confirm", "reopen"], "confirmed"),
    ],
)
def test_review_refuses_steps_the_state_does_not_allow(store, steps, state):
    flag = store.record(sighting())
    for step in steps[:-1]:
        store.review(flag.id, step, "wang")
    with pytest.raises(FlagError, match=f"is {state}: it cannot be"):
        store.review(flag.id, steps[-1], "wang")
    assert store.get(flag.id).state == state
    assert len(store.history(flag.id)) == len(steps) - 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "crowd"}, "flag kind"),
        ({"count": 0}, "flag count"),
        ({"count": True}, "flag count"),
        ({"confidence": float("nan")}, "confidence"),
        ({"confidence": 1.5}, "between 0 and 1"),
        ({"lat": 119.71, "lon": 27.57}, "lat"),
        ({"lat": 100.0}, "not a latitude"),
        ({"error_m": -1.0}, "negative"),
        ({"at": datetime(2026, 3, 1, 8, 0)}, "timezone"),
        ({"crop_jpeg": b"GIF89a"}, "not a JPEG"),
        ({"thumbnail_jpeg": b"\xff\xd8\xff" + b"\x00" * (9 * 1024 * 1024)}, "byte limit"),
    ],
)
def test_bad_sightings_are_refused_and_nothing_is_stored(store, changes, message):
    with pytest.raises(FlagError, match=message):
        store.record(sighting(**changes))
    assert store.count() == 0


def test_review_input_is_checked(store):
    flag = store.record(sighting())
    with pytest.raises(FlagError, match="needs the name of a member"):
        store.review(flag.id, "assign", "wang")
    with pytest.raises(FlagError, match="only assign"):
        store.review(flag.id, "confirm", "wang", assignee="li")
    with pytest.raises(FlagError, match="who took it"):
        store.review(flag.id, "confirm", " ")
    with pytest.raises(FlagError, match="no flag 99"):
        store.review(99, "confirm", "wang")
    with pytest.raises(FlagError, match="review action"):
        store.review(flag.id, "escalate", "wang")
    assert store.history(flag.id) == []


def test_filters_and_exports(store):
    a = store.record(sighting())
    b = store.record(sighting(kind="no_mask", track="m1", grid="=cmd|' /C calc'!A0", count=1,
                              radius_m=None, at=T0 + timedelta(minutes=5)))  # fmt: skip
    assert [f.id for f in store.list()] == [b.id, a.id]
    assert [f.id for f in store.list(FlagFilter(kind="gathering"))] == [a.id]
    assert [f.id for f in store.list(FlagFilter(since=T0 + timedelta(minutes=1)))] == [b.id]
    assert store.count(FlagFilter(patrol_id=4, state="new")) == 2
    geo = json.loads(json.dumps(to_geojson(store.list())))
    assert geo["features"][1]["geometry"]["coordinates"] == [119.71, 27.57]
    assert geo["features"][0]["properties"]["kind"] == "no_mask"
    rows = list(csv.DictReader(io.StringIO(to_csv(store.list()))))
    assert rows[1]["grid"] == "上洋村" and rows[1]["lat"] == "27.57"
    assert rows[0]["grid"].startswith("'=")  # not run as a formula by a spreadsheet


def test_time_filters_in_another_zone_compare_in_utc(store):
    store.record(sighting(at=T0))  # 08:00 UTC
    later = store.record(sighting(track="g2", at=T0 + timedelta(hours=1)))
    beijing = timezone(timedelta(hours=8))
    since = datetime(2026, 3, 1, 16, 30, tzinfo=beijing)  # 08:30 UTC
    assert [f.id for f in store.list(FlagFilter(since=since))] == [later.id]
    assert store.count(FlagFilter(until=since)) == 1
