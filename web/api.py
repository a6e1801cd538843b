"""The JSON API for the town's specialist applications, with the same scopes as the pages.

``Authorization: Bearer <token>`` from ``akte user token NAME``. The objects are those of the
CLI's ``--json``: a search answers the list ``akte search --json`` prints (total and next
cursor in the ``X-Total-Count`` and ``X-Next-Cursor`` headers), a record what ``akte show
--json`` prints, without the server's file paths (and the audit trail for admins only).
Every call is logged with the token's user.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse

from ..archive.base import SearchQuery
from ..archive.recordfields import record_fields
from ..qa import record_qa
from .access import ScopedArchive
from .deps import Web, user_store, web_of
from .users import Role, User, UserStore

router = APIRouter(prefix="/api", tags=["Archiv"])


def bearer_user(request: Request, users: UserStore = Depends(user_store)) -> User:
    """The enabled user of the request's bearer token; 401 otherwise."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    user = users.user_for_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if user is None:
        raise HTTPException(401)
    return user


ApiUser = Annotated[User, Depends(bearer_user)]


def _archive(web: Web, user: User, request: Request) -> ScopedArchive:
    return ScopedArchive(web.settings, user, "api", request.client.host if request.client else "-", web.qa_queue)
WebApp = Annotated[Web, Depends(web_of)]


@router.get("/search", summary="Suche (wie `akte search --json`)")
def api_search(
    request: Request, web: WebApp, user: ApiUser,
    q: Annotated[str, Query(max_length=500, description="Suchanfrage; leer: neueste Akten")] = "",
    type: Annotated[str | None, Query(description="Nur dieser Dokumenttyp")] = None,
    ref: Annotated[str | None, Query(max_length=100, description="Aktenzeichen, exakt")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    cursor: Annotated[str | None, Query(max_length=500, description="aus X-Next-Cursor")] = None,
) -> JSONResponse:
    """Ranked hits inside the token user's scope."""
    archive = _archive(web, user, request)
    query = SearchQuery(text=q.strip() or None, doc_type=type, reference=ref, limit=limit, cursor=cursor)
    page, _ = archive.search(query)
    archive.log("search", query=q, hits=page.total)
    headers = {"X-Total-Count": str(page.total)}
    if page.cursor:
        headers["X-Next-Cursor"] = page.cursor
    return JSONResponse([asdict(h) for h in page.hits], headers=headers)


@router.get("/records/{record_id}", summary="Eine Akte (wie `akte show --json`)")
def api_record(request: Request, web: WebApp, user: ApiUser, record_id: str) -> dict[str, Any]:
    """One record inside the scope (64 hex digits); 404 for any other id."""
    record = _archive(web, user, request).record(record_id)
    data = record.to_json()
    data["fields"] = record_fields(record).to_json()
    data["qa"] = record_qa(record)
    if user.role is not Role.ADMIN:
        data.pop("audit", None)
    return data


@router.get("/records/{record_id}/pdf", summary="Das Archiv-PDF einer Akte")
def api_pdf(request: Request, web: WebApp, user: ApiUser, record_id: str) -> FileResponse:
    """The archival PDF of a record inside the scope."""
    found = _archive(web, user, request).download(record_id)
    return FileResponse(found.path, media_type=found.media_type, filename=found.filename)
