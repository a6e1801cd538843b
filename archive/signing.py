"""Signed audit heads (Ed25519, via ``cryptography``).

The private key lives outside the archive (an administrator's token, a USB stick in a safe);
the public key is stored in ``audit/signing.pub`` and its fingerprint should also be kept on
paper. A head signed with the key cannot be forged by someone who can only write the
archive: rebuilding the chain after a change would leave every signed head unmatched.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import ConfigError
from ..fsio import atomic_write_bytes

PUBLIC = "signing.pub"


def _message(head: dict[str, Any]) -> bytes:
    return f"aktenarchiv-audit-head:{int(head['seq'])}:{head['hash']}:{head['at']}".encode()


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, the first 32 hex digits (to keep on paper)."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


def generate_key(private_path: Path, archive_root: Path) -> str:
    """Create a key pair: the private key at ``private_path`` (outside the archive), the public
    key in ``audit/signing.pub``; returns the fingerprint.

    Raises:
        ConfigError: the private key would lie inside the archive, or exists already.
    """
    private_path = private_path.absolute()
    if private_path.is_relative_to(archive_root.absolute()):
        raise ConfigError(f"{private_path}: the signing key must not be kept inside the archive")
    if private_path.exists():
        raise ConfigError(f"{private_path} exists; refusing to overwrite a signing key")
    key = Ed25519PrivateKey.generate()
    private_path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    private_path.touch(mode=0o600)
    atomic_write_bytes(private_path, pem)
    private_path.chmod(0o600)
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    atomic_write_bytes(archive_root / "audit" / PUBLIC, public)
    return fingerprint(key.public_key())


def sign_head(head: dict[str, Any], private_path: Path) -> dict[str, Any]:
    """The head with ``key`` (fingerprint) and ``signature`` (hex) added."""
    try:
        key = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"{private_path}: not a readable Ed25519 private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{private_path}: not an Ed25519 key")
    return {**head, "key": fingerprint(key.public_key()), "signature": key.sign(_message(head)).hex()}


def load_public_key(path: Path) -> Ed25519PublicKey | None:
    """The public key at ``path``, or None when there is none or it is not an Ed25519 key."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError):
        return None
    return key if isinstance(key, Ed25519PublicKey) else None


def signature_problem(head: dict[str, Any], public_key: Ed25519PublicKey | None) -> str | None:
    """Why a recorded head's signature does not hold, or None when it does (or it has none)."""
    if "signature" not in head:
        return None
    if public_key is None:
        return "the head is signed, but the archive's public key (audit/signing.pub) is missing or unreadable"
    if head.get("key") != fingerprint(public_key):
        return f"signed with key {head.get('key')}, not with the archive's key {fingerprint(public_key)}"
    try:
        public_key.verify(bytes.fromhex(str(head["signature"])), _message(head))
    except (InvalidSignature, ValueError, KeyError):
        return "the signature does not match the head"
    return None
