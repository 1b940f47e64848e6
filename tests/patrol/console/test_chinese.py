"""Chinese text (common and rare characters, including those beyond the Basic Multilingual
Plane) goes in through every kind of endpoint and comes back exactly: grid and plan names,
message titles and text, review and staff notes, user names, the settings."""

from __future__ import annotations

from tests.patrol.console.conftest import PASSWORD
from tests.patrol.console.flagkit import record_flags
from tests.patrol.console.test_grids_plans import SQUARE

NAME = "𠮷野家 龘村 （第三网格）"  # 𠮷 is outside the BMP


def test_chinese_round_trips_through_the_api(as_role, console) -> None:
    admin = as_role("admin")
    grid = admin.post("/api/grids", json={"name": NAME, "geometry": SQUARE})
    assert grid.status_code == 201, grid.text
    grid_id = grid.json()["id"]
    assert admin.get("/api/grids").json()["features"][0]["properties"]["name"] == NAME
    renamed = admin.patch(f"/api/grids/{grid_id}", json={"name": NAME + "·改"}).json()
    assert renamed["properties"]["name"] == NAME + "·改"
    plan = {"name": "巡逻「晨」", "grid_ids": [grid_id], "pattern": "perimeter",
            "home": {"lat": 27.573, "lon": 119.713, "alt": 200}}  # fmt: skip
    saved = admin.post("/api/plans", json=plan)
    assert saved.status_code == 201, saved.text
    assert admin.get(f"/api/plans/{saved.json()['id']}").json()["name"] == "巡逻「晨」"
    download = admin.get(f"/api/plans/{saved.json()['id']}/sorties/1/plan")
    assert "filename*=UTF-8''%E5%B7%A1" in download.headers["content-disposition"]
    speech = {"title": "防疫通知 𠮷", "text": "请大家戴好口罩，勤洗手。"}
    message = admin.post("/api/messages/tts", json=speech).json()
    listed = admin.get("/api/messages").json()[0]
    assert listed["title"] == "防疫通知 𠮷" and listed["text"] == speech["text"]
    added = admin.post("/api/users", json={"name": "李𠮷", "role": "staff", "password": PASSWORD})
    assert added.status_code == 201 and added.json()["name"] == "李𠮷"
    ids = record_flags(console.flags)
    note = "请李𠮷去看看，注意安全！"
    reviewed = admin.post(f"/api/flags/{ids[0]}/review",
                          json={"action": "assign", "assignee": "李𠮷", "note": note})  # fmt: skip
    assert reviewed.status_code == 200, reviewed.text
    assert admin.get(f"/api/flags/{ids[0]}").json()["history"][-1]["note"] == note
    staff = as_role("李𠮷")
    handled = staff.post(f"/api/staff/flags/{ids[0]}/handled", data={"note": "已处理，人群已散开"})
    assert handled.status_code == 200, handled.text
    assert staff.get("/api/staff/flags").json()[0]["history"][-1]["note"] == "已处理，人群已散开"
    settings = admin.patch("/api/settings", json={"values": {"tile_attribution": "© 国家测绘局"}})
    assert settings.json()["values"]["tile_attribution"] == "© 国家测绘局"
    csv = admin.get("/api/flags/export.csv").content.decode("utf-8-sig")
    assert "上洋村 Shangyang" in csv
    audit = admin.get("/api/audit").json()
    assert {"李𠮷", NAME + "·改", "防疫通知 𠮷"} <= {a["target"] for a in audit}
    assert message["title"] == "防疫通知 𠮷"
