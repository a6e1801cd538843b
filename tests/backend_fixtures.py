"""The ``backend`` fixture: each shared backend test runs on SQLite and on Elasticsearch."""

from __future__ import annotations

from pathlib import Path

import pytest
from aktenarchiv.archive.base import SearchBackend
from aktenarchiv.archive.sqlite import SqliteBackend


@pytest.fixture(params=["sqlite", pytest.param("elasticsearch", marks=pytest.mark.es)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> SearchBackend:
    """An empty backend of each kind."""
    if request.param == "sqlite":
        sqlite = SqliteBackend(tmp_path / "index.sqlite")
        request.addfinalizer(sqlite.close)
        return sqlite
    return request.getfixturevalue("make_es_backend")()
