"""Attacks on the web archive: scope leaks through metadata filters, cursors, ids, FTS5 syntax.

Each test is one attack an adversary (or a careless clerk) could make over HTTP against a real
archive (real store, real SQLite index, users made with the real ``akte user`` commands).
"""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from aktenarchiv.archive.store import ArchiveStore
from aktenarchiv.config import load_settings
from aktenarchiv.fsio import sha256_file
from aktenarchiv.models import ArchiveRecord, Classification, PageText, document_id
from aktenarchiv.web.app import create_app
from drawn_pages import write_text_pdf
from fastapi.testclient import TestClient
from web_fixtures import PASSWORD, akte, api_get, build_archive, csrf_of, signed_in_client, store_and_index

pytest_plugins = ("es_fixtures",)
SECRET_WORDS = ("Geheimdienst", "Abmahnung", "XQ-7731")


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    # One archive for the module (users' Argon2 hashes and the index take seconds): the attacks
    # only read, and each asserts that nothing was changed where it tried to change something.
    root = tmp_path_factory.mktemp("attacks")
    settings = load_settings(root / "archiv", environ={})

    def make_text_pdf(name: str, *pages: list[str], folder: Path) -> Path:
        return write_text_pdf(folder / name, *pages)

    built = build_archive(settings, make_text_pdf, root / "pdfs")
    # The personnel record gets metadata a clerk without `personal` must not learn of.
    edited = akte(settings, "edit", built.ids["personal"], "--correspondent", "Geheimdienst",
                  "--tag", "Abmahnung", "--field", "Kassenzeichen=XQ-7731", "--ref", "PA-99/24")
    assert edited.exit_code == 0, edited.output
    return built


@pytest.fixture(scope="module")
def app(web):
    return create_app(web.settings)


@pytest.fixture(scope="module")
def browsers(app):
    """A signed-in browser of each user, for the module's read-only attacks (sign-in itself
    is attacked in its own test); one event loop each, not one per request."""
    with contextlib.ExitStack() as stack:
        yield {name: stack.enter_context(signed_in_client(app, name)) for name in ("sach", "hr", "admin")}


def _api(app, web, name: str, path: str, **params):
    return api_get(app, web.tokens[name], path, **params)


def test_metadata_filters_and_facets_keep_the_scope(app, web, browsers) -> None:
    secret = web.ids["personal"]
    clerk = browsers["sach"]
    queries = ("Korrespondent:Geheimdienst", "correspondent:geheimdienst", "Tag:Abmahnung", "tag:abmahnung",
               "Kassenzeichen:XQ-7731", "Aktenzeichen:PA-99/24", "ref:pa-99/24", "Geheimdienst", "Abmahnung",
               "XQ-7731", "PA-99/24", "Müller Korrespondent:Geheimdienst", "Geheimdienst OR Müller")
    for q in queries:
        page = clerk.get("/", params={"q": q})
        assert page.status_code == 200, q
        shown = page.text.replace(q, "").replace(quote_plus(q), "")  # the query itself is echoed
        assert secret not in page.text and not any(w in shown for w in SECRET_WORDS), q
        found = _api(app, web, "sach", "/api/search", q=q, limit=100)
        assert found.status_code == 200, q
        assert secret not in found.text and "Geheimdienst" not in found.text, q
    assert _api(app, web, "sach", "/api/search", ref="PA-99/24").json() == []
    # The person who has the type finds it by each of these.
    hr = browsers["hr"]
    for q in ("Korrespondent:Geheimdienst", "Tag:Abmahnung", "Kassenzeichen:XQ-7731"):
        assert secret in hr.get("/", params={"q": q}).text, q


@pytest.mark.parametrize("cursor", ["99999999999999999999", "1e3", "abc", "-5", "0x10", " 1", "١٢"])
def test_a_forged_cursor_is_a_clear_400_never_a_crash(app, web, browsers, cursor) -> None:
    clerk = browsers["sach"]
    for params in ({"cursor": cursor}, {"q": "Müller", "cursor": cursor}):
        page = clerk.get("/", params=params)
        assert page.status_code in (200, 400), (params, page.status_code)
        assert web.ids["personal"] not in page.text and "Traceback" not in page.text
        answer = _api(app, web, "sach", "/api/search", **params)
        assert answer.status_code in (200, 400), (params, answer.status_code)
        assert web.ids["personal"] not in answer.text


@pytest.mark.parametrize("q", ['"', '""', '"Müller', "*", "Müller*", "NEAR(Müller Antrag)", "^Müller", "text:Müller",
                               "body:Müller", "{body}:Müller", "Müller AND", "OR", "- -", "-Müller", '-"', "(", ")",
                               "Müller)", "' OR 1=1 --", "\x00", "Müller\x00", "«Müller»", "a" * 500,
                               '"' * 500, ":", "Tag:", "Tag:\"\"", "x:y:z", "Korrespondent:\"Geheim", "\u202e",
                               "-a " * 160 + "Müller", "Müller " + "-1 " * 160])
