"""Review through the API (queue, filters, images, confirm / assign / dismiss, export) and the
ground staff's follow-up (their flags only, handled with a note or a photo), seen by the
reviewer."""

from __future__ import annotations

import csv
import io
import json

from tests.patrol.console.flagkit import jpeg, record_flags


def test_the_queue_filters_and_images(as_role, console) -> None:
    record_flags(console.flags)
    rev = as_role("reviewer")
    everything = rev.get("/api/flags").json()
    assert everything["count"] == 3  # two sightings of track t1 are one flag
    gathering = next(
        f for f in everything["flags"] if f["kind"] == "gathering" and f["patrol_id"] == 1
    )
    assert gathering["count"] == 8 and gathering["observations"] == 2
    assert gathering["state"] == "new" and gathering["grid"] == "上洋村 Shangyang"
    crop = rev.get(gathering["crop"])
    assert crop.status_code == 200 and crop.content[:3] == b"\xff\xd8\xff"
    assert rev.get(gathering["thumbnail"]).headers["content-type"] == "image/jpeg"
    by = {
        "kind=no_mask": 1,
        "grid=上洋村 Shangyang": 1,
        "patrol_id=2": 1,
        "state=new": 3,
        "state=resolved": 0,
        "since=2026-07-01T10:30:00%2B00:00": 1,
        "until=2026-07-01T17:03:00%2B08:00": 1,
        "until=2026-07-01T17:06:00%2B08:00": 2,
    }
    for query, count in by.items():
        assert rev.get(f"/api/flags?{query}").json()["count"] == count, query
    assert rev.get("/api/flags?kind=cat").status_code == 422
    naive = rev.get("/api/flags?since=2026-07-01T10:30:00")
    assert naive.status_code == 422 and "UTC offset" in naive.json()["error"]
    assert as_role("operator").get("/api/flags").status_code == 403


def test_review_steps_and_their_audit(as_role, console) -> None:
    ids = record_flags(console.flags)
    rev = as_role("reviewer")
    flag = ids[0]
    confirmed = rev.post(
        f"/api/flags/{flag}/review", json={"action": "confirm", "note": "确实聚集"}
    )
    assert confirmed.json()["state"] == "confirmed"
    again = rev.post(f"/api/flags/{flag}/review", json={"action": "confirm"})
    assert again.status_code == 409 and "cannot be confirmed" in again.json()["error"]
    nobody = rev.post(
        f"/api/flags/{flag}/review", json={"action": "assign", "assignee": "reviewer"}
    )
    assert (
        nobody.status_code == 400
        and "not a member of the ground staff" in nobody.json()["fields"]["assignee"]
    )
    assigned = rev.post(
        f"/api/flags/{flag}/review",
        json={"action": "assign", "assignee": "王小明", "note": "请去看看"},
    )
    assert assigned.json()["state"] == "assigned" and assigned.json()["assigned_to"] == "王小明"
    dismissed = rev.post(f"/api/flags/{ids[1]}/review", json={"action": "dismiss", "note": "误报"})
    assert dismissed.json()["state"] == "dismissed"
    history = rev.get(f"/api/flags/{flag}").json()["history"]
    assert [(e["action"], e["by"]) for e in history] == [
        ("confirm", "reviewer"),
        ("assign", "reviewer"),
    ]
    assert history[1]["assignee"] == "王小明" and history[1]["note"] == "请去看看"
    audit = [(e.action, e.target) for e in console.accounts.audit_log(user="reviewer")]
    assert ("flag-confirm", f"flag {flag}") in audit and ("flag-dismiss", f"flag {ids[1]}") in audit
    assert ("flag-assign", f"flag {flag} to 王小明") in audit
    assert rev.post("/api/flags/999/review", json={"action": "confirm"}).status_code == 404


