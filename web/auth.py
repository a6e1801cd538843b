"""Signing in: who someone is (one small interface), sessions in signed cookies, CSRF, throttling.

:class:`Authenticator` is all the web layer asks of a sign-in source; :class:`LocalAuthenticator`
checks the Argon2id hashes of the user store. A directory (LDAP, OIDC) plugs in as another
implementation that answers with a user of the store (roles and scopes stay local).

The session cookie carries a random session id, signed with the archive's web secret
(``<archive>/web/secret``, made on first use, mode 0600); the session itself lives in the
user store, which enforces the idle timeout and ends it when the user is disabled.
"""

from __future__ import annotations

import hmac
import re
import secrets
from pathlib import Path
from typing import Protocol

from itsdangerous import BadSignature, URLSafeSerializer

from ..fsio import atomic_write_bytes
from .users import Session, User, UserStore

_LOCAL_PATH = re.compile(r"^/[A-Za-z0-9/_.~%?&=+-]*$")
SESSION_COOKIE = "akte_session"
LOGIN_COOKIE = "akte_login"  # CSRF token of the sign-in form (there is no session yet)


class Authenticator(Protocol):
    """A source of sign-ins: the user for a name and password, or None."""

    def authenticate(self, users: UserStore, name: str, password: str) -> User | None:
        """Check the credentials; None when they are wrong or the user is disabled."""
        ...


class LocalAuthenticator:
    """Passwords checked against the user store's Argon2id hashes."""

    def authenticate(self, users: UserStore, name: str, password: str) -> User | None:
        """See :class:`Authenticator`."""
        return users.check_password(name, password)


def web_secret(archive_dir: Path) -> bytes:
    """The archive's cookie-signing key, created on first use (readable by the owner only)."""
    path = Path(archive_dir) / "web" / "secret"
    if not path.is_file():
        atomic_write_bytes(path, secrets.token_hex(32).encode(), mode=0o600)
    return path.read_bytes().strip()


class CookieSigner:
    """Signs and checks the values of the web archive's cookies."""

    def __init__(self, secret: bytes) -> None:
        self._serializer = URLSafeSerializer(secret, salt="akte-web")

    def sign(self, value: str) -> str:
        """The cookie value for ``value``."""
        return self._serializer.dumps(value)

    def unsign(self, cookie: str | None) -> str | None:
        """The value inside a cookie, or None if it is missing or forged."""
        if not cookie:
            return None
        try:
            value = self._serializer.loads(cookie)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None


def load_session(users: UserStore, signer: CookieSigner, cookie: str | None, idle_seconds: float) -> Session | None:
    """The live session a cookie names, or None."""
    session_id = signer.unsign(cookie)
    return users.session(session_id, idle_seconds) if session_id else None


def same_token(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of a CSRF token with the one expected."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def throttle_keys(name: str, client: str) -> tuple[str, ...]:
    """The keys sign-in failures are counted under: the user name and the client address."""
    return (f"user:{name}", f"addr:{client}")


def safe_next(target: str | None) -> str:
    """A local path to go to after signing in (never another site).

    Browsers drop tabs and line breaks from URLs and read ``\\`` as ``/``, so anything but
    plain URL characters is refused, not only a leading ``//``.
    """
    if target and _LOCAL_PATH.fullmatch(target) and not target.startswith("//"):
        return target
    return "/"
