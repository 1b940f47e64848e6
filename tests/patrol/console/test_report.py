"""The patrol report: sorties, the planned route, broadcasts from a play log, flags with their
follow-up; an uploaded play log whose plays fall outside the sortie is not counted."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from patrol.console.simulated import SimVehicle
from patrol.store.models import utcnow
from tests.patrol.console.flagkit import record_flags
from tests.patrol.simkit import square_plan


def _play(at, title: str, zone: str = "上洋村 Shangyang") -> str:  # type: ignore[no-untyped-def]
    return json.dumps({"plan": "p", "zone": zone, "message_id": 1, "title": title,
                       "start": at.isoformat(), "end": (at + timedelta(seconds=4)).isoformat(),
                       "heard_s": 4.0, "finished": True, "reason": "completed"},
                      ensure_ascii=False)  # fmt: skip


def test_report_of_a_patrol_with_plays_and_flags(as_role, console) -> None:
    patrol = console.patrols.create_patrol("东溪 巡逻", [("tcp:127.0.0.1:5760", "", square_plan())])
    sortie = patrol.sorties[0].id
    start = utcnow() - timedelta(minutes=20)
    console.patrols.update_sortie(sortie, status="completed", started_at=start,
                                  ended_at=start + timedelta(minutes=10), sysid=1)  # fmt: skip
    console.patrols.add_event(sortie, "operator", "pause requested by operator (console)")
    ids = record_flags(console.flags)  # patrol 1 has two of them
    rev = as_role("reviewer")
    rev.post(f"/api/flags/{ids[0]}/review", json={"action": "assign", "assignee": "王小明"})
    as_role("王小明").post(f"/api/staff/flags/{ids[0]}/handled", data={"note": "已劝散"})
    log = "\n".join([
        _play(start + timedelta(minutes=2), "防溺水"),
        _play(start + timedelta(minutes=3), "戴口罩"),
        _play(start - timedelta(hours=3), "昨天的"),  # another flight's
        "{torn line",
    ])  # fmt: skip
    op = as_role("operator")
    files = {"file": ("plays.jsonl", log.encode(), "application/json")}
    uploaded = op.post(f"/api/patrols/{patrol.id}/sorties/{sortie}/plays", files=files)
    assert uploaded.status_code == 201 and uploaded.json() == {"plays": 3}
    assert op.post(f"/api/patrols/{patrol.id}/sorties/999/plays", files=files).status_code == 404
    report = rev.get(f"/api/patrols/{patrol.id}/report").json()
    assert report["name"] == "东溪 巡逻"
    (s,) = report["sorties"]
    assert [p["title"] for p in s["plays"]] == ["防溺水", "戴口罩"]
    assert s["planned"]["type"] == "LineString" and len(s["planned"]["coordinates"]) == 6
    assert s["flown"]["coordinates"] == []  # no .tlog for this one
    assert s["events"][0]["detail"] == "pause requested by operator (console)"
    flags = {f["id"]: f for f in report["flags"]}
    assert set(flags) == {ids[0], ids[1]}
    assert (
        flags[ids[0]]["state"] == "resolved"
        and flags[ids[0]]["follow_up"] == "王小明: resolve — 已劝散"
    )
    page = rev.get(f"/patrols/{patrol.id}")
    assert page.status_code == 200 and 'data-patrol="1"' in page.text
    assert as_role("staff").get(f"/api/patrols/{patrol.id}/report").status_code == 403
    assert rev.get("/api/patrols/42/report").status_code == 404


def test_a_sim_copters_plays_are_read_from_the_simulator_session_its_sortie_flew_in(
    as_role, console
) -> None:
    # two simulators, one after the other, on the same port: both copters' clocks begin at
    # 09:00 in the township, so their agents' logs carry the same aircraft times
    boot = datetime(2026, 12, 1, 1, 0, tzinfo=UTC).timestamp()  # 09:00 +08:00
    sessions = []
    for titles in (["第一次"] * 3, ["第二次"]):
        sim = SimVehicle(1, 1, "127.0.0.1", 5760, 5762, clock=(boot, time.time()))
        console.add_simulated([sim])
        folder = console.agents.folder(1)
        folder.mkdir(parents=True)
        at = datetime.fromtimestamp(boot + 50, UTC)  # 10 s of wall time in, at 5x
        (folder / "plays.jsonl").write_text("\n".join(_play(at, t) for t in titles))
        patrol = console.patrols.create_patrol("p", [(sim.connect, "", square_plan())])
        now = utcnow()
        console.patrols.update_sortie(
            patrol.sorties[0].id, status="completed", sysid=1, started_at=now,
            ended_at=now + timedelta(minutes=1),
        )  # fmt: skip
        sessions.append(patrol.id)
        time.sleep(0.01)
    rev = as_role("reviewer")
    first, second = (rev.get(f"/api/patrols/{p}/report").json()["sorties"][0] for p in sessions)
    assert [p["title"] for p in first["plays"]] == ["第一次"] * 3
    assert [p["title"] for p in second["plays"]] == ["第二次"]
