"""The search backend registry: which backend a setting names, and how it is opened.

It sits above the interface (:mod:`.base`) and the backends (:mod:`.sqlite`,
:mod:`.elastic`): the interface knows no backend, and a new backend is one entry here.
"""

from __future__ import annotations

from typing import Callable

from ..config import Settings
from ..errors import ConfigError
from ..states import BackendName
from .analysis import use_dictionary
from .base import SearchBackend


def _sqlite(settings: Settings) -> SearchBackend:
    from .sqlite import SqliteBackend

    return SqliteBackend(settings.archive_dir / "index.sqlite")


def _elasticsearch(settings: Settings) -> SearchBackend:
    # Imported on demand: the client library is slow to import and unused by most runs.
    from .elastic import ElasticBackend

    return ElasticBackend(settings.elastic)


BACKENDS: dict[BackendName, Callable[[Settings], SearchBackend]] = {
    BackendName.SQLITE: _sqlite,  # embedded default, <archive>/index.sqlite
    BackendName.ELASTICSEARCH: _elasticsearch,
}


def open_backend(settings: Settings) -> SearchBackend:
    """The backend ``settings.backend`` names, connected, with the search analysis set up
    from ``settings.search``.

    Raises:
        ConfigError: no backend of that name is registered.
        ArchiveUnavailableError: the backend cannot be reached.
    """
    try:
        factory = BACKENDS[settings.backend]
    except KeyError:
        raise ConfigError(f"backend {settings.backend!r}: use one of {', '.join(sorted(BACKENDS))}") from None
    use_dictionary(settings.search.decompound_dict)
    return factory(settings)


def indexed_ids(settings: Settings) -> set[str]:
    """Every record id in the configured search index.

    Raises:
        AkteError: the backend is unknown or cannot be reached (ConfigError, ArchiveUnavailableError).
    """
    backend = open_backend(settings)
    try:
        return backend.ids()
    finally:
        backend.close()
