"""The web archive's *QS* page: records whose scans failed a check, approved or rejected by
records staff exactly as ``akte qa approve|reject`` does, inside each user's scope.

The flagged records are real scans: letters drawn with Pillow at 120 dpi, ingested through the
real pipeline (Tesseract, the scan station's page check) into two batches, then given their
type with ``akte label``. Built once for the module; each test works on its own copy.
"""

from __future__ import annotations

import io
import json
import shutil

import pytest
from aktenarchiv.archive.store import ArchiveStore
from aktenarchiv.config import load_settings
from aktenarchiv.qa import QaStatus, qa_status
from aktenarchiv.web.app import create_app
from fastapi.testclient import TestClient
from PIL import Image
from web_fixtures import WebArchive, add_users, akte, csrf_of, ingest_flagged_scans, signed_in_client

pytestmark = pytest.mark.slow  # two pages through Tesseract


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> WebArchive:
    root = tmp_path_factory.mktemp("qs")
    settings = load_settings(root / "archiv", environ={})
    ids = ingest_flagged_scans(settings, root / "scans")
    return WebArchive(settings, ids, add_users(settings))


@pytest.fixture
def web(built, tmp_path) -> WebArchive:
    copy = tmp_path / "archiv"
    shutil.copytree(built.settings.archive_dir, copy)
    return WebArchive(load_settings(copy, environ={}), built.ids, built.tokens)


@pytest.fixture
def app(web):
    return create_app(web.settings)


def _status(web: WebArchive, key: str) -> QaStatus:
    return qa_status(web.record(key))


def test_records_staff_see_flagged_pages_inside_their_scope(app, web) -> None:
    staff = signed_in_client(app, "akten")  # records staff without personal
    page = staff.get("/qs")
    assert page.status_code == 200 and 'href="/qs"' in page.text
    assert 'id="offen-qs">1 Akte(n)' in page.text
    rid, secret = web.ids["sondernutzung"], web.ids["weber"]
    assert "sondernutzung" in page.text and "Auflösung zu gering" in page.text and "120 dpi" in page.text
    assert f'loading="lazy" width="240" alt="Seite 1 (auffällig)" src="/akte/{rid}/seite/1.png?w=240"' in page.text
    assert secret not in page.text and "weber" not in page.text  # the personnel record stays hidden
    assert secret not in staff.get("/qs", params={"akte": secret}).text
    assert 'id="offen-qs">0 Akte(n)' in staff.get("/qs", params={"charge": "stapel-b"}).text
    for hostile in ("stapel-b\n", "../stapel-b", '"><script>alert(1)</script>', "stapel-b&akte=x", "-b"):
        answer = staff.get("/qs", params={"charge": hostile})
        assert answer.status_code == 400 and "Traceback" not in answer.text, hostile
        assert "<script>alert(1)" not in answer.text
        csrf = csrf_of(staff.get("/qs").text)
        decided = staff.post(f"/qs/{rid}/ablehnen", data={"csrf": csrf, "grund": "zu grob", "charge": hostile},
                             follow_redirects=False)
        assert decided.status_code == 400, hostile
        assert _status(web, "sondernutzung") == QaStatus.REVIEW, hostile  # refused, so nothing was decided
    thumb = staff.get(f"/akte/{rid}/seite/1.png", params={"w": 240})
    assert thumb.status_code == 200 and Image.open(io.BytesIO(thumb.content)).width == 240
    assert list((web.settings.archive_dir / "web" / "pages").rglob("*-1-240.png"))  # cached
    assert f'id="qs-status">zu prüfen (<a href="/qs?akte={rid}">' in staff.get(f"/akte/{rid}").text
    # Admins see every flagged record, and can narrow the queue to one batch.
    admin = signed_in_client(app, "admin")
    assert 'id="offen-qs">2 Akte(n)' in admin.get("/qs").text
    only_b = admin.get("/qs", params={"charge": "stapel-b"}).text
    assert 'id="offen-qs">1 Akte(n)' in only_b and f"/qs/{secret}/freigeben" in only_b
    assert f"/qs/{secret}/freigeben" in admin.get("/qs", params={"akte": secret}).text