def test_export_csv_and_geojson_with_the_filters(as_role, console) -> None:
    record_flags(console.flags)
    rev = as_role("reviewer")
    text = rev.get("/api/flags/export.csv?kind=gathering").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 2 and {r["grid"] for r in rows} == {"上洋村 Shangyang", "下洋村 Xiayang"}
    doc = json.loads(rev.get("/api/flags/export.geojson?patrol_id=1").content)
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 2
    assert doc["features"][0]["geometry"]["type"] == "Point"


def test_staff_see_only_their_flags_and_mark_them_handled(as_role, console) -> None:
    ids = record_flags(console.flags)
    rev = as_role("reviewer")
    rev.post(f"/api/flags/{ids[0]}/review", json={"action": "assign", "assignee": "王小明"})
    rev.post(f"/api/flags/{ids[2]}/review", json={"action": "assign", "assignee": "staff"})
    me = as_role("王小明")
    mine = me.get("/api/staff/flags").json()
    assert [f["id"] for f in mine] == [ids[0]] and mine[0]["crop"]
    assert me.get(mine[0]["crop"]).status_code == 200
    assert me.get(f"/api/flags/{ids[2]}").status_code == 403  # someone else's
    assert me.get(f"/api/flags/{ids[2]}/crop").status_code == 403
    assert me.get("/api/flags").status_code == 403  # not the review queue
    assert me.post(f"/api/flags/{ids[0]}/review", json={"action": "dismiss"}).status_code == 403
    empty = me.post(f"/api/staff/flags/{ids[0]}/handled", data={"note": " "})
    assert empty.status_code == 400 and "note" in empty.json()["fields"]
    png = me.post(f"/api/staff/flags/{ids[0]}/handled", data={"note": "x"},
                  files={"photo": ("IMG_1.png", b"\x89PNG\r\n", "image/png")})  # fmt: skip
    assert png.status_code == 400 and "not a JPEG" in png.json()["fields"]["photo"]
    noted = me.post(f"/api/staff/flags/{ids[0]}/note", data={"note": "正在路上"})
    assert noted.status_code == 200 and noted.json()["state"] == "assigned"
    handled = me.post(
        f"/api/staff/flags/{ids[0]}/handled",
        data={"note": "已劝散 dispersed"},
        files={"photo": ("现场.jpg", jpeg(320, 240), "image/jpeg")},
    )
    assert handled.status_code == 200 and handled.json()["state"] == "resolved"
    again = me.post(f"/api/staff/flags/{ids[0]}/handled", data={"note": "again"})
    assert again.status_code == 409
    # the reviewer sees the follow-up, with the photo
    seen = rev.get(f"/api/flags/{ids[0]}").json()
    assert seen["state"] == "resolved"
    last = seen["history"][-1]
    assert (last["action"], last["by"], last["note"]) == ("resolve", "王小明", "已劝散 dispersed")
    assert rev.get(last["photo"]).content[:3] == b"\xff\xd8\xff"
    assert [f["state"] for f in me.get("/api/staff/flags").json()] == ["resolved"]
    assert ("flag-resolve", f"flag {ids[0]}") in [
        (e.action, e.target) for e in console.accounts.audit_log(user="王小明")
    ]
    assert as_role("operator").get("/api/staff/flags").status_code == 403


def test_operators_see_where_the_open_flags_are(as_role, console) -> None:
    ids = record_flags(console.flags)
    as_role("reviewer").post(f"/api/flags/{ids[1]}/review", json={"action": "dismiss"})
    op = as_role("operator")
    positions = op.get("/api/flags/positions").json()
    assert {f["id"] for f in positions} == set(ids) - {ids[1]}
    first = next(f for f in positions if f["id"] == ids[0])
    assert first["grid"] == "上洋村 Shangyang" and first["count"] == 8
    assert "crop" not in first and "detail" not in first  # the pictures stay with reviewers
    everything = op.get("/api/flags/positions?open_only=false&patrol_id=1").json()
    assert ids[1] in {f["id"] for f in everything} and {f["patrol_id"] for f in everything} == {1}
    assert op.get("/api/flags").status_code == 403
    assert as_role("staff").get("/api/flags/positions").status_code == 403
