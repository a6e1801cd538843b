"""``akte audit …``: verify the audit chain, show a record's trail, hand out the head.

Joined to the root app by ``cli.py`` under the name ``audit``; the root group maps errors to
exit codes. Data goes to stdout, findings and summaries to stderr.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from ..archive.audit import Entry, Finding
from ..archive.certificate import check_certificates
from ..archive.seal import adopt_unsealed
from ..archive.signing import generate_key, sign_head
from ..archive.store import ArchiveStore
from ..errors import ConfigError, InputFileError, IntegrityError
from ._common import emit_json, err, out, settings_of

app = typer.Typer(help="The audit chain: verify it, show a record's trail, print its head.",
                  no_args_is_help=True)

_HEAD = re.compile(r"^(\d+):([0-9a-f]{64})$")


def print_findings(findings: list[Finding]) -> None:
    """Every finding on stderr, one line each, naming its record."""
    for finding in findings:
        err.print(f"  [red]{escape(finding.kind)}[/red] {escape(finding.describe().split(': ', 1)[1])}")


def _parse_heads(values: list[str]) -> list[tuple[int, str]]:
    heads = []
    for value in values:
        match = _HEAD.match(value.strip().lower())
        if not match:
            raise ConfigError(f"--head {value!r}: give SEQ:HASH as printed by `akte audit head`")
        heads.append((int(match.group(1)), match.group(2)))
    return heads


@app.command("verify")
def verify(
    ctx: typer.Context,
    head: Annotated[Optional[list[str]], typer.Option("--head", help="A head kept outside the archive (SEQ:HASH); repeatable.")] = None,
    public_key: Annotated[Optional[Path], typer.Option("--public-key", help="The signing public key kept outside the archive (default: audit/signing.pub).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Recompute the whole audit chain (exit 6 on an altered, removed, reordered or cut-off entry)."""
    store = ArchiveStore(settings_of(ctx).archive_dir)
    if public_key is not None and not public_key.is_file():
        raise InputFileError(str(public_key), "no such file")
    report = store.audit.verify(_parse_heads(head or []), public_key)
    released, _ = check_certificates(store.root, report.releases, report.seals)
    report.findings.extend(released)
    if json_out:
        emit_json({"ok": report.ok, "entries": report.entries, "head_seq": report.head_seq,
                   "head_hash": report.head_hash, "findings": [asdict(f) for f in report.findings]})
    err.print(f"{report.entries} audit entries checked, head {report.head_seq}:{report.head_hash}")
    print_findings(report.findings)
    store.audit.append("audit-verify", details={"entries": report.entries, "findings": len(report.findings)})
    if not report.ok:
        raise IntegrityError(f"audit chain broken: {len(report.findings)} finding(s)")
    err.print("[green]audit chain intact[/green]")


def _print_entry(entry: Entry) -> None:
    records = " ".join(r[:12] for r in entry.records)
    details = ", ".join(f"{k}={v}" for k, v in entry.details.items() if k != "manifest_sha256" and v is not None)
    mark = "" if entry.intact else "  [red]ALTERED[/red]"
    out.print(f"{entry.seq:>7}  {entry.at}  {escape(entry.actor)}@{escape(entry.host)}  [bold]{escape(entry.event)}"
              f"[/bold]  {records}  [dim]{escape(details)}[/dim]{mark}")


@app.command("show")
def show(
    ctx: typer.Context,
    record_id: Annotated[Optional[str], typer.Argument(metavar="[ID]", help="A record id or unique prefix; without: the latest entries.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Entries shown without an ID.")] = 50,
    json_out: Annotated[bool, typer.Option("--json", help="Print the entries as JSON.")] = False,
) -> None:
    """A record's audit trail (who did what, when, from where), or the latest entries of the log."""
    store = ArchiveStore(settings_of(ctx).archive_dir)
    if record_id is None:
        entries = store.audit.latest(limit)
    else:
        full = _resolve_any(store, record_id)
        entries = store.audit.entries_for(full)
        store.audit.append("read", (full,), {"what": "audit trail"})
    if json_out:
        emit_json([{**e.to_json(), "intact": e.intact} for e in entries])
        return
    for entry in entries:
        _print_entry(entry)
    if not entries:
        err.print("no audit entries")


def _resolve_any(store: ArchiveStore, prefix: str) -> str:
    """A record id, also for a record whose manifest is gone (its trail says what happened)."""
    value = prefix.strip().lower()
    if re.fullmatch(r"[0-9a-f]{64}", value):
        return value
    return store.resolve(value)


@app.command("head")
def head(
    ctx: typer.Context,
    sign: Annotated[Optional[Path], typer.Option("--sign", help="Sign the head with this Ed25519 private key (kept outside the archive).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the head as JSON.")] = False,
) -> None:
    """Print the current head (SEQ:HASH) to keep outside the archive; it is also noted in audit/heads.jsonl."""
    store = ArchiveStore(settings_of(ctx).archive_dir)
    entry = store.audit.append("head", details={"note": "head handed out", "signed": sign is not None})
    record = {"seq": entry.seq, "hash": entry.hash, "at": entry.at}
    if sign is not None:
        record = sign_head(record, sign)
    store.audit.record_head(record)
    if json_out:
        emit_json(record)
        return
    out.print(f"{entry.seq}:{entry.hash}")
    err.print(f"[dim]keep this line outside the archive (register, mail); check later with "
              f"`akte audit verify --head {entry.seq}:{entry.hash}`[/dim]")


@app.command("adopt")
def adopt(ctx: typer.Context) -> None:
    """Seal the manifests of an archive made before sealing existed (each adoption is an audit entry)."""
    store = ArchiveStore(settings_of(ctx).archive_dir)
    adopted = adopt_unsealed(store)
    err.print(f"{len(adopted)} record(s) sealed as they are now; run `akte verify` for the rest")


@app.command("keygen")
def keygen(
    ctx: typer.Context,
    private_key: Annotated[Path, typer.Argument(metavar="PRIVATE_KEY", help="Where to write the private key (outside the archive).")],
) -> None:
    """Create an Ed25519 key pair for signing heads; the public key goes to audit/signing.pub."""
    store = ArchiveStore(settings_of(ctx).archive_dir)
    print_ = generate_key(private_key, store.root)
    store.audit.append("keygen", details={"key": print_})
    out.print(print_)
    err.print(f"private key: {private_key} (keep it outside the archive); keep the fingerprint above on paper; "
              "sign heads with `akte audit head --sign KEY`")
