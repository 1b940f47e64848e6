"""Grids (import with per-feature problems, draw, rename, delete) and plans (preview, save,
download, broadcast playlists with audibility) through the API."""

from __future__ import annotations

import json
from pathlib import Path

from missions.formats import read_mission
from patrol.runner.route import is_waypoint

SAMPLE = Path(__file__).resolve().parents[3] / "data" / "sample"
HOME = {"lat": 27.57, "lon": 119.71, "alt": 200}
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[119.712, 27.572], [119.714, 27.572], [119.714, 27.574], [119.712, 27.574],
                     [119.712, 27.572]]],
}  # fmt: skip


def upload(client, path: Path, kind: str = "grid", name: str | None = None):  # type: ignore[no-untyped-def]
    files = {"file": (name or path.name, path.read_bytes(), "application/octet-stream")}
    return client.post("/api/grids/import", files=files, data={"kind": kind})


def test_import_sample_files_and_list_them_with_chinese_names(as_role) -> None:
    op = as_role("operator")
    response = upload(op, SAMPLE / "township.geojson")
    assert response.status_code == 201, response.text
    names = [f["properties"]["name"] for f in response.json()["imported"]]
    assert "上洋村 Shangyang" in names and len(names) == 13
    assert upload(op, SAMPLE / "no-fly.geojson", "no_fly").status_code == 201
    listed = op.get("/api/grids").json()
    assert listed["type"] == "FeatureCollection"
    kinds = {f["properties"]["kind"] for f in listed["features"]}
    assert kinds == {"grid", "no_fly"}
    shangyang = next(f for f in listed["features"] if f["properties"]["name"] == "上洋村 Shangyang")
    assert shangyang["properties"]["area_m2"] > 10_000
    # importing the same names again saves nothing
    again = upload(op, SAMPLE / "township.geojson")
    assert again.status_code == 409 and "nothing imported" in again.json()["error"]
    assert len(op.get("/api/grids").json()["features"]) == len(listed["features"])
    assert upload(op, SAMPLE / "villages.kml").status_code in (201, 409)


def test_an_invalid_file_lists_every_problem_by_feature_and_saves_nothing(as_role) -> None:
    bow_tie = {"type": "Polygon", "coordinates": [[[119.71, 27.57], [119.72, 27.58],
               [119.72, 27.57], [119.71, 27.58], [119.71, 27.57]]]}  # fmt: skip
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "好的 good"}, "geometry": SQUARE},
        {"type": "Feature", "properties": {"name": "蝴蝶结"}, "geometry": bow_tie},
        {"type": "Feature", "properties": {"name": "点"},
         "geometry": {"type": "Point", "coordinates": [119.7, 27.5]}},
    ]}  # fmt: skip
    op = as_role("operator")
    files = {"file": ("../../etc/村界.geojson", json.dumps(doc).encode(), "application/json")}
    response = op.post("/api/grids/import", files=files)
    assert response.status_code == 400
    body = response.json()
    assert len(body["problems"]) == 1  # the pin is no problem: it is left out (below)
    assert body["problems"][0].startswith("村界.geojson: feature 2 '蝴蝶结': ")
    assert "Self-intersection" in body["problems"][0] or "self" in body["problems"][0].lower()
    assert "/tmp" not in json.dumps(body) and "upload" not in json.dumps(body)
    assert op.get("/api/grids").json()["features"] == []


def test_pins_and_paths_beside_the_grids_are_left_out_with_a_notice(as_role) -> None:
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "好的 good"}, "geometry": SQUARE},
        {"type": "Feature", "properties": {"name": "村委会"},
         "geometry": {"type": "Point", "coordinates": [119.7, 27.5]}},
    ]}  # fmt: skip
    op = as_role("operator")
    files = {"file": ("村界.geojson", json.dumps(doc).encode(), "application/json")}
    body = op.post("/api/grids/import", files=files).json()
    assert [f["properties"]["name"] for f in body["imported"]] == ["好的 good"]
    (notice,) = body["left_out"]
    assert "村委会" in notice and "/tmp" not in notice


