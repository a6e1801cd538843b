"""What the Elasticsearch backend keeps on the cluster beside the records (layout: :mod:`.elastic`).

The URL is checked before the client sees it; the index template gives every versioned
index ``<prefix>-records-v<N>`` the mappings of this code; the alias ``<prefix>-records``
points at exactly one version, and a rebuild fills the next version before the alias is
moved to it in one ``_aliases`` call. The functions let the client's errors through:
:class:`.elastic.ElasticBackend` translates them.
"""

from __future__ import annotations

import re
from typing import Any

from elasticsearch import BadRequestError, Elasticsearch

from ..config import redact_url, url_userinfo
from ..errors import ConfigError
from .analysis import ANALYSIS_VERSION
from .elastic_schema import MAPPING_VERSION, index_template


def check_url(url: str) -> None:
    """Refuse a URL whose user info is not percent-encoded before the client sees it.

    ``http://elastic:pa/ss@host:9200`` would otherwise reach host ``elastic`` and send
    ``ss@host:9200`` as a request path: part of the password on the wire and in every log line.

    Raises:
        ConfigError: naming the URL without its credentials.
    """
    userinfo = url_userinfo(url)
    if any(c in userinfo for c in "/?#") or any(c.isspace() for c in url):
        raise ConfigError(
            f"Elasticsearch URL {redact_url(url)!r} is malformed: a password in it must be percent-encoded "
            "(/ as %2F, ? as %3F, # as %23, @ as %40), or give it in AKTE_ES_USERNAME/AKTE_ES_PASSWORD"
        )


def records_alias(prefix: str) -> str:
    """The alias every read and write goes through, for an index prefix."""
    return f"{prefix}-records"


def put_template(client: Elasticsearch, prefix: str) -> None:
    """Write the index template of ``<prefix>-records-v*`` (named as the alias)."""
    template = index_template(prefix)
    client.indices.put_index_template(name=records_alias(prefix), **template)


def create_first_index(client: Elasticsearch, alias: str) -> None:
    """Create version 1 with ``alias`` pointing at it, unless another process just did."""
    name = version_name(alias, 1)
    try:
        client.indices.create(index=name, aliases={alias: {"is_write_index": True}})
    except BadRequestError as exc:
        # Another process created it between our check and this call: fine.
        if exc.error != "resource_already_exists_exception":
            raise


def version_name(alias: str, version: int) -> str:
    """The name of the versioned index ``version`` behind ``alias``."""
    return f"{alias}-v{version}"


def versions(client: Elasticsearch, alias: str) -> dict[str, bool]:
    """Existing versioned indexes of this prefix → whether the alias points at it."""
    found = client.indices.get_alias(index=f"{alias}-v*", ignore_unavailable=True)
    return {name: alias in (info.get("aliases") or {}) for name, info in found.items()}


def _version_of(index_name: str) -> int:
    match = re.search(r"-v(\d+)$", index_name)
    return int(match.group(1)) if match else 0


def built_by_this_code(client: Elasticsearch, index: str) -> bool:
    """True when every index behind ``index`` (a name or the alias) has this code's mappings
    and text analysis."""
    wanted = {"mapping_version": MAPPING_VERSION, "analysis_version": ANALYSIS_VERSION}
    for info in client.indices.get_mapping(index=index).values():
        meta = info["mappings"].get("_meta") or {}
        if any(meta.get(key) != value for key, value in wanted.items()):
            return False
    return True


def rebuild_target(client: Elasticsearch, prefix: str) -> tuple[dict[str, bool], str, bool]:
    """The versioned index a rebuild fills, ready for the bulk load.

    The newest version when the alias does not point at it (left by an interrupted rebuild:
    resumed, or emptied and made anew when older code built it), else a new version one
    above the newest; a new one is created from the template of this code.

    Returns:
        The existing versions (as :func:`versions`), the target's name, and whether the
        rebuild resumes in it.
    """
    alias = records_alias(prefix)
    found = versions(client, alias)
    numbers = {_version_of(n): n for n in found}
    newest = max(numbers) if numbers else 0
    resumed = bool(numbers) and not found[numbers[newest]]
    target = numbers[newest] if resumed else version_name(alias, newest + 1)
    if resumed and not built_by_this_code(client, target):
        # Left by an interrupted run of older code: its mappings are stale, start over.
        client.indices.delete(index=target)
        resumed = False
    if resumed:
        # The interrupted run may have stopped before its closing refresh.
        client.indices.refresh(index=target)
    else:
        put_template(client, prefix)  # new versions get the mappings of this code
        # Nobody searches the new version before the switch: skip periodic refreshes.
        client.indices.create(index=target, settings={"refresh_interval": "-1"})
    return found, target, resumed


def switch_alias(client: Elasticsearch, alias: str, target: str, found: dict[str, bool]) -> tuple[str, ...]:
    """Move ``alias`` to ``target`` in one ``_aliases`` call (removed from every version in
    ``found``, added to the new one), then delete the old versions; returns their names."""
    old = tuple(n for n in found if n != target)
    client.indices.put_settings(index=target, settings={"refresh_interval": None})
    actions: list[dict[str, Any]] = [
        {"remove": {"index": n, "alias": alias}} for n in old if found[n]
    ]
    actions.append({"add": {"index": target, "alias": alias, "is_write_index": True}})
    client.indices.update_aliases(actions=actions)
    if old:
        client.indices.delete(index=",".join(old))
    return old
