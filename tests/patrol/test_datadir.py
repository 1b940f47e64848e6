from pathlib import Path

import pytest

from patrol.datadir import data_dir, sub_dir


def test_env_var_chooses_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATROL_DATA_DIR", str(tmp_path / "d"))
    assert data_dir() == tmp_path / "d"
    assert sub_dir("audio").is_dir()


def test_xdg_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PATROL_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert data_dir() == tmp_path / "gridpatrol"