def test_uploads_of_the_wrong_type_or_empty_are_refused(as_role) -> None:
    op = as_role("operator")
    files = {"file": ("grids.exe", b"MZ", "application/octet-stream")}
    response = op.post("/api/grids/import", files=files)
    assert (
        response.status_code == 400 and "cannot be used here" in response.json()["fields"]["file"]
    )
    files = {"file": ("empty.geojson", b"", "application/json")}
    assert op.post("/api/grids/import", files=files).status_code == 400
    files = {"file": ("bad.geojson", b"{not json", "application/json")}
    bad = op.post("/api/grids/import", files=files).json()
    assert bad["problems"] == ["bad.geojson: not valid JSON: Expecting property name enclosed "
                               "in double quotes (line 1, column 2)"]  # fmt: skip


def test_draw_rename_reshape_and_delete_a_grid(as_role, console) -> None:
    op = as_role("operator")
    made = op.post("/api/grids", json={"name": "新村 Xincun", "geometry": SQUARE})
    assert made.status_code == 201
    grid_id = made.json()["id"]
    assert (
        op.post("/api/grids", json={"name": "新村 Xincun", "geometry": SQUARE}).status_code == 409
    )
    renamed = op.patch(f"/api/grids/{grid_id}", json={"name": "新新村"})
    assert renamed.json()["properties"]["name"] == "新新村"
    line = {
        "type": "Polygon",
        "coordinates": [[[119.71, 27.57], [119.711, 27.57], [119.71, 27.57]]],
    }
    bad = op.patch(f"/api/grids/{grid_id}", json={"geometry": line})
    assert (
        bad.status_code == 400
        and "fewer than 3 distinct points" in bad.json()["fields"]["geometry"]
    )
    assert op.get("/api/grids").json()["features"][0]["geometry"] == SQUARE
    assert op.delete(f"/api/grids/{grid_id}").status_code == 200
    assert op.delete(f"/api/grids/{grid_id}").status_code == 404
    actions = [e.action for e in console.accounts.audit_log(user="operator")]
    assert {"grid-add", "grid-change", "grid-delete"} <= set(actions)
    assert (
        as_role("reviewer").post("/api/grids", json={"name": "x", "geometry": SQUARE}).status_code
        == 403
    )


def _township(op) -> dict[str, int]:  # type: ignore[no-untyped-def]
    upload(op, SAMPLE / "township.geojson")
    upload(op, SAMPLE / "no-fly.geojson", "no_fly")
    return {
        f["properties"]["name"]: f["id"] for f in op.get("/api/grids?kind=grid").json()["features"]
    }


def test_preview_save_and_download_a_plan(as_role) -> None:
    op = as_role("operator")
    ids = _township(op)
    request = {"name": "东溪 巡逻", "grid_ids": [ids["上洋村 Shangyang"], ids["下洋村 Xiayang"]],
               "pattern": "coverage", "alt": 40, "speed": 10, "spacing": 60,
               "endurance_min": 5, "home": HOME}  # fmt: skip
    preview = op.post("/api/plans/preview", json=request)
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["summary"]["sorties"] == len(body["sorties"]) >= 1
    assert {g["name"] for g in body["summary"]["grids"]} == {"上洋村 Shangyang", "下洋村 Xiayang"}
    route = body["sorties"][0]["route"]
    assert route["type"] == "LineString" and route["coordinates"][0] == [119.71, 27.57]
    assert op.get("/api/plans").json() == []  # a preview saves nothing
    saved = op.post("/api/plans", json=request)
    assert saved.status_code == 201
    plan_id = saved.json()["id"]
    assert op.get("/api/plans").json()[0]["name"] == "东溪 巡逻"
    assert op.get(f"/api/plans/{plan_id}").json()["routes"][0] == route
    download = op.get(f"/api/plans/{plan_id}/sorties/1/plan")
    assert download.status_code == 200
    assert "filename*=UTF-8''%E4%B8%9C%E6%BA%AA" in download.headers["content-disposition"]
    doc = download.json()
    assert doc["fileType"] == "Plan" and doc["mission"]["items"]
    waypoints = op.get(f"/api/plans/{plan_id}/sorties/1/waypoints")
    assert waypoints.text.startswith("QGC WPL 110")
    assert op.get(f"/api/plans/{plan_id}/sorties/99/plan").status_code == 404
    assert op.get(f"/api/plans/{plan_id}/sorties/1/kml").status_code == 422


