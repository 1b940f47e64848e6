import math
from pathlib import Path

import pytest
import sqlalchemy

from missions.items import FENCE, Mission, MissionItem
from patrol.store.patrols import PatrolStore, mission_from_json, mission_to_json


def test_mission_json_round_trip_keeps_nan() -> None:
    m = Mission(
        [
            MissionItem(16, frame=0, lat=27.57, lon=119.71, alt=200),
            MissionItem(16, param4=math.nan),
        ],
        fence=[MissionItem(5003, frame=0, lat=27.57, lon=119.71, param1=300, mission_type=FENCE)],
        name="east",
    )
    back = mission_from_json(mission_to_json(m))
    assert back.name == "east" and back.fence == m.fence
    assert math.isnan(back.items[1].param4) and back.items[0] == m.items[0]


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'p.db'}"
    url = request.getfixturevalue("postgres_url")
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as conn:  # each test starts from an empty database
        conn.execute(sqlalchemy.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return url


def test_patrol_sorties_events_and_reached(store_url: str) -> None:
    store = PatrolStore(url=store_url)
    m = Mission([MissionItem(16, frame=0, lat=27.57, lon=119.71)])
    patrol = store.create_patrol("north", [("tcp:a:1", "a.plan", m), ("tcp:b:2", "b.plan", m)])
    a, b = patrol.sorties
    store.add_event(a.id, "state", "armed")
    assert store.add_reached(a.id, 3, 27.5, 119.7)
    assert not store.add_reached(a.id, 3)  # once only
    store.add_reached(a.id, 2, inferred=True)
    store.update_sortie(b.id, status="completed")
    again = PatrolStore(url=store_url).get_patrol(patrol.id)
    first = again.sorties[0]
    assert first.last_reached == 3 and [e.detail for e in first.events] == ["armed"]
    assert store.reached_seqs(a.id) == [2, 3]
    assert again.sorties[1].status == "completed"
    assert [p.id for p in store.list_patrols()] == [patrol.id]
