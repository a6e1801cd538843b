"""Release certificates: the proof, kept in the archive, that a batch's paper may be destroyed.

``akte release`` writes two files per batch and seals both in the audit chain (the ``release``
entry holds their SHA-256)::

    releases/<batch>.json    the certificate: batch, documents with pages and hashes, QA and
                             sample summary, who released it, when, the audit head before it
    releases/<batch>.pdf     the same, printable, as PDF/A-2b (with the JSON file's SHA-256 on
                             every page)

:func:`check_certificates` compares the files with their entries for ``akte verify`` and
``akte audit verify``: an edited, removed or unsealed certificate is a finding, and a record
whose manifest changed after its release is a note naming it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ..fsio import atomic_write_bytes, sha256_file
from .audit_entries import Finding

RELEASES = "releases"
RELEASE_EVENT = "release"
FORMAT = "aktenarchiv-release"


def certificate_paths(root: Path, batch: str) -> tuple[Path, Path]:
    """Where the JSON and PDF certificate of ``batch`` live (the name is a checked batch name)."""
    folder = root / RELEASES
    return folder / f"{batch}.json", folder / f"{batch}.pdf"


def certificate_bytes(certificate: dict[str, Any]) -> bytes:
    """The JSON file's bytes (stable: sorted keys, UTF-8)."""
    return json.dumps(certificate, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8") + b"\n"


def write_certificate(root: Path, certificate: dict[str, Any]) -> tuple[str, str]:
    """Write the JSON and PDF certificate (each via a temporary name, fsync, rename).

    Returns:
        The SHA-256 of the JSON file and of the PDF, for the audit entry that seals them.
    """
    data = certificate_bytes(certificate)
    json_sha = hashlib.sha256(data).hexdigest()
    # fpdf2 takes most of a second to import; only a release needs it, not every akte command.
    from .certificate_pdf import render_pdf

    pdf = render_pdf(certificate, json_sha)
    json_path, pdf_path = certificate_paths(root, certificate["batch"]["name"])
    json_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(json_path, data)
    atomic_write_bytes(pdf_path, pdf)
    return json_sha, hashlib.sha256(pdf).hexdigest()


def check_certificates(root: Path, releases: dict[str, dict[str, Any]],
                       seals: dict[str, str]) -> tuple[list[Finding], list[str]]:
    """Compare ``releases/`` with the release entries of the chain.

    Args:
        root: the archive.
        releases: batch name → details of its ``release`` entry (from the chain check).
        seals: record id → manifest hash of its latest seal (from the chain check).

    Returns:
        Findings (a certificate edited, removed, or not sealed by any entry) and notes
        (records changed after their batch was released, through akte and so in the chain).
    """
    findings: list[Finding] = []
    notes: list[str] = []
    known: set[str] = set()
    for batch, details in sorted(releases.items()):
        json_path, pdf_path = certificate_paths(root, batch)
        known.update({json_path.name, pdf_path.name})
        for path, key in ((json_path, "certificate_sha256"), (pdf_path, "pdf_sha256")):
            where = path.relative_to(root).as_posix()
            if not path.is_file():
                findings.append(Finding("missing", where, f"the release certificate of batch {batch} is gone"))
            elif sha256_file(path) != details.get(key):
                findings.append(Finding("altered", where, f"the release certificate of batch {batch} differs from "
                                        "the hash sealed in the audit chain"))
        for record_id, certified in (details.get("manifests") or {}).items():
            if seals.get(record_id) not in (None, certified):
                notes.append(f"record {record_id[:12]} of released batch {batch} was changed after its release "
                             f"(see `akte audit show {record_id[:12]}`)")
    folder = root / RELEASES
    for path in sorted(folder.iterdir()) if folder.is_dir() else ():
        if path.name not in known and not path.name.endswith(".part"):
            findings.append(Finding("unsealed", path.relative_to(root).as_posix(), "no release entry in the audit "
                                    "chain covers this file (written outside akte, or its entry was removed)"))
    return findings, notes