def test_the_downloaded_plan_reads_back_as_the_stored_mission(as_role, tmp_path: Path) -> None:
    op = as_role("operator")
    ids = _township(op)
    request = {"name": "p", "grid_ids": [ids["上洋村 Shangyang"]], "pattern": "perimeter",
               "home": HOME}  # fmt: skip
    plan_id = op.post("/api/plans", json=request).json()["id"]
    path = tmp_path / "p.plan"
    path.write_bytes(op.get(f"/api/plans/{plan_id}/sorties/1/plan").content)
    mission = read_mission(path)
    route = op.get(f"/api/plans/{plan_id}").json()["routes"][0]["coordinates"]
    flown = [[i.lon, i.lat] for s, i in enumerate(mission.items) if s > 0 and is_waypoint(i)]
    assert [[round(x, 6) for x in p] for p in flown] == [
        [round(x, 6) for x in p] for p in route[1:-1]
    ]


def test_bad_plan_settings_show_next_to_their_fields(as_role) -> None:
    op = as_role("operator")
    ids = _township(op)
    base = {"name": "p", "grid_ids": [ids["上洋村 Shangyang"]], "home": HOME, "spacing": 50}
    cases = [
        ({"alt": 200}, "alt", "outside 5-120 m"),
        ({"speed": 50}, "speed", "less than or equal to 20"),
        ({"spacing": None}, "spacing", "needs a line spacing or a camera"),
        ({"spacing": None, "camera": "nokia"}, "camera", "unknown camera 'nokia'"),
        ({"grid_ids": [999]}, "grid_ids", "no grid 999"),
        ({"grid_ids": []}, "grid_ids", "at least 1"),
        ({"home": {"lat": 0, "lon": 0}}, "home", "km from the nearest grid"),
        ({"endurance_min": 0.2}, "endurance_min", "too short"),
    ]
    for change, field, message in cases:
        response = op.post("/api/plans/preview", json=base | change)
        assert response.status_code in (400, 422), (change, response.text)
        fields = response.json().get("fields", {})
        shown = fields.get(field) or response.json()["error"]
        assert message in shown, (change, response.json())


def test_broadcast_playlists_per_zone_with_the_audibility_estimate(as_role, console) -> None:
    op = as_role("operator")
    ids = _township(op)
    message = console.library.add_tts("防溺水", "不要到河边玩耍。", "cmn", created_by="operator")
    grid = ids["上洋村 Shangyang"]
    zones = [{"grid_id": grid, "messages": [message.id]}]
    request = {"name": "广播", "grid_ids": [grid], "pattern": "perimeter", "alt": 40,
               "home": HOME, "broadcast": zones}  # fmt: skip
    body = op.post("/api/plans/preview", json=request).json()
    (zone,) = body["audibility"]
    assert zone["zone"] == "上洋村 Shangyang" and zone["level_db"] > 65 and zone["ok"]
    high = op.post("/api/plans/preview", json=request | {"alt": 120}).json()["audibility"][0]
    assert high["level_db"] < zone["level_db"]
    bad = op.post(
        "/api/plans/preview", json=request | {"broadcast": [{"grid_id": grid, "messages": [999]}]}
    )
    assert bad.status_code == 400 and "unknown message 999" in bad.json()["problems"][0]
    plan_id = op.post("/api/plans", json=request).json()["id"]
    bundle = op.get(f"/api/plans/{plan_id}/broadcast.zip")
    assert bundle.status_code == 200 and bundle.content[:2] == b"PK"
