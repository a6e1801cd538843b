"""The web archive's users, sessions, API tokens and sign-in failures: one SQLite file.

``<archive>/web/users.sqlite`` holds, per user, the role (clerk, records, admin), the document
types they may see, an Argon2id password hash and a disabled flag. Sessions live here too
(server side, so that signing out, disabling a user or the idle timeout end them at once);
API tokens and session ids are kept only as SHA-256 digests: a copy of the file lets no
one in.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..errors import ArchiveUnavailableError, ConfigError
from ..models import now_iso

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    types TEXT,                -- comma-separated document types; NULL: the role's default
    password_hash TEXT,        -- Argon2id; NULL: no password sign-in (API tokens only)
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    digest TEXT PRIMARY KEY,   -- sha256 of the token
    name TEXT NOT NULL REFERENCES users(name),
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    digest TEXT PRIMARY KEY,   -- sha256 of the session id in the cookie
    name TEXT NOT NULL REFERENCES users(name),
    csrf TEXT NOT NULL,
    last_seen REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS login_failures (key TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures(key, at);
"""
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}\Z")  # \Z: "$" would let a final newline in
_HASHER = PasswordHasher()  # argon2-cffi's defaults: Argon2id, RFC 9106 low-memory profile
# Verified when a name is unknown, so a wrong name costs the same time as a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))
_SESSION_TOUCH_SECONDS = 30  # last_seen is rewritten at most this often


class Role(StrEnum):
    """What a user may do beyond reading their scope."""

    CLERK = "clerk"  # search and read their document types, correct types within them
    RECORDS = "records"  # also unclassified records and originals
    ADMIN = "admin"  # everything, plus the Verwaltung page


