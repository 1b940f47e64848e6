"""``patrol flags list|export|show``."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from patrol.cli import main
from patrol.detection import open_flag_store
from vision.flags import Observation

T0 = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATROL_DATA_DIR", str(tmp_path / "data"))
    store = open_flag_store()
    for k, (kind, grid, patrol) in enumerate(
        [("gathering", "上洋村", 1), ("no_mask", "上洋村", 1), ("gathering", "下洋村", 2)]
    ):
        store.record(
            Observation(
                kind=kind,
                count=5 - k,
                confidence=0.8,
                lat=27.57 + k * 1e-4,
                lon=119.71,
                error_m=1.5,
                at=T0 + timedelta(minutes=k),
                radius_m=1.0,
                grid=grid,
                patrol_id=patrol,
                sortie_id=patrol,
                source="cam",
                track=f"t{k}",
            )
        )
    store.review(1, "assign", "wang", "please check", assignee="li")
    return store


def test_list_filters_and_shows_newest_first(store, capsys):
    assert main(["flags", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["3", "2", "1"]
    assert "gathering assigned  -> li   5 people" in lines[2] and "in 上洋村" in lines[2]
    assert main(["flags", "list", "--grid", "上洋村", "--kind", "gathering"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == ["1"]
    assert main(["flags", "list", "--since", "2026-07-01T09:01:30+08:00", "--json"]) == 0
    assert [f["id"] for f in json.loads(capsys.readouterr().out)["features"]] == [3]
    assert main(["flags", "list", "--limit", "1"]) == 0
    assert "(1 of 3; --limit to see more)" in capsys.readouterr().out


def test_export_geojson_and_csv(store, tmp_path, capsys):
    assert main(["flags", "export", "--patrol", "1", "-o", str(tmp_path / "f.geojson")]) == 0
    doc = json.loads((tmp_path / "f.geojson").read_text())
    assert sorted(f["id"] for f in doc["features"]) == [1, 2]
    assert main(["flags", "export", "-o", str(tmp_path / "f.csv")]) == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "f.csv").read_text())))
    assert len(rows) == 3 and rows[-1]["assigned_to"] == "li"
    assert "wrote 3 flag(s)" in capsys.readouterr().out


def test_show_gives_the_review_history_and_errors_are_one_line(store, tmp_path, capsys):
    assert main(["flags", "show", "1"]) == 0
    out = capsys.readouterr().out
    assert "wang assign to li (new -> assigned): please check" in out
    for argv, message in [
        (["flags", "show", "99"], "no flag 99"),
        (["flags", "list", "--since", "yesterday"], "not an ISO date-time"),
        (["flags", "export", "-o", str(tmp_path / "f.kml")], "give a .geojson or .csv"),
    ]:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("patrol flags: ") and message in err
