"""Checksums that a migration source recorded, compared with the bytes that arrived.

paperless-ngx exports carry MD5 sums; other sources may give SHA-256. A mismatch means the
copy was damaged on its way and the item must not be archived as if it were the original.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import QuarantineReason
from ..fsio import file_digest
from ..models import ImportMeta


def verify_checksums(path: Path, sha: str, meta: ImportMeta) -> None:
    """Compare the checksums a migration source recorded with what arrived."""
    for label, expected, target in (("original", meta.checksum, path),
                                    ("archival file", meta.archival_checksum, meta.archival_path)):
        if not expected or target is None:
            continue
        expected = str(expected).lower()
        if len(expected) not in (32, 64) or any(c not in "0123456789abcdef" for c in expected):
            raise QuarantineReason(str(path), f"the source's checksum for the {label} is not MD5 or SHA-256: {expected:.80}")
        algo = "md5" if len(expected) == 32 else "sha256"
        actual = sha if (algo == "sha256" and target == path) else digest(Path(target), algo)
        if actual != expected:
            raise QuarantineReason(
                str(path), f"checksum mismatch for the {label}: source says {algo} {expected}, file has {actual}"
            )


def digest(path: Path, algo: str) -> str:
    """Hex digest of a file; an unreadable file is a reason to quarantine the item."""
    try:
        return file_digest(path, algo)
    except OSError as exc:
        raise QuarantineReason(str(path), f"cannot read {path}: {exc.strerror or exc}") from None