@dataclass(frozen=True, slots=True)
class User:
    """One web archive user (never carries the password hash)."""

    name: str
    role: Role
    types: tuple[str, ...] | None  # None: the role's default scope
    disabled: bool
    created_at: str


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser: whose it is and the CSRF token of its forms."""

    user: User
    csrf: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_name(name: str) -> str:
    """A valid user name (lower-case letters, digits, ``. _ -``), or ConfigError."""
    if not _NAME.match(name):
        raise ConfigError(f"user name {name!r}: use 1-64 lower-case letters, digits, '.', '_' or '-'")
    return name


class UserStore:
    """Users, sessions and tokens in ``<archive>/web/users.sqlite`` (one connection per instance)."""

    def __init__(self, archive_dir: Path) -> None:
        self.path = Path(archive_dir) / "web" / "users.sqlite"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One request uses the store at a time, but may pass it between worker threads.
            self.db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(_SCHEMA)
            self.path.chmod(0o600)
        except (OSError, sqlite3.Error) as exc:
            raise ArchiveUnavailableError(f"user store {self.path}: {exc}") from exc

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    # -- users -------------------------------------------------------------------------
    def add(self, name: str, role: Role, types: tuple[str, ...] | None, password: str | None) -> User:
        """Create a user; ConfigError if the name is taken or invalid."""
        check_name(name)
        hashed = _HASHER.hash(password) if password else None
        try:
            with self.db:
                self.db.execute(
                    "INSERT INTO users (name, role, types, password_hash, created_at) VALUES (?,?,?,?,?)",
                    (name, role.value, ",".join(types) if types is not None else None, hashed, now_iso()),
                )
        except sqlite3.IntegrityError:
            raise ConfigError(f"user {name!r} exists already") from None
        return self.get(name)

    def get(self, name: str) -> User:
        """The user of that name; ConfigError if there is none."""
        row = self.db.execute(
            "SELECT name, role, types, disabled, created_at FROM users WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            raise ConfigError(f"no user {name!r}")
        return _user(row)

    def list(self) -> list[User]:
        """Every user, by name."""
        rows = self.db.execute("SELECT name, role, types, disabled, created_at FROM users ORDER BY name")
        return [_user(row) for row in rows]

    def disable(self, name: str) -> None:
        """Lock a user out at once: sessions and API tokens end with it."""
        self.get(name)
        with self.db:
            self.db.execute("UPDATE users SET disabled = 1 WHERE name = ?", (name,))
            self.db.execute("DELETE FROM sessions WHERE name = ?", (name,))
            self.db.execute("DELETE FROM tokens WHERE name = ?", (name,))

    def check_password(self, name: str, password: str) -> User | None:
        """The user if the password is theirs and they are enabled, else None (same time either way)."""
        row = self.db.execute("SELECT password_hash FROM users WHERE name = ?", (name,)).fetchone()
        stored = row[0] if row and row[0] else None
        try:
            _HASHER.verify(stored or _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if stored is None:
            return None
        user = self.get(name)
        return None if user.disabled else user

    # -- API tokens --------------------------------------------------------------------
    def new_token(self, name: str) -> str:
        """A new API token for an enabled user; only its digest is stored."""
        if self.get(name).disabled:
            raise ConfigError(f"user {name!r} is disabled")
        token = "akte_" + secrets.token_urlsafe(32)
        with self.db:
            self.db.execute("INSERT INTO tokens VALUES (?,?,?)", (_digest(token), name, now_iso()))
        return token

    def user_for_token(self, token: str) -> User | None:
        """The enabled user a bearer token belongs to, or None."""
        row = self.db.execute("SELECT name FROM tokens WHERE digest = ?", (_digest(token),)).fetchone()
        if row is None:
            return None
        user = self.get(row[0])
        return None if user.disabled else user

    # -- sessions ----------------------------------------------------------------------
    def new_session(self, user: User) -> str:
        """Start a session; returns the id the cookie carries."""
        session_id = secrets.token_urlsafe(32)
        with self.db:
            self.db.execute(
                "INSERT INTO sessions VALUES (?,?,?,?)",
                (_digest(session_id), user.name, secrets.token_urlsafe(32), time.time()),
            )
        return session_id

    def session(self, session_id: str, idle_seconds: float) -> Session | None:
        """The live session of that id, its idle clock restarted; None if unknown, idle or disabled."""
        digest = _digest(session_id)
        row = self.db.execute("SELECT name, csrf, last_seen FROM sessions WHERE digest = ?", (digest,)).fetchone()
        if row is None:
            return None
        name, csrf, last_seen = row
        now = time.time()
        user = self.get(name)
        if user.disabled or now - last_seen > idle_seconds:
            self.end_session(session_id)
            return None
        if now - last_seen > _SESSION_TOUCH_SECONDS:
            with self.db:
                self.db.execute("UPDATE sessions SET last_seen = ? WHERE digest = ?", (now, digest))
        return Session(user, csrf)

    def end_session(self, session_id: str) -> None:
        """Sign a session out (no error if it is gone already)."""
        with self.db:
            self.db.execute("DELETE FROM sessions WHERE digest = ?", (_digest(session_id),))

    # -- sign-in throttling ------------------------------------------------------------
    def failures(self, keys: tuple[str, ...], window: float) -> int:
        """The most sign-in failures any of ``keys`` (user name, client address) had in the window."""
        since = time.time() - window
        with self.db:
            self.db.execute("DELETE FROM login_failures WHERE at < ?", (since,))
        return max(
            (self.db.execute("SELECT count(*) FROM login_failures WHERE key = ?", (k,)).fetchone()[0] for k in keys),
            default=0,
        )

    def record_failure(self, keys: tuple[str, ...]) -> None:
        """Count one failed sign-in against each key."""
        now = time.time()
        with self.db:
            self.db.executemany("INSERT INTO login_failures VALUES (?,?)", [(k, now) for k in keys])


def _user(row: tuple) -> User:
    name, role, types, disabled, created_at = row
    scope = tuple(t for t in types.split(",")) if types is not None else None
    return User(name, Role(role), scope, bool(disabled), created_at)