def test_fts5_syntax_in_the_query_is_searched_or_refused_never_a_crash(app, web, browsers, q) -> None:
    clerk = browsers["sach"]
    page = clerk.get("/", params={"q": q})
    assert page.status_code in (200, 400), (q, page.status_code)
    assert web.ids["personal"] not in page.text and "Traceback" not in page.text
    answer = _api(app, web, "sach", "/api/search", q=q)
    assert answer.status_code in (200, 400), (q, answer.status_code)
    assert web.ids["personal"] not in answer.text


def test_a_query_longer_than_allowed_is_refused(app, web, browsers) -> None:
    clerk = browsers["sach"]
    assert clerk.get("/", params={"q": "Müller " * 200}).status_code == 400
    assert _api(app, web, "sach", "/api/search", q="Müller " * 200).status_code == 400


@pytest.mark.parametrize("shape", ["{id}%0A", "{id}%00", "{id}.json", "{upper}", "{id12}",
                                   "..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e%2frecords", "{arabic}",
                                   "{fullwidth}", "{id}%20", "%20{id}"])
def test_ids_other_than_64_hex_digits_are_not_found(app, web, browsers, shape) -> None:
    rid = web.ids["bauantrag"]
    forged = shape.format(id=rid, upper=rid.upper(), id12=rid[:12],
                          arabic="".join(chr(0x660 + int(c)) if c.isdigit() else c for c in rid),
                          fullwidth="".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in rid))
    admin = browsers["admin"]
    for route in ("/akte/{}", "/akte/{}/pdf", "/akte/{}/original", "/akte/{}/seite/1.png"):
        answer = admin.get(route.format(forged))
        assert answer.status_code == 404, (route, forged, answer.status_code)
    for route in ("/api/records/{}", "/api/records/{}/pdf"):
        assert _api(app, web, "admin", route.format(forged)).status_code == 404, (route, forged)


@pytest.mark.parametrize("weiter", ["//evil.example", "/\\evil.example", "https://evil.example", "/%0d%0aSet-Cookie:x=1",
                                    "/\nLocation: //evil", "\\\\evil", "/.//evil.example", "javascript:alert(1)"])
def test_sign_in_never_sends_the_browser_to_another_site(app, web, weiter) -> None:
    client = TestClient(app)
    form = client.get("/anmelden", params={"weiter": weiter})
    answer = client.post("/anmelden", data={"name": "sach", "passwort": PASSWORD, "csrf": csrf_of(form.text),
                                            "weiter": weiter}, follow_redirects=False)
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.startswith("/") and not location.startswith("//") and "\n" not in location
    assert "evil" not in location.split("?")[0].lstrip("/").split("/")[0] or location.startswith("/%")


def _split_batch_file(web) -> dict[str, str]:
    """Two documents split from one scanned batch file: a Bauantrag (pages 1-2) and a
    personnel letter (page 3); as a born-digital file it has no archival PDF of its own."""
    settings = web.settings
    store = ArchiveStore(settings.archive_dir)
    pdf = write_text_pdf(settings.archive_dir.parent / "stapel.pdf", ["Bauantrag Seite eins"], ["Bauantrag Seite zwei"],
                         ["Abmahnung wegen Verspätung, Personalsache Schulz"])
    sha = sha256_file(pdf)
    rel = store.put_original(pdf, sha)
    records = []
    for key, pages, doc_type in (("split-antrag", (1, 2), "antrag"), ("split-personal", (3,), "personal")):
        texts = [f"Seite {n} des Stapels" for n in pages]
        records.append(ArchiveRecord(
            id=document_id(sha, pages), sha256=sha, source_name="stapel.pdf", media_type="application/pdf",
            size=pdf.stat().st_size, page_count=len(pages), ingested_at="2024-05-01T08:00:00+00:00",
            title=f"Stapel ({key})", original_object=rel, archival_object=None, archival_sha256=None,
            engine="text-layer", pages=tuple(PageText(n, t, "text-layer", None) for n, t in enumerate(texts, 1)),
            classification=Classification(doc_type=doc_type, confidence=0.9), source_pages=pages))
    store_and_index(settings, records)
    return {"antrag": records[0].id, "personal": records[1].id}


