"""The clerks' web archive over HTTP: every route and role, need-to-know, CSRF, sessions, the API.

A real archive (born-digital PDFs in the store, a real SQLite index, users made with the real
``akte user`` commands) behind the real application, driven through FastAPI's TestClient.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import replace

import pytest
from aktenarchiv.archive.base import SearchQuery
from aktenarchiv.archive.registry import open_backend
from aktenarchiv.archive.store import ArchiveStore
from aktenarchiv.config import load_settings
from aktenarchiv.web.app import create_app
from aktenarchiv.web.readlog import read_entries
from drawn_pages import write_text_pdf
from fastapi.testclient import TestClient
from web_fixtures import PASSWORD, akte, build_archive, csrf_of, sign_in, signed_in_client

pytest_plugins = ("es_fixtures",)
ROUTES = ("/akte/{id}", "/akte/{id}/seite/1.png", "/akte/{id}/pdf", "/akte/{id}/original")


@pytest.fixture(scope="module")
def web_template(tmp_path_factory):
    """The web archive, built once per module (its users' Argon2 hashes are slow on purpose)."""
    root = tmp_path_factory.mktemp("web")
    return build_archive(load_settings(root / "archiv", environ={}),
                         lambda name, *pages, folder: write_text_pdf(folder / name, *pages), root / "pdfs")


@pytest.fixture
def web(web_template, settings):
    """A copy of the template archive of its own for each test (tests change users and records)."""
    shutil.copytree(web_template.settings.archive_dir, settings.archive_dir)
    return replace(web_template, settings=settings)


@pytest.fixture
def app(web):
    return create_app(web.settings)


def _api(app, web, name: str, path: str, **params):
    client = TestClient(app, raise_server_exceptions=False)
    return client.get(path, params=params, headers={"Authorization": f"Bearer {web.tokens[name]}"})


def test_pages_need_a_session(app, web) -> None:
    client = TestClient(app)
    for path in ("/", "/pruefen", "/verwaltung", *(r.format(id=web.ids["bauantrag"]) for r in ROUTES)):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/anmelden?weiter=")
    assert client.get("/api/search").status_code == 401


def test_sign_in_goes_only_to_local_pages(app) -> None:
    client = TestClient(app)
    form = client.get("/anmelden?weiter=//evil.example/x")
    assert 'name="weiter" value="/"' in form.text
    answer = client.post("/anmelden", follow_redirects=False, data={
        "name": "sach", "passwort": PASSWORD, "csrf": csrf_of(form.text), "weiter": "https://evil.example/"})
    assert answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"]
    for target in ("/\t/evil.example", "/\\evil.example", "/ok\n", "/?q=M%C3%BCller"):
        form = client.get("/anmelden")
        answer = client.post("/anmelden", follow_redirects=False, data={
            "name": "sach", "passwort": PASSWORD, "csrf": csrf_of(form.text), "weiter": target})
        assert answer.headers["location"] == (target if target.startswith("/?") else "/")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")


def test_search_page_with_facets_and_highlights(app, web) -> None:
    client = signed_in_client(app, "sach")
    page = client.get("/", params={"q": "Müller"})
    assert page.status_code == 200
    assert "Bauantrag Müller" in page.text and "<mark>Müllerstraße</mark>" in page.text
    assert 'id="anzahl">1 Treffer' in page.text
    by_ref = client.get("/", params={"az": "63.2-4711/24"})
    assert "Bauantrag Müller" in by_ref.text and "Gebührenbescheid Schröder" in by_ref.text
    dated = client.get("/", params={"az": "63.2-4711/24", "von": "2024-01-01"})
    assert "Gebührenbescheid Schröder" not in dated.text and "Bauantrag Müller" in dated.text
    by_year = client.get("/", params={"jahr": "2023"})
    assert "Gebührenbescheid Schröder" in by_year.text and "Bauantrag Müller" not in by_year.text
    assert client.get("/", params={"von": "morgen"}).status_code == 400
    assert client.get("/", params={"jahr": "20x4"}).status_code == 400
    for year in ("²²²²", "٢٠٢٣", "２０２３"):  # digits to isdigit(), no year to int() or a date
        assert client.get("/", params={"jahr": year}).status_code == 400, year


def test_clerk_without_personal_cannot_reach_a_personnel_record_by_any_url(app, web) -> None:
    client = signed_in_client(app, "sach")
    secret = web.ids["personal"]
    # Not found, not counted, not in a facet, not in a listing, not on any later page.
    for params in ({"q": "Müller"}, {"q": "Personalakte"}, {"q": "Gehaltsabrechnung"}, {"typ": "personal"},
                   {}, {"q": "Müller", "typ": "personal"}, {"jahr": "2024"}, {"az": "11.2-0007/24"}):
        page = client.get("/", params=params)
        assert page.status_code == 200
        assert page.text.count(secret) == 0, params
        assert "Personalakte Müller" not in page.text and ">personal<" not in page.text, params
    for cursor in ("0", "1", "2", "3", "-1"):
        assert secret not in client.get("/", params={"cursor": cursor}).text
    assert 'id="anzahl">2 Akten' in client.get("/").text  # antrag, bescheid (no personal, no unclassified)
    missing = "0" * 64
    for route in ROUTES:
        hidden = client.get(route.format(id=secret))
        absent = client.get(route.format(id=missing))
        assert hidden.status_code == absent.status_code == 404
        assert hidden.text == absent.text  # indistinguishable from a record that does not exist
    relabel = client.post(f"/akte/{secret}/typ", data={"typ": "antrag", "csrf": csrf_of(client.get("/").text)})
    assert relabel.status_code == 404 and web.record("personal").doc_type == "personal"
    # The API, with the same user's token.
    found = _api(app, web, "sach", "/api/search", q="Müller OR Personalakte OR Gehalt", limit=100)
    assert [h["id"] for h in found.json()] == [web.ids["bauantrag"]] and found.headers["x-total-count"] == "1"
    for path in (f"/api/records/{secret}", f"/api/records/{secret}/pdf"):
        assert _api(app, web, "sach", path).status_code == 404
    assert _api(app, web, "sach", "/api/search", type="personal").json() == []
    # Someone who has the type sees it; admins see everything.
    hr = signed_in_client(app, "hr")
    assert "Personalakte Müller" in hr.get("/", params={"q": "Müller"}).text
    assert hr.get(f"/akte/{secret}").status_code == 200
    assert hr.get(f"/akte/{web.ids['bauantrag']}").status_code == 404
    assert signed_in_client(app, "admin").get(f"/akte/{secret}/pdf").status_code == 200


def test_unclassified_records_are_for_records_staff_and_admins(app, web) -> None:
    loose = web.ids["offen"]
    assert signed_in_client(app, "sach").get(f"/akte/{loose}").status_code == 404
    for name in ("akten", "admin"):
        client = signed_in_client(app, name)
        assert client.get(f"/akte/{loose}").status_code == 200
        assert "nicht zugeordnet" in client.get("/").text


def test_a_damaged_manifest_is_the_archives_fault_not_the_requests(app, web, caplog) -> None:
    rid = web.ids["bauantrag"]
    manifest = ArchiveStore(web.settings.archive_dir).manifest_path(rid)
    manifest.chmod(0o644)
    manifest.write_text('{"id": "kaputt"', encoding="utf-8")
    client = signed_in_client(app, "admin")
    for path in (f"/akte/{rid}", f"/api/records/{rid}"):
        answer = client.get(path, headers={"Authorization": f"Bearer {web.tokens['admin']}"})
        assert answer.status_code == 500, (path, answer.status_code)  # was 400: "request refused"
        assert "beschädigt" in answer.text and "records/" not in answer.text and "Traceback" not in answer.text
    assert any("BrokenManifestError" in r.getMessage() and rid in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("field", ["original_object", "archival_object"])
def test_a_manifest_never_sends_the_browser_a_file_outside_the_store(app, web, field) -> None:
    rid = web.ids["bauantrag"]
    manifest = ArchiveStore(web.settings.archive_dir).manifest_path(rid)
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data[field] = "../../../../../../../../etc/passwd"  # a manifest edited behind the archive's back
    manifest.chmod(0o644)
    manifest.write_text(json.dumps(data), encoding="utf-8")
    client = signed_in_client(app, "admin")
    for path in (f"/akte/{rid}/original", f"/akte/{rid}/pdf", f"/akte/{rid}/seite/1.png", f"/api/records/{rid}/pdf"):
        answer = client.get(path, headers={"Authorization": f"Bearer {web.tokens['admin']}"})
        assert b"root:" not in answer.content, path
        # The original of a record whose archival path was forged is still its own (a born-digital PDF).
        served = field == "archival_object" and path.endswith("/original")
        assert answer.status_code == (200 if served else 500), (path, answer.status_code)


def test_record_page_image_and_downloads(app, web) -> None:
    rid = web.ids["bauantrag"]
    clerk = signed_in_client(app, "sach")
    page = clerk.get(f"/akte/{rid}")
    assert page.status_code == 200
    assert "Müllerstraße 12" in page.text and "63.2-4711/24" in page.text and 'loading="lazy"' in page.text
    assert f"/akte/{rid}/original" not in page.text  # clerks get no original
    assert "qs-status" not in page.text  # no scanned pages: no scan quality to show
    image = clerk.get(f"/akte/{rid}/seite/2.png")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    cached = list((web.settings.archive_dir / "web" / "pages").rglob(f"{rid}-2-1000.png"))
    assert len(cached) == 1 and cached[0].read_bytes() == image.content
    assert clerk.get(f"/akte/{rid}/seite/2.png", params={"w": 240}).content.startswith(b"\x89PNG")
    assert clerk.get(f"/akte/{rid}/seite/2.png", params={"w": 5000}).status_code == 404
    assert clerk.get(f"/akte/{rid}/seite/3.png").status_code == 404
    assert clerk.get(f"/akte/{rid}/seite/0.png").status_code == 404
    original = (web.settings.archive_dir / web.record("bauantrag").original_object).read_bytes()
    pdf = clerk.get(f"/akte/{rid}/pdf")
    assert pdf.status_code == 200 and pdf.content == original and "attachment" in pdf.headers["content-disposition"]
    assert clerk.get(f"/akte/{rid}/original").status_code == 404
    assert signed_in_client(app, "akten").get(f"/akte/{rid}/original").content == original
    for bad in ("../../etc/passwd", rid[:12], rid.upper(), rid + "0", "%2e%2e"):
        assert clerk.get(f"/akte/{bad}").status_code == 404


def test_every_read_is_logged_with_the_user(app, web) -> None:
    rid = web.ids["bauantrag"]
    client = signed_in_client(app, "sach")
    client.get(f"/akte/{rid}")
    client.get(f"/akte/{rid}/seite/1.png")
    client.get(f"/akte/{rid}/pdf")
    _api(app, web, "hr", f"/api/records/{web.ids['personal']}")
    _api(app, web, "admin", "/api/search", q="Müller")
    log = [(e.actor, e.details["channel"], e.details["action"], e.records[0] if e.records else None)
           for e in read_entries(web.settings.archive_dir)]
    assert all(e.host == "testclient" for e in read_entries(web.settings.archive_dir))
    assert ("sach", "web", "view", rid) in log
    assert ("sach", "web", "page-image", rid) in log
    assert ("sach", "web", "download", rid) in log
    assert ("hr", "api", "view", web.ids["personal"]) in log
    assert ("admin", "api", "search", None) in log
    assert not any(e[3] == web.ids["personal"] and e[0] == "sach" for e in log)  # refused reads leave no read
    admin = signed_in_client(app, "admin")
    trail = admin.get(f"/akte/{rid}").text
    assert "read (download) · sach@testclient" in trail and "sealed" in trail
    assert "Protokoll der Akte" not in client.get(f"/akte/{rid}").text  # the trail is for admins
    # Users, sessions, cookie key and image cache sit where the archive's layout expects them.
    verified = akte(web.settings, "verify")
    assert verified.exit_code == 0, verified.output


def test_forms_need_the_csrf_token(app, web) -> None:
    rid = web.ids["bauantrag"]
    client = signed_in_client(app, "sach")
    for data in ({"typ": "bescheid"}, {"typ": "bescheid", "csrf": "falsch"}):
        assert client.post(f"/akte/{rid}/typ", data=data).status_code == 403
    assert web.record("bauantrag").doc_type == "antrag"
    assert client.post("/abmelden", data={"csrf": "falsch"}).status_code == 403
    assert client.get("/").status_code == 200  # still signed in
    # The sign-in form has its own token, bound to a cookie.
    stranger = TestClient(app)
    answer = stranger.post("/anmelden", data={"name": "sach", "passwort": PASSWORD, "csrf": "x"},
                           follow_redirects=False)
    assert answer.status_code == 403 and "akte_session" not in answer.headers.get("set-cookie", "")


def test_sign_out_and_idle_timeout_end_the_session(app, web) -> None:
    client = signed_in_client(app, "sach")
    home = client.get("/")
    assert client.post("/abmelden", data={"csrf": csrf_of(home.text)}, follow_redirects=False).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303
    idle = signed_in_client(app, "sach")
    limit = web.settings.web.session_idle_minutes * 60
    with sqlite3.connect(web.settings.archive_dir / "web" / "users.sqlite") as db:
        db.execute("UPDATE sessions SET last_seen = last_seen - ?", (limit + 5,))
    answer = idle.get(f"/akte/{web.ids['bauantrag']}", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/anmelden")
    forged = TestClient(app, cookies={"akte_session": "ein.gefälschter.wert".encode().hex()})
    assert forged.get("/", follow_redirects=False).status_code == 303


def test_a_disabled_user_is_locked_out_at_once(app, web) -> None:
    client = signed_in_client(app, "sach")
    assert client.get("/").status_code == 200
    assert akte(web.settings, "user", "disable", "sach").exit_code == 0
    assert client.get("/", follow_redirects=False).status_code == 303
    assert _api(app, web, "sach", "/api/search").status_code == 401
    assert sign_in(TestClient(app), "sach").status_code == 401
    listed = json.loads(akte(web.settings, "user", "list", "--json").stdout)
    assert {u["name"]: u["disabled"] for u in listed}["sach"] is True


def test_sign_in_is_throttled(app, web) -> None:
    client = TestClient(app)
    for _ in range(web.settings.web.login_max_failures):
        assert sign_in(client, "akten", "falsch-falsch").status_code == 401
    assert sign_in(client, "akten").status_code == 429  # even the right password waits now
    assert sign_in(client, "nobody", "x").status_code == 429  # the same address


def test_passwords_are_kept_as_argon2id_hashes_of_rfc_9106s_profile(tmp_path, product_password_hashes) -> None:
    """The other tests hash with argon2's cheapest parameters; the product uses RFC 9106's low-memory profile."""
    settings = load_settings(tmp_path / "archiv", environ={})
    assert akte(settings, "user", "add", "neu", "--role", "clerk", "--password-stdin",
                input="ein-langes-passwort\n").exit_code == 0
    db = sqlite3.connect(settings.archive_dir / "web" / "users.sqlite")
    [(stored,)] = db.execute("SELECT password_hash FROM users WHERE name = 'neu'").fetchall()
    db.close()
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$") and "ein-langes-passwort" not in stored
    app = create_app(settings)
    assert sign_in(TestClient(app), "neu", "ein-langes-passwort").status_code == 303
    assert sign_in(TestClient(app), "neu", "falsches-passwort").status_code == 401


def test_security_headers(app, web) -> None:
    client = signed_in_client(app, "sach")
    for path in ("/", f"/akte/{web.ids['bauantrag']}", "/anmelden", "/api/search", "/akte/xyz"):
        headers = client.get(path).headers
        assert headers["content-security-policy"].startswith("default-src 'self'")
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
        assert headers["cache-control"] == "no-store"
    echoed = client.get("/", params={"q": 'Müller "><script>alert(1)</script>'}).text
    assert "<script>alert" not in echoed and "&lt;script&gt;alert(1)" in echoed


def test_review_confirms_or_corrects_the_type_audited(app, web) -> None:
    client = signed_in_client(app, "akten")
    queue = client.get("/pruefen")
    assert 'id="offen">2 Akte(n)' in queue.text and 'id="vorschlag">korrespondenz' in queue.text
    current = web.ids["offen"]  # newest first
    answer = client.post(f"/akte/{current}/typ", data={"typ": "korrespondenz", "weiter": "pruefen",
                                                       "csrf": csrf_of(queue.text)}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/pruefen"
    record = web.record("offen")
    assert (record.doc_type, record.classification.needs_review, record.classification.method) == (
        "korrespondenz", False, "manual")
    entry = record.audit[-1]
    assert (entry["action"], entry["by"], entry["via"], entry["from_type"], entry["to_type"]) == (
        "label", "akten", "web", None, "korrespondenz")
    sealed = ArchiveStore(web.settings.archive_dir).audit.entries_for(current)[-1]
    assert (sealed.event, sealed.actor, sealed.host, sealed.details["to_type"]) == (
        "label", "akten", "testclient", "korrespondenz")
    assert 'id="offen">1 Akte(n)' in client.get("/pruefen").text
    backend = open_backend(web.settings)
    try:
        assert backend.search(SearchQuery(doc_type="korrespondenz")).hits[0].id == current
    finally:
        backend.close()
    # A clerk's queue holds only records inside their scope; a type outside it cannot be set.
    clerk = signed_in_client(app, "sach")
    assert 'id="offen">1 Akte(n)' in clerk.get("/pruefen").text
    refused = clerk.post(f"/akte/{web.ids['bescheid']}/typ", data={"typ": "personal",
                                                                    "csrf": csrf_of(clerk.get("/").text)})
    assert refused.status_code == 400 and web.record("bescheid").doc_type == "bescheid"


def test_admin_page_and_disabling_from_it(app, web) -> None:
    assert signed_in_client(app, "akten").get("/verwaltung").status_code == 404
    admin = signed_in_client(app, "admin")
    page = admin.get("/verwaltung")
    assert page.status_code == 200 and 'id="akten">4<' in page.text and "hr" in page.text
    victim = signed_in_client(app, "hr")
    assert admin.post("/verwaltung/benutzer/hr/sperren", data={"csrf": csrf_of(page.text)}).status_code == 200
    assert victim.get("/", follow_redirects=False).status_code == 303
    assert "gesperrt" in admin.get("/verwaltung").text


def test_api_answers_like_the_cli(app, web) -> None:
    cli_hits = akte(web.settings, "search", "Müller", "--json")
    assert cli_hits.exit_code == 0
    api_hits = _api(app, web, "admin", "/api/search", q="Müller")
    assert api_hits.status_code == 200 and api_hits.json() == json.loads(cli_hits.stdout)
    rid = web.ids["bauantrag"]
    shown = json.loads(akte(web.settings, "show", rid, "--json").stdout)
    for key in ("original_path", "archival_path"):
        shown.pop(key)
    assert _api(app, web, "admin", f"/api/records/{rid}").json() == shown
    clerk_view = _api(app, web, "sach", f"/api/records/{rid}").json()
    assert "audit" not in clerk_view and clerk_view["title"] == "Bauantrag Müller"
    pdf = _api(app, web, "sach", f"/api/records/{rid}/pdf")
    assert pdf.content.startswith(b"%PDF-") and pdf.headers["content-type"] == "application/pdf"
    paged = _api(app, web, "admin", "/api/search", limit=1)
    assert paged.headers["x-total-count"] == "4" and paged.headers["x-next-cursor"] == "1"
    assert _api(app, web, "admin", "/api/search", cursor="abc").status_code == 400
    assert _api(app, web, "admin", "/api/search", limit=1000).status_code == 400
    assert _api(app, web, "admin", "/api/records/..%2F..%2Fusers").status_code == 404
    bad = TestClient(app).get("/api/search", headers={"Authorization": "Bearer akte_falsch"})
    assert bad.status_code == 401 and bad.headers["www-authenticate"] == "Bearer"
    assert TestClient(app).get("/api/openapi.json").json()["paths"].keys() >= {"/api/search", "/api/records/{record_id}"}


def test_user_commands_validate_their_input(web) -> None:
    for args in (["--role", "boss"], ["--types", "memo"], ["--types", ","]):
        result = akte(web.settings, "user", "add", "neu", *args, "--password-stdin", input=PASSWORD + "\n")
        assert result.exit_code == 1, result.output
    assert akte(web.settings, "user", "add", "Böse Name", "--password-stdin", input=PASSWORD + "\n").exit_code == 1
    assert akte(web.settings, "user", "add", "kurz", "--password-stdin", input="kurz\n").exit_code == 1
    assert akte(web.settings, "user", "add", "admin", "--password-stdin", input=PASSWORD + "\n").exit_code == 1
    assert akte(web.settings, "user", "token", "niemand").exit_code == 1
    users_db = (web.settings.archive_dir / "web" / "users.sqlite").read_bytes()
    assert PASSWORD.encode() not in users_db and web.tokens["admin"].encode() not in users_db


def test_a_record_from_the_real_pipeline(instant_settings, make_text_pdf, tmp_path) -> None:
    from aktenarchiv.pipeline import ingest

    pdf = make_text_pdf("brief.pdf", ["Schreiben an Frau Jäger", "wegen der Straßenreinigung"])
    assert ingest([pdf], instant_settings).outcomes[0].status == "archived"
    rid = next(iter(ArchiveStore(instant_settings.archive_dir).record_ids()))
    assert akte(instant_settings, "user", "add", "chef", "--role", "admin", "--password-stdin",
                input=PASSWORD + "\n").exit_code == 0
    client = signed_in_client(create_app(instant_settings), "chef")
    assert rid in client.get("/", params={"q": "Jäger"}).text
    assert client.get(f"/akte/{rid}/seite/1.png").content.startswith(b"\x89PNG")


@pytest.mark.es
def test_scope_on_elasticsearch(settings, make_text_pdf, tmp_path, es_settings) -> None:
    es = replace(settings, backend="elasticsearch", elastic=es_settings)
    web = build_archive(es, make_text_pdf, tmp_path / "pdfs")
    app = create_app(es)
    clerk = signed_in_client(app, "sach")
    page = clerk.get("/", params={"q": "Müller"})
    assert "Bauantrag Müller" in page.text and "Personalakte" not in page.text
    assert 'id="anzahl">2 Akten' in clerk.get("/").text
    hits = _api(app, web, "sach", "/api/search", limit=1)
    assert hits.headers["x-total-count"] == "2"
    second = _api(app, web, "sach", "/api/search", limit=1, cursor=hits.headers["x-next-cursor"])
    assert {h["id"] for h in hits.json() + second.json()} == {web.ids["bauantrag"], web.ids["bescheid"]}
    assert clerk.get(f"/akte/{web.ids['personal']}").status_code == 404
