"""The German pages: Anmeldung, Suche, Akte, Prüfen, QS, Verwaltung.

Every form carries the session's CSRF token (the sign-in form one of its own cookie), every
read goes through :class:`.access.ScopedArchive`, which checks the scope and logs the read.
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from ..archive.base import SearchQuery
from ..archive.registry import open_backend
from ..archive.store import ArchiveStore
from ..batches import check_name as check_batch_name
from ..errors import ConfigError, RecordNotFoundError
from ..models import ArchiveRecord
from ..qa import checked_pages, flagged_pages, qa_status
from .access import ScopedArchive
from .auth import LOGIN_COOKIE, SESSION_COOKIE, safe_next, same_token, throttle_keys
from .deps import Web, signed_in, user_store, web_of
from .render import WIDTHS, page_png
from .users import Role, Session, UserStore

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
SignedIn = Annotated[Session, Depends(signed_in)]
Users = Annotated[UserStore, Depends(user_store)]
WebApp = Annotated[Web, Depends(web_of)]


def _archive(web: Web, session: Session, request: Request) -> ScopedArchive:
    """The archive as the signed-in user may see it; reads are logged with their address."""
    return ScopedArchive(web.settings, session.user, "web", request.client.host if request.client else "-",
                         web.qa_queue)


def _check_csrf(session: Session, token: str) -> None:
    if not same_token(session.csrf, token):
        raise HTTPException(403)


def _set_cookie(web: Web, response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(name, web.signer.sign(value), max_age=max_age, httponly=True, samesite="strict",
                        secure=web.settings.web.secure_cookies, path="/")


# -- Anmeldung --------------------------------------------------------------------------------
def _login_page(web: Web, request: Request, target: str, status: int = 200, message: str | None = None) -> Response:
    token = secrets.token_urlsafe(24)
    response = web.page(request, "login.html", status=status, csrf=token, weiter=safe_next(target), message=message)
    _set_cookie(web, response, LOGIN_COOKIE, token, max_age=3600)
    return response


@router.get("/anmelden")
def login_form(request: Request, web: WebApp, weiter: str = "/") -> Response:
    """The sign-in form."""
    return _login_page(web, request, weiter)


@router.post("/anmelden")
def login(request: Request, web: WebApp, users: Users, name: Annotated[str, Form(max_length=64)] = "",
          passwort: Annotated[str, Form(max_length=1024)] = "", csrf: Annotated[str, Form()] = "",
          weiter: Annotated[str, Form()] = "/") -> Response:
    """Check the credentials (throttled per name and client address), then start a session."""
    if not same_token(web.signer.unsign(request.cookies.get(LOGIN_COOKIE)), csrf):
        return _login_page(web, request, weiter, 403, "Das Formular ist abgelaufen. Bitte erneut anmelden.")
    name = name.strip().lower()
    keys = throttle_keys(name, request.client.host if request.client else "-")
    limits = web.settings.web
    if users.failures(keys, limits.login_window_seconds) >= limits.login_max_failures:
        return _login_page(web, request, weiter, 429,
                           "Zu viele Fehlversuche. Bitte warten Sie einige Minuten und versuchen Sie es erneut.")
    user = web.authenticator.authenticate(users, name, passwort)
    if user is None:
        users.record_failure(keys)
        return _login_page(web, request, weiter, 401, "Name oder Passwort ist falsch.")
    response = RedirectResponse(safe_next(weiter), status_code=303)
    _set_cookie(web, response, SESSION_COOKIE, users.new_session(user))
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/abmelden")
def logout(request: Request, web: WebApp, users: Users, session: SignedIn,
           csrf: Annotated[str, Form()] = "") -> Response:
    """End the session."""
    _check_csrf(session, csrf)
    session_id = web.signer.unsign(request.cookies.get(SESSION_COOKIE))
    if session_id:
        users.end_session(session_id)
    response = RedirectResponse("/anmelden", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- Suche ------------------------------------------------------------------------------------
def _date(value: str | None, label: str) -> str | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ConfigError(f"{label}: {value!r} ist kein Datum wie 2024-03-05") from None


@router.get("/")
def search_page(request: Request, web: WebApp, session: SignedIn,
                q: Annotated[str, Query(max_length=500)] = "", typ: str = "", jahr: str = "",
                von: str = "", bis: str = "", az: Annotated[str, Query(max_length=100)] = "",
                cursor: Annotated[str, Query(max_length=500)] = "") -> Response:
    """Suche: query box, facets with counts, document-date range, Aktenzeichen, ranked hits."""
    if jahr and not (len(jahr) == 4 and jahr.isascii() and jahr.isdigit()):
        raise ConfigError(f"Jahr {jahr!r}")
    archive = _archive(web, session, request)
    query = SearchQuery(
        text=q.strip() or None, doc_type=typ or None, reference=az.strip() or None,
        date_from=f"{jahr}-01-01" if jahr else None, date_to=f"{jahr}-12-31" if jahr else None,
        doc_date_from=_date(von, "von"), doc_date_to=_date(bis, "bis"), limit=PAGE_SIZE, cursor=cursor or None,
    )
    page, counts = archive.search(query, with_counts=True)
    archive.log("search", query=q, hits=page.total)
    params = {"q": q, "typ": typ, "jahr": jahr, "von": von, "bis": bis, "az": az}
    return web.page(request, "search.html", session=session, page=page, counts=counts, params=params,
                    listing=query.text is None)


# -- Akte -------------------------------------------------------------------------------------
def _transfer_note(record: ArchiveRecord) -> list[tuple[str, str]]:
    # Fields a migration or the scan station brought along (Transfervermerk, QA state).
    return [(k, v) for k, v in record.extra]


@router.get("/akte/{record_id}")
def record_page(request: Request, web: WebApp, session: SignedIn, record_id: str) -> Response:
    """Akte: page images beside their text, fields, type and confidence, downloads."""
    archive = _archive(web, session, request)
    record = archive.record(record_id)
    trail = archive.trail(record_id) if session.user.role is Role.ADMIN else []
    return web.page(request, "record.html", session=session, record=record, cls=record.classification,
                    types=archive.assignable_types(), extra=_transfer_note(record),
                    may_original=session.user.role is not Role.CLERK, trail=trail,
                    qa=qa_status(record).value if checked_pages(record) else None)


@router.get("/akte/{record_id}/seite/{number}.png")
def page_image(request: Request, web: WebApp, session: SignedIn, record_id: str, number: int,
               w: int = WIDTHS[-1]) -> Response:
    """One page of the archival PDF as PNG (rendered once, then cached)."""
    archive = _archive(web, session, request)
    record, pdf = archive.archival_pdf(record_id, number)
    return FileResponse(page_png(web.settings.archive_dir, record, pdf, number, w), media_type="image/png")


def _file(archive: ScopedArchive, record_id: str, original: bool) -> Response:
    found = archive.download(record_id, original=original)
    return FileResponse(found.path, media_type=found.media_type, filename=found.filename)


@router.get("/akte/{record_id}/pdf")
def download(request: Request, web: WebApp, session: SignedIn, record_id: str) -> Response:
    """The archival PDF."""
    return _file(_archive(web, session, request), record_id, original=False)


@router.get("/akte/{record_id}/original")
def download_original(request: Request, web: WebApp, session: SignedIn, record_id: str) -> Response:
    """The byte-exact original (records staff and admins)."""
    return _file(_archive(web, session, request), record_id, original=True)


@router.post("/akte/{record_id}/typ")
def set_type(request: Request, web: WebApp, session: SignedIn, record_id: str, typ: Annotated[str, Form()],
             csrf: Annotated[str, Form()] = "", weiter: Annotated[str, Form()] = "") -> Response:
    """Confirm or correct a record's type (as ``akte label``; audited with the user's name)."""
    _check_csrf(session, csrf)
    _archive(web, session, request).label(record_id, typ)
    target = "/pruefen" if weiter == "pruefen" else f"/akte/{record_id}"
    return RedirectResponse(target, status_code=303)


# -- Prüfen -----------------------------------------------------------------------------------
@router.get("/pruefen")
def review_page(request: Request, web: WebApp, session: SignedIn) -> Response:
    """Records the classifier was unsure about; the first one is open for a decision."""
    archive = _archive(web, session, request)
    queue = archive.review_queue()
    current = archive.record(queue.hits[0].id, "review") if queue.hits else None
    suggested = current.classification.suggested_type if current is not None else None
    return web.page(request, "review.html", session=session, queue=queue, current=current,
                    suggested=suggested, types=archive.assignable_types())


# -- QS (quality control of scans) ------------------------------------------------------------
# The scan station's issue names (manifests, `akte qa`) in the words of the QS page.
ISSUES = {
    "rescan-dpi": "Auflösung zu gering – neu scannen", "low-dpi": "Auflösung niedrig",
    "low-confidence": "Texterkennung unsicher", "orientation-uncertain": "Ausrichtung unsicher",
    "blank": "leer", "skewed": "schief eingezogen", "dark-page": "zu dunkel", "dark-border": "dunkler Rand",
    "text-at-edge": "Text am Rand (abgeschnitten?)",
}


def _qs_target(charge: str) -> str:
    # ``charge`` is checked (_charge) before anything is decided.
    return "/qs" + (f"?{urlencode({'charge': charge})}" if charge else "")


def _charge(value: str) -> str:
    """The batch (Charge) a QS view is narrowed to: a valid batch name or none (ConfigError: 400)."""
    return check_batch_name(value) if value else ""


@router.get("/qs")
def qa_page(request: Request, web: WebApp, session: SignedIn, charge: Annotated[str, Query(max_length=200)] = "",
            akte: str = "") -> Response:
    """QS: records whose scans failed a check, thumbnails of their flagged pages (records staff, admins)."""
    charge = _charge(charge)
    archive = _archive(web, session, request)
    everything = archive.qa_queue()
    queue = [e for e in everything if e.record.batch == charge] if charge else everything
    current = next((e for e in queue if e.record.id == akte), queue[0] if queue else None)
    if current is not None:
        archive.log("qa-view", current.record.id)
    charges = sorted({e.record.batch for e in everything if e.record.batch})
    return web.page(request, "qs.html", session=session, queue=queue, current=current, charge=charge,
                    charges=charges, flagged=flagged_pages(current.record) if current else (), flagged_of=flagged_pages,
                    issues=ISSUES)


@router.post("/qs/{record_id}/freigeben")
def qa_approve(request: Request, web: WebApp, session: SignedIn, record_id: str,
               notiz: Annotated[str, Form(max_length=2000)] = "", csrf: Annotated[str, Form()] = "",
               charge: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Approve a record's scans as they are (as ``akte qa approve``; audited with the user's name)."""
    _check_csrf(session, csrf)
    charge = _charge(charge)  # a bad one refused before the decision is stored, not after
    _archive(web, session, request).qa_decide(record_id, True, notiz.strip() or None)
    return RedirectResponse(_qs_target(charge), status_code=303)


