"""The web application: :func:`create_app` builds it from the run's settings.

Security for every answer is set here in one place: the headers (CSP ``default-src 'self'``,
no framing, no sniffing, no caching of archive content, no referrer), and the mapping of our
typed errors to HTTP answers, so no traceback ever reaches a browser and a record outside a
user's scope answers exactly like a record that does not exist (404).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import quote, urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.exceptions import HTTPException

from ..archive.query import MARK_CLOSE, MARK_OPEN
from ..config import Settings
from ..errors import AkteError, ArchiveUnavailableError, ConfigError, RecordNotFoundError
from .auth import SESSION_COOKIE, Authenticator, CookieSigner, LocalAuthenticator, load_session, web_secret
from .users import Session, UserStore

HERE = Path(__file__).parent
log = logging.getLogger(__name__)
_CSP = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
# The framework's API page loads Swagger UI from its CDN; it shows no archive data.
_DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
             "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
             "frame-ancestors 'none'")


class SignInRequired(Exception):
    """Raised by page routes without a live session: the answer is the sign-in page."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


@dataclass(frozen=True, slots=True)
class Web:
    """What every route needs: settings, the sign-in source, the cookie signer, templates."""

    settings: Settings
    authenticator: Authenticator
    signer: CookieSigner
    templates: Jinja2Templates

    @property
    def idle_seconds(self) -> float:
        """Seconds of inactivity after which a session ends."""
        return self.settings.web.session_idle_minutes * 60

    def page(self, request: Request, name: str, status: int = 200, session: Session | None = None,
             **context) -> Response:
        """A rendered German page; ``session`` adds the user bar and the CSRF token."""
        context.update(session=session, user=session.user if session else None,
                       csrf=session.csrf if session else context.get("csrf"))
        return self.templates.TemplateResponse(request, name, context, status_code=status)


def web_of(request: Request) -> Web:
    """The application's :class:`Web` (a route dependency)."""
    return request.app.state.web


def user_store(request: Request) -> Iterator[UserStore]:
    """The user store, opened for one request (a route dependency)."""
    users = UserStore(web_of(request).settings.archive_dir)
    try:
        yield users
    finally:
        users.close()


def signed_in(request: Request, users: UserStore = Depends(user_store)) -> Session:
    """The request's live session; otherwise the browser is sent to the sign-in page."""
    web = web_of(request)
    session = load_session(users, web.signer, request.cookies.get(SESSION_COOKIE), web.idle_seconds)
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target if request.method == "GET" else "/")
    return session


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
    from . import api, pages

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
        response = await call_next(request)
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
        return _error(request, 500, "Ein interner Fehler ist aufgetreten; er wurde protokolliert.")
