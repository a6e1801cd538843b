"""``akte release``: a batch goes from ingest through QA sampling to its certificate; tampering shows."""

from __future__ import annotations

import json
import shutil

import pypdfium2
import pytest
from aktenarchiv.archive.store import ArchiveStore
from aktenarchiv.config import load_settings
from aktenarchiv.web.app import create_app
from web_fixtures import PASSWORD, akte, csrf_of, signed_in_client


def _as(monkeypatch, user: str) -> None:
    monkeypatch.setenv("LOGNAME", user)  # getpass.getuser() reads it first: the acting person


def _ingest_batch(cli, make_text_pdf, tmp_path, monkeypatch, name: str, *extra: str) -> list[dict]:
    inbox = tmp_path / name
    for i in range(3):
        make_text_pdf(f"antrag-{name}-{i}.pdf", [f"Bauantrag {i}", "Stadt Musterstadt"], ["Seite zwei"], folder=inbox)
    _as(monkeypatch, "scanner")
    assert cli("ingest", inbox, "--batch", name, *extra).exit_code == 0
    return json.loads(cli("batch", "show", name, "--json").stdout)["records"]


def _sign_all(cli, name: str) -> None:
    for page in json.loads(cli("qa", "sample", name, "--json").stdout):
        result = cli("qa", "signoff", page["record"][:12], str(page["page"]))
        assert result.exit_code == 0, result.output


@pytest.mark.slow
def test_a_batch_from_ingest_through_its_sample_to_the_release_certificate(cli, make_text_pdf, tmp_path,
                                                                            monkeypatch, archive_dir):
    records = _ingest_batch(cli, make_text_pdf, tmp_path, monkeypatch, "s1", "--schutzbedarf", "hoch",
                            "--expect-pages", "6")
    blocked = cli("release", "s1", "--json")
    assert blocked.exit_code == 4
    reasons = json.loads(blocked.stdout)["blockers"]
    sample = json.loads(cli("qa", "sample", "s1", "--json").stdout)
    assert sample and len(reasons) == len(sample)  # the sample alone is open: text PDFs pass QA
    assert all("needs a person other than the scanner (scanner)" in r["reason"] for r in reasons)
    assert "blocked" in blocked.stderr and sample[0]["record"][:12] in blocked.stderr

    _sign_all(cli, "s1")  # the scanner's own look does not count at "hoch"
    assert cli("release", "s1").exit_code == 4
    _as(monkeypatch, "pruefer")
    _sign_all(cli, "s1")
    assert json.loads(cli("qa", "sample", "s1", "--json").stdout) == []
    _as(monkeypatch, "leiterin")
    released = cli("release", "s1", "--json")
    assert released.exit_code == 0, released.output
    certificate = json.loads(released.stdout)["certificate"]
    store = ArchiveStore(archive_dir)
    head_before = store.audit.entries_for(records[0]["id"])[-2]  # the last sign-off before the release entry
    assert certificate["release"]["by"] == "leiterin"
    assert certificate["release"]["audit_head"]["seq"] >= head_before.seq
    assert [d["id"] for d in certificate["documents"]] == [r["id"] for r in records]
    assert all(d["pages"] == 2 and d["schutzbedarf"] == "hoch" and d["operator"] == "scanner"
               for d in certificate["documents"])
    assert certificate["batch"]["pages"] == 6 and certificate["sample"]["signed_by"] == ["pruefer", "scanner"]
    on_disk = json.loads((archive_dir / "releases" / "s1.json").read_text(encoding="utf-8"))
    assert on_disk == certificate
    assert store.read_record(records[0]["id"]).sha256 in [d["sha256"] for d in on_disk["documents"]]
    pdf = pypdfium2.PdfDocument(archive_dir / "releases" / "s1.pdf")
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert "Freigabebescheinigung" in text and "leiterin" in text and records[2]["id"] in text
    release_entry = store.audit.latest(1)[0]
    assert release_entry.event == "release" and release_entry.records == tuple(r["id"] for r in records)

    # Final: no second release, no more QA on its records, no more documents into it.
    again = cli("release", "s1")
    assert again.exit_code == 1 and "was released on" in again.stderr
    assert cli("qa", "signoff", records[0]["id"][:12]).exit_code == 1
    assert cli("qa", "approve", records[0]["id"][:12]).exit_code == 1
    # The same in the web's QS, in German and as a conflict (a view from before the release).
    settings = load_settings(archive_dir, environ={})
    assert akte(settings, "user", "add", "akten", "--role", "records", "--password-stdin",
                input=PASSWORD + "\n").exit_code == 0
    staff = signed_in_client(create_app(settings), "akten")
    csrf = csrf_of(staff.get("/qs").text)
    refused = staff.post(f"/qs/{records[0]['id']}/freigeben", data={"csrf": csrf}, follow_redirects=False)
    assert refused.status_code == 409 and "Qualitätssicherung dieser Akte ist abgeschlossen" in refused.text
    more = tmp_path / "nachzuegler"
    make_text_pdf("spaet.pdf", ["Nachtrag"], folder=more)
    assert cli("ingest", more, "--batch", "s1").exit_code == 1
    assert cli("verify").exit_code == 0 and cli("audit", "verify").exit_code == 0

    # A clerk's change after the release goes through akte: verify names it, audit show has it.
    assert cli("label", records[1]["id"][:12], "bescheid").exit_code == 0
    checked = cli("verify")
    assert checked.exit_code == 0 and f"record {records[1]['id'][:12]} of released batch s1 was changed" in checked.stderr
    events = [e["event"] for e in json.loads(cli("audit", "show", records[1]["id"], "--json").stdout)]
    assert events.index("release") < events.index("label")


