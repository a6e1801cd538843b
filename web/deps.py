"""What the routes of the web archive depend on: the application's :class:`Web`, the user
store of a request, and the signed-in session (FastAPI dependencies).

Kept apart from :mod:`.app`, which builds the application from the routers of :mod:`.pages`
and :mod:`.api`: the routers import these, the application imports the routers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from fastapi import Depends, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from ..config import Settings
from ..qa import QueueCache
from .auth import SESSION_COOKIE, Authenticator, CookieSigner, load_session
from .users import Session, UserStore


class SignInRequired(Exception):
    """Raised by page routes without a live session: the answer is the sign-in page."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


@dataclass(frozen=True, slots=True)
class Web:
    """What every route needs: settings, the sign-in source, the cookie signer, templates, and
    the QA queue cache."""

    settings: Settings
    authenticator: Authenticator
    signer: CookieSigner
    templates: Jinja2Templates
    qa_queue: QueueCache = field(default_factory=QueueCache)  # the QS page's, kept between views

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
