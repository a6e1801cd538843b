"""The web application: :func:`create_app` builds it from the run's settings.

Security for every answer is set here in one place: the headers (CSP ``default-src 'self'``,
no framing, no sniffing, no caching of archive content, no referrer), and the mapping of our
typed errors to HTTP answers, so no traceback ever reaches a browser and a record outside a
user's scope answers exactly like a record that does not exist (404).
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.exceptions import HTTPException

from ..archive.query import MARK_CLOSE, MARK_OPEN
from ..config import Settings
from ..errors import (
    AkteError,
    ArchiveUnavailableError,
    ConfigError,
    IntegrityError,
    QaClosedError,
    RecordNotFoundError,
)
from . import api, pages
from .auth import Authenticator, CookieSigner, LocalAuthenticator, web_secret
from .deps import SignInRequired, Web, web_of

HERE = Path(__file__).parent
log = logging.getLogger(__name__)
_CSP = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
# The framework's API page loads Swagger UI from its CDN; it shows no archive data.
_DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
             "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
             "frame-ancestors 'none'")


def highlight(snippet: str) -> Markup:
    """A snippet with its «marked» words in ``<mark>``, everything else escaped."""
    text = str(escape(snippet))
    return Markup(text.replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>"))


def _query_with(params: dict[str, str], key: str, value: str) -> str:
    """The search's query string with one parameter set (a new filter starts at the first page)."""
    return urlencode({k: v for k, v in {**params, key: value}.items() if v})


def _query_without(params: dict[str, str], key: str) -> str:
    return urlencode({k: v for k, v in params.items() if v and k != key})


def create_app(settings: Settings, authenticator: Authenticator | None = None) -> FastAPI:
    """The web archive for one archive directory and backend."""
    app = FastAPI(title="aktenarchiv", summary="Das Archiv der Verwaltung: Suche, Akten, Prüfung.",
                  docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json")
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters.update(highlight=highlight, urlencode_with=_query_with, urlencode_without=_query_without)
    app.state.web = Web(settings, authenticator or LocalAuthenticator(),
                        CookieSigner(web_secret(settings.archive_dir)), templates)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(pages.router)
    app.include_router(api.router)
    _install_headers(app)
    _install_error_pages(app)
    return app


def _install_headers(app: FastAPI) -> None:
    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        return _secured(request, await call_next(request))


def _secured(request: Request, response: Response) -> Response:
    docs = request.url.path == "/api/docs"
    response.headers["Content-Security-Policy"] = _DOCS_CSP if docs else _CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"  # queries and cursors stay in the archive
    if not request.url.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(request: Request, status: int, message: str) -> Response:
    if _is_api(request):
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    return web_of(request).page(request, "error.html", status=status, message=message)


# Our typed errors → status and German message ({} takes the error's own message). Starlette
# answers an error with the handler of the nearest class in its MRO.
_TYPED_ERRORS = (
    (RecordNotFoundError, 404, "Nicht gefunden."),
    (ConfigError, 400, "Ungültige Anfrage: {}"),
    (ArchiveUnavailableError, 503, "Das Archiv ist gerade nicht erreichbar. Bitte später erneut versuchen."),
    (QaClosedError, 409, "Die Qualitätssicherung dieser Akte ist abgeschlossen: ihr Stapel ist freigegeben."),
    # A damaged manifest or object is no fault of the request: the archive needs `akte verify`.
    (IntegrityError, 500, "Ein Teil des Archivs ist beschädigt (eine Akte, eine Datei oder das Protokoll); der "
                          "Fehler wurde protokolliert. Bitte die Verwaltung informieren."),
    (AkteError, 400, "Anfrage abgelehnt: {}"),
)


def _typed_handler(status: int, message: str):
    async def handle(request: Request, exc: AkteError) -> Response:
        if status >= 500:
            log.error("%s on %s: %s", type(exc).__name__, request.url.path, exc.message)
        return _error(request, status, message.format(exc.message))

    return handle


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, exc: SignInRequired):
        return RedirectResponse(f"/anmelden?weiter={quote(exc.target, safe='')}", status_code=303)

    for error_type, status, message in _TYPED_ERRORS:
        app.add_exception_handler(error_type, _typed_handler(status, message))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        fields = ", ".join(str(e.get("loc", ["?"])[-1]) for e in exc.errors())
        return _error(request, 400, f"Ungültige Angabe: {fields}")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        messages = {401: "Anmeldung erforderlich.", 403: "Nicht erlaubt.", 404: "Nicht gefunden.",
                    405: "Diese Aktion ist hier nicht möglich.", 429: str(exc.detail)}
        return _error(request, exc.status_code, messages.get(exc.status_code, str(exc.detail)))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception):
        log.exception("unexpected error on %s", request.url.path)
        # Answered outside the middleware (Starlette's outermost error handler): headers set here.
        return _secured(request, _error(request, 500, "Ein interner Fehler ist aufgetreten; er wurde protokolliert."))
