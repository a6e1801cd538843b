"""Attacks on the web archive: scope leaks through metadata filters, cursors, ids, FTS5 syntax.

Each test is one attack an adversary (or a careless clerk) could make over HTTP against a real
archive (real store, real SQLite index, users made with the real ``akte user`` commands).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote_plus

import pytest
from aktenarchiv.config import load_settings
from aktenarchiv.web.app import create_app
from fastapi.testclient import TestClient
from drawn_pages import write_text_pdf
from web_fixtures import PASSWORD, akte, build_archive, csrf_of, signed_in_client

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


def _api(app, web, name: str, path: str, **params):
    client = TestClient(app, raise_server_exceptions=False)
    return client.get(path, params=params, headers={"Authorization": f"Bearer {web.tokens[name]}"})


def test_metadata_filters_and_facets_keep_the_scope(app, web) -> None:
    secret = web.ids["personal"]
    clerk = signed_in_client(app, "sach")
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
    hr = signed_in_client(app, "hr")
    for q in ("Korrespondent:Geheimdienst", "Tag:Abmahnung", "Kassenzeichen:XQ-7731"):
        assert secret in hr.get("/", params={"q": q}).text, q


@pytest.mark.parametrize("cursor", ["99999999999999999999", "1e3", "abc", "-5", "0x10", " 1", "١٢"])
def test_a_forged_cursor_is_a_clear_400_never_a_crash(app, web, cursor) -> None:
    clerk = signed_in_client(app, "sach")
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
                               '"' * 500, ":", "Tag:", "Tag:\"\"", "x:y:z", "Korrespondent:\"Geheim", "\u202e"])
def test_fts5_syntax_in_the_query_is_searched_or_refused_never_a_crash(app, web, q) -> None:
    clerk = signed_in_client(app, "sach")
    page = clerk.get("/", params={"q": q})
    assert page.status_code in (200, 400), (q, page.status_code)
    assert web.ids["personal"] not in page.text and "Traceback" not in page.text
    answer = _api(app, web, "sach", "/api/search", q=q)
    assert answer.status_code in (200, 400), (q, answer.status_code)
    assert web.ids["personal"] not in answer.text


def test_a_query_longer_than_allowed_is_refused(app, web) -> None:
    clerk = signed_in_client(app, "sach")
    assert clerk.get("/", params={"q": "Müller " * 200}).status_code == 400
    assert _api(app, web, "sach", "/api/search", q="Müller " * 200).status_code == 400


@pytest.mark.parametrize("shape", ["{id}%0A", "{id}%00", "{id}.json", "{upper}", "{id12}",
                                   "..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e%2frecords", "{arabic}",
                                   "{fullwidth}", "{id}%20", "%20{id}"])
def test_ids_other_than_64_hex_digits_are_not_found(app, web, shape) -> None:
    rid = web.ids["bauantrag"]
    forged = shape.format(id=rid, upper=rid.upper(), id12=rid[:12],
                          arabic="".join(chr(0x660 + int(c)) if c.isdigit() else c for c in rid),
                          fullwidth="".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in rid))
    admin = signed_in_client(app, "admin")
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