def test_a_split_document_never_hands_out_its_neighbours_pages(app, web) -> None:
    split = _split_batch_file(web)
    store = ArchiveStore(web.settings.archive_dir)
    whole = store.path(store.read_record(split["antrag"]).original_object).read_bytes()
    for name in ("akten", "sach"):  # neither has `personal` in their scope
        client = signed_in_client(app, name)
        rid = split["antrag"]
        assert client.get(f"/akte/{rid}").status_code == 200  # the document itself is theirs
        # Page 1 of this document is page 1 of the file, but without an archival PDF of its own
        # no page of the file may be rendered for it (page n of a document is not page n of the file).
        assert client.get(f"/akte/{rid}/seite/2.png").status_code == 404
        for route in ("/akte/{}/original", "/akte/{}/pdf"):
            answer = client.get(route.format(rid))
            # Whatever is answered must not be the whole batch file with the personnel letter in it.
            assert answer.status_code == 404 or answer.content != whole, (name, route)
        answer = _api(app, web, name, f"/api/records/{rid}/pdf")
        assert answer.status_code == 404 or answer.content != whole, name
    admin = signed_in_client(app, "admin")
    assert admin.get(f"/akte/{split['antrag']}/original").status_code == 200  # admins see everything


def _encoded(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.mark.es
def test_on_elasticsearch_forged_cursors_and_metadata_queries_keep_the_scope(tmp_path, es_settings) -> None:
    settings = replace(load_settings(tmp_path / "archiv", environ={}), backend="elasticsearch", elastic=es_settings)
    web = build_archive(settings, lambda name, *pages, folder: write_text_pdf(folder / name, *pages), tmp_path / "pdfs")
    assert akte(settings, "edit", web.ids["personal"], "--correspondent", "Geheimdienst", "--tag", "Abmahnung",
                "--field", "Kassenzeichen=XQ-7731").exit_code == 0
    app = create_app(settings)
    clerk = signed_in_client(app, "sach")
    for q in ("Korrespondent:Geheimdienst", "Tag:Abmahnung", "Kassenzeichen:XQ-7731", "Geheimdienst OR Müller"):
        found = _api(app, web, "sach", "/api/search", q=q, limit=100)
        assert found.status_code == 200 and web.ids["personal"] not in found.text, q
        assert web.ids["personal"] not in clerk.get("/", params={"q": q}).text, q
    forged = [_encoded({"after": ["x", "y", "z"], "seen": 0}), _encoded({"after": [1], "seen": 0, "pit": "garbage"}),
              _encoded({"after": [], "seen": 0}), _encoded({"after": [{"a": 1}], "seen": 0}), "10", "!!"]
    for cursor in forged:
        for q in ("", "Müller"):
            answer = _api(app, web, "sach", "/api/search", q=q, cursor=cursor)
            assert answer.status_code == 400 and "cursor" in answer.json()["detail"], (cursor, q, answer.text)
            page = clerk.get("/", params={"q": q, "cursor": cursor})
            assert page.status_code == 400 and "cursor" in page.text, (cursor, q)
    assert akte(settings, "search", "Müller", "--cursor", forged[0]).exit_code == 1


def test_an_internal_error_page_has_the_security_headers_and_no_traceback(app, web) -> None:
    # A real fault: the page-image cache cannot be created (a file stands where its folder goes).
    cache = web.settings.archive_dir / "web" / "pages"
    shutil.rmtree(cache, ignore_errors=True)  # the cache may be deleted at any time
    cache.write_bytes(b"")
    try:
        answer = signed_in_client(app, "sach").get(f"/akte/{web.ids['bescheid']}/seite/1.png")
    finally:
        cache.unlink()
    assert answer.status_code == 500
    assert "Traceback" not in answer.text and str(web.settings.archive_dir) not in answer.text
    assert answer.headers["content-security-policy"].startswith("default-src 'self'")
    assert answer.headers["x-frame-options"] == "DENY" and answer.headers["cache-control"] == "no-store"


def test_a_fault_inside_a_search_is_an_internal_error_not_the_requests(app, web) -> None:
    """A real fault: the index row of a hit holds no JSON where its snippet fields go. That is
    the archive's fault (a bug or damage), logged as one: never a 400 blaming the request."""
    index = sqlite3.connect(web.settings.archive_dir / "index.sqlite")
    where = "rowid = (SELECT rowid FROM docs WHERE id = ?)"
    (meta,) = index.execute(f"SELECT meta FROM doc_text WHERE {where}", (web.ids["bauantrag"],)).fetchone()
    try:
        with index:
            index.execute(f"UPDATE doc_text SET meta = 'kein JSON' WHERE {where}", (web.ids["bauantrag"],))
        page = signed_in_client(app, "admin").get("/", params={"q": "Bauantrag"})
        answer = _api(app, web, "admin", "/api/search", q="Bauantrag")
    finally:
        with index:
            index.execute(f"UPDATE doc_text SET meta = ? WHERE {where}", (meta, web.ids["bauantrag"]))
        index.close()
    assert page.status_code == 500 and "Traceback" not in page.text, page.status_code
    assert answer.status_code == 500 and "kein JSON" not in answer.text, answer.text
