"""Fixtures several packages' tests share."""

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def camera_cache(request: pytest.FixtureRequest, tmp_path_factory) -> Path:
    """Where the simulated camera keeps the people it cuts from vtest.avi and its ground
    texture: pytest's cache (made once, kept between runs), or a temporary directory when
    the cache is disabled."""
    cache = getattr(request.config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("sim-camera"))
    return tmp_path_factory.mktemp("sim-camera")