def test_clerks_have_no_qs(app, web) -> None:
    for name in ("sach", "hr"):  # hr may read personnel records, but is no records staff
        clerk = signed_in_client(app, name)
        assert clerk.get("/qs").status_code == 404
        home = clerk.get("/")
        assert 'href="/qs"' not in home.text
        for key in ("sondernutzung", "weber"):
            for action, data in (("freigeben", {"notiz": ""}), ("ablehnen", {"grund": "schief"})):
                answer = clerk.post(f"/qs/{web.ids[key]}/{action}", data={**data, "csrf": csrf_of(home.text)})
                assert answer.status_code == 404
            assert _status(web, key) is QaStatus.REVIEW


def test_decisions_are_the_clis_audited_with_the_web_user(app, web) -> None:
    admin = signed_in_client(app, "admin")
    first, second = web.ids["sondernutzung"], web.ids["weber"]
    page = admin.get("/qs")
    assert f'action="/qs/{first}/freigeben"' in page.text  # oldest first
    no_reason = admin.post(f"/qs/{first}/ablehnen", data={"grund": "  ", "csrf": csrf_of(page.text)})
    assert no_reason.status_code == 400 and "Grund" in no_reason.text
    answer = admin.post(f"/qs/{first}/ablehnen", follow_redirects=False,
                        data={"grund": "Seite 1 zu grob, neu scannen", "csrf": csrf_of(page.text)})
    assert answer.status_code == 303 and answer.headers["location"] == "/qs"
    entry = web.record("sondernutzung").audit[-1]
    assert (entry["action"], entry["by"], entry["via"], entry["reason"], entry["findings"]) == (
        "qa-reject", "admin", "web", "Seite 1 zu grob, neu scannen", ["page 1: rescan-dpi"])
    sealed = ArchiveStore(web.settings.archive_dir).audit.entries_for(first)[-1]
    assert (sealed.event, sealed.actor, sealed.host, sealed.details["action"]) == (
        "qa", "admin", "testclient", "qa-reject")
    # The next record follows; the batch chosen stays chosen.
    following = admin.get(answer.headers["location"]).text
    assert 'id="offen-qs">1 Akte(n)' in following and f'action="/qs/{second}/freigeben"' in following
    staff = signed_in_client(app, "akten")
    assert staff.post(f"/qs/{second}/freigeben", data={"csrf": csrf_of(staff.get("/qs").text)}).status_code == 404
    approved = admin.post(f"/qs/{second}/freigeben", follow_redirects=False,
                          data={"notiz": "Lesbar genug", "charge": "stapel-b", "csrf": csrf_of(following)})
    assert approved.headers["location"] == "/qs?charge=stapel-b"
    assert 'id="offen-qs">0 Akte(n)' in admin.get(approved.headers["location"]).text
    # The CLI sees what the web did, and the archive still verifies.
    decided = json.loads(akte(web.settings, "qa", "--all", "--json").stdout)
    assert [(r["id"], r["status"]) for r in decided] == [(first, "rejected"), (second, "approved")]
    assert web.record("weber").audit[-1]["note"] == "Lesbar genug"
    assert 'id="qs-status">abgelehnt' in admin.get(f"/akte/{first}").text
    assert 'id="qs-status">freigegeben' in admin.get(f"/akte/{second}").text
    verified = akte(web.settings, "verify")
    assert verified.exit_code == 0, verified.output


def test_qs_forms_need_the_csrf_token_and_a_session(app, web) -> None:
    rid = web.ids["sondernutzung"]
    staff = signed_in_client(app, "akten")
    for action in ("freigeben", "ablehnen"):
        for data in ({"grund": "schief"}, {"grund": "schief", "csrf": "falsch"}):
            assert staff.post(f"/qs/{rid}/{action}", data=data).status_code == 403
    assert _status(web, "sondernutzung") is QaStatus.REVIEW
    stranger = TestClient(app)
    assert stranger.get("/qs", follow_redirects=False).headers["location"].startswith("/anmelden")
    answer = stranger.post(f"/qs/{rid}/freigeben", data={"csrf": "x"}, follow_redirects=False)
    assert answer.status_code == 303 and _status(web, "sondernutzung") is QaStatus.REVIEW
    for bad in ("../../etc/passwd", rid[:12], rid.upper()):
        assert staff.post(f"/qs/{bad}/freigeben", data={"csrf": csrf_of(staff.get("/qs").text)}).status_code == 404