@router.post("/qs/{record_id}/ablehnen")
def qa_reject(request: Request, web: WebApp, session: SignedIn, record_id: str,
              grund: Annotated[str, Form(max_length=2000)] = "", csrf: Annotated[str, Form()] = "",
              charge: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Reject a record's scans: a rescan is needed (as ``akte qa reject``; the reason is required)."""
    _check_csrf(session, csrf)
    charge = _charge(charge)  # a bad one refused before the decision is stored, not after
    _archive(web, session, request).qa_decide(record_id, False, grund)
    return RedirectResponse(_qs_target(charge), status_code=303)


# -- Verwaltung -------------------------------------------------------------------------------
def _admin(session: Session) -> None:
    if session.user.role is not Role.ADMIN:
        raise RecordNotFoundError("no such page")


@router.get("/verwaltung")
def admin_page(request: Request, web: WebApp, session: SignedIn, users: Users) -> Response:
    """Users and archive status (admins only)."""
    _admin(session)
    store = ArchiveStore(web.settings.archive_dir)
    stored = sum(1 for _ in store.record_ids())
    backend = open_backend(web.settings)
    try:
        indexed = backend.search(SearchQuery(limit=1)).total
    finally:
        backend.close()
    status = {"records": stored, "indexed": indexed, "backend": web.settings.backend,
              "archive": str(web.settings.archive_dir)}
    return web.page(request, "admin.html", session=session, users=users.list(), archive_status=status)


@router.post("/verwaltung/benutzer/{name}/sperren")
def disable_user(web: WebApp, session: SignedIn, users: Users, name: str,
                 csrf: Annotated[str, Form()] = "") -> Response:
    """Disable a user: their sessions and tokens end at once."""
    _admin(session)
    _check_csrf(session, csrf)
    users.disable(name)
    return RedirectResponse("/verwaltung", status_code=303)