@pytest.mark.slow
def test_tampering_with_a_certificate_is_found_by_both_verifies(cli, make_text_pdf, tmp_path, monkeypatch,
                                                                archive_dir):
    _ingest_batch(cli, make_text_pdf, tmp_path, monkeypatch, "s2")  # normal: anyone may sign off
    _sign_all(cli, "s2")
    assert cli("release", "s2").exit_code == 0
    folder, audit = archive_dir / "releases", archive_dir / "audit"
    kept = tmp_path / "kept"
    shutil.copytree(archive_dir, kept)

    def edit_json():
        path = folder / "s2.json"
        path.write_text(path.read_text(encoding="utf-8").replace('"pages": 6', '"pages": 5'), encoding="utf-8")

    def edit_pdf():
        with open(folder / "s2.pdf", "ab") as fh:
            fh.write(b"%")

    def drop_release_line():  # the release entry removed: the certificate is sealed by nothing
        segment = sorted(audit.glob("*.jsonl"))[0]
        lines = segment.read_bytes().splitlines(keepends=True)
        segment.write_bytes(b"".join(line for line in lines if b'"event":"release"' not in line))

    cases = [(edit_json, "releases/s2.json"), (edit_pdf, "releases/s2.pdf"),
             (lambda: (folder / "s2.pdf").unlink(), "releases/s2.pdf"),
             (lambda: shutil.copy(folder / "s2.json", folder / "s3.json"), "releases/s3.json"),
             (drop_release_line, "releases/s2.json")]
    for tamper, named in cases:
        tamper()
        for command in (("verify",), ("audit", "verify")):
            result = cli(*command)
            assert result.exit_code == 6, (named, command, result.output)
            assert named in result.stderr
        shutil.rmtree(archive_dir)
        shutil.copytree(kept, archive_dir)
        assert cli("audit", "verify").exit_code == 0


@pytest.mark.slow
def test_every_blocking_reason_is_listed(cli, make_text_pdf, tmp_path, monkeypatch, archive_dir):
    records = _ingest_batch(cli, make_text_pdf, tmp_path, monkeypatch, "s4", "--expect-pages", "8")
    store = ArchiveStore(archive_dir)
    original = store.path(store.read_record(records[0]["id"]).original_object)
    original.chmod(0o644)
    original.write_bytes(original.read_bytes() + b"\n")
    # A manifest edited to name a file outside the store: never read (/dev/zero never ends), named.
    forged = store.manifest_path(records[1]["id"])
    data = json.loads(forged.read_text(encoding="utf-8"))
    data["original_object"] = "../../../../../../dev/zero"
    forged.chmod(0o644)
    forged.write_text(json.dumps(data), encoding="utf-8")
    result = cli("release", "s4", "--json")
    assert result.exit_code == 6  # a hash failed: an integrity failure, not just "not yet"
    reasons = [b["reason"] for b in json.loads(result.stdout)["blockers"]]
    assert any("the cover sheet says 8 pages, 6 are archived (2 missing" in r for r in reasons)
    assert any("its original" in r and "does not match its hash" in r for r in reasons)
    assert any(r.startswith(f"its original: record {records[1]['id']}") and "leaves the object store" in r
               for r in reasons)
    assert any("sample page" in r for r in reasons)
    assert not (archive_dir / "releases").exists()
    assert cli("release", "gibt-es-nicht").exit_code == 1
