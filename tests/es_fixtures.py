"""pytest fixtures for tests against a real Elasticsearch node.

Start one with ``bash scripts/elasticsearch.sh start``; ``AKTE_ES_URL`` points elsewhere.
Without a reachable node these fixtures skip on a developer's machine but **fail** when
``CI=true``: CI always starts a node, so a skip there would hide a broken backend.

Every test gets its own index prefix (``akte-test-<run>-<n>``) and its indices and template
are deleted afterwards, so tests neither see each other's records nor leave any behind.
"""

from __future__ import annotations

import itertools
import os
import uuid
from typing import Callable, Iterator

import pytest
from aktenarchiv.archive.elastic import ElasticBackend
from aktenarchiv.config import ElasticSettings
from ci import unavailable
from elasticsearch import ApiError, Elasticsearch, TransportError

ES_URL = os.environ.get("AKTE_ES_URL", "http://127.0.0.1:9200")


@pytest.fixture(scope="session")
def es_client() -> Iterator[Elasticsearch]:
    """A client for the test node, after checking that the node answers."""
    client = Elasticsearch(ES_URL, request_timeout=30)
    try:
        # The minimal distribution answers GET / with 405; cluster health works everywhere.
        client.cluster.health(wait_for_status="yellow", timeout="20s")
    except (TransportError, ApiError) as exc:
        message = (
            f"no Elasticsearch node at {ES_URL} ({type(exc).__name__}); "
            "start one with: bash scripts/elasticsearch.sh start"
        )
        client.close()
        unavailable(message)
    yield client
    client.close()


@pytest.fixture(scope="session")
def es_run_prefix() -> str:
    """An index prefix unique to this test run."""
    return f"akte-test-{uuid.uuid4().hex[:8]}"


_counter = itertools.count(1)


def drop_prefix(client: Elasticsearch, prefix: str) -> None:
    """Delete the records indices and template of one index prefix.

    The test node sets ``action.destructive_requires_name``, so names are resolved first
    and deleted explicitly rather than by wildcard.
    """
    alias = f"{prefix}-records"
    names = list(client.indices.get(index=f"{alias}-v*", ignore_unavailable=True))
    if names:
        client.indices.delete(index=",".join(names))
    if client.indices.exists_index_template(name=alias):
        client.indices.delete_index_template(name=alias)


@pytest.fixture
def es_settings(es_client: Elasticsearch, es_run_prefix: str) -> Iterator[ElasticSettings]:
    """Settings for a fresh, empty index of this test; cleaned up afterwards."""
    prefix = f"{es_run_prefix}-{next(_counter)}"
    yield ElasticSettings(url=ES_URL, index_prefix=prefix)
    drop_prefix(es_client, prefix)


@pytest.fixture
def make_es_backend(es_settings: ElasticSettings) -> Iterator[Callable[[], ElasticBackend]]:
    """Factory of backends on this test's index (several may be open, like processes)."""
    opened: list[ElasticBackend] = []

    def make() -> ElasticBackend:
        backend = ElasticBackend(es_settings)
        opened.append(backend)
        return backend

    yield make
    for backend in opened:
        backend.close()
