"""Page layouts of the synthetic corpus: where letterhead, addresses, date and reference stand.

Each layout takes the document's slot source (``corpus._Doc``), the filled subject, an
optional salutation, the body paragraphs and a closing, and returns the page text. The
layouts at index 3 and 7 (e-mail printout, fax cover) are held out of training, like the
phrasings in ``_phrases.py``. Every layout records the document's own date in the truth.
"""

from __future__ import annotations

from typing import Any, Callable

# Who writes to whom: citizens apply and object, firms invoice, the city writes the rest.
_FROM_CITIZEN = {"antrag", "widerspruch"}
_FROM_FIRM = {"rechnung"}
_AZ_LABELS = ["Az.:", "Aktenzeichen:", "Unser Zeichen:", "Az:", "Aktenzeichen"]


def _doc_date(doc: Any) -> str:
    doc.truth.doc_date = doc.today.isoformat()
    return doc.date_text(doc.today, iso_ok=False)


def _parties(doc: Any) -> tuple[list[str], list[str]]:
    """Sender and recipient address lines for the document's type."""
    city = [f"Stadt {doc.stadt}", doc.amt, "Rathausplatz 1", doc.slot("plz_city").split(" ")[0] + f" {doc.stadt}"]
    citizen = [doc.slot("name"), doc.slot("street"), doc.slot("plz_city")]
    if doc.truth.doc_type in _FROM_CITIZEN:
        return citizen, [f"Stadtverwaltung {doc.stadt}", doc.amt, "Rathausplatz 1"]
    if doc.truth.doc_type in _FROM_FIRM:
        firm = doc.slot("firma")
        return [firm, doc.slot("street"), doc.slot("plz_city")], city[:3]
    return city, citizen


def _body(opening: str | None, paragraphs: list[str], closing: str, signer: str) -> str:
    parts = ([opening] if opening else []) + paragraphs + [closing, "", signer]
    return "\n\n".join(parts)


def _bank_footer(doc: Any) -> str:
    if doc.rng.random() < 0.5:
        return ""
    return f"\n\nBankverbindung: Sparkasse {doc.stadt} · IBAN {doc.iban()} · BIC SOLADES1XXX"


def classic_letter(doc: Any, subject: str, opening: str | None, paragraphs: list[str], closing: str) -> str:
    """DIN-5008-like letter with an information block (Unser Zeichen / Datum)."""
    sender, recipient = _parties(doc)
    info = [f"{doc.rng.choice(_AZ_LABELS)} {doc.reference()}", f"Datum: {_doc_date(doc)}"]
    head = "\n".join(sender) + "\n\n" + " · ".join(sender[:2]) + "\n" + "\n".join(recipient)
    return (f"{head}\n\n" + "\n".join(info) + f"\n\nBetreff: {subject}\n\n"
            + _body(opening, paragraphs, closing, doc.slot("name2")) + _bank_footer(doc))


def place_date_letter(doc: Any, subject: str, opening: str | None, paragraphs: list[str], closing: str) -> str:
    """Letter with "Ort, Datum" above the subject and the reference below it."""
    sender, recipient = _parties(doc)
    ref = f"{doc.rng.choice(_AZ_LABELS)} {doc.reference()}\n" if doc.rng.random() < 0.8 else ""
    return ("\n".join(sender) + "\n\n" + "\n".join(recipient) + f"\n\n{doc.stadt}, {doc.rng.choice(['', 'den '])}"
            f"{_doc_date(doc)}\n{ref}\n{subject}\n\n" + _body(opening, paragraphs, closing, doc.slot("name")))


def form_sheet(doc: Any, subject: str, opening: str | None, paragraphs: list[str], closing: str) -> str:
    """A form: upper-case title, labelled fields, place and date above the signature."""
    sender, _ = _parties(doc)
    lines = [f"Stadt {doc.stadt} – {doc.amt}", "", subject.upper(), "",
             f"Aktenzeichen: {doc.reference()}", f"Eingang am: {doc.slot('date')}", ""]
    lines += [f"Name: {sender[0]}", f"Anschrift: {', '.join(sender[1:])}", ""]
    lines += paragraphs
    lines += ["", f"{doc.stadt}, den {_doc_date(doc)}", "", "_______________________", "Unterschrift"]
    return "\n".join(lines)


def email_printout(doc: Any, subject: str, opening: str | None, paragraphs: list[str], closing: str) -> str:
    """A printed e-mail (held out): header lines, then the message."""
    sender, _ = _parties(doc)
    weekday = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"][doc.today.weekday()]
    mail = sender[0].lower().replace(" ", ".").replace("ü", "ue").replace("ö", "oe").replace("ä", "ae")
    head = [f"Von: {sender[0]} <{mail}@example.de>", f"Gesendet: {weekday}, {_doc_date(doc)} {doc.slot('zeit')}",
            f"An: poststelle@{doc.stadt.lower().replace(' ', '-')}.de", f"Betreff: {subject}"]
    if doc.rng.random() < 0.6:
        head.append(f"Geschäftszeichen: {doc.reference()}")
    return "\n".join(head) + "\n\n" + _body(opening, paragraphs, closing, sender[0])


def citizen_note(doc: Any, subject: str, opening: str | None, paragraphs: list[str], closing: str) -> str:
    """Plain letter without letterhead; date on its own line with "Datum:"."""
    sender, recipient = _parties(doc)
    return (" ".join(sender) + "\n\n" + "\n".join(recipient) + f"\n\nDatum: {_doc_date(doc)}\n\n"
            f"{subject}\n\n" + _body(opening, paragraphs, closing, sender[0]))


def din_info_block(doc: Any, subject: str, opening: str | None, paragraphs: list[str], closing: str) -> str:
    """Letter with a longer information block incl. the date of the letter answered."""
    sender, recipient = _parties(doc)
    info = [f"Ihre Nachricht vom: {doc.slot('date')}", f"Unser Zeichen: {doc.reference()}",
            f"Ansprechpartner: {doc.slot('name2')}", f"Telefon: {doc.slot('phone')}", f"Datum: {_doc_date(doc)}"]
    return ("\n".join(sender) + "\n\n" + "\n".join(recipient) + "\n\n" + "\n".join(info) + f"\n\n{subject}\n\n"
            + _body(opening, paragraphs, closing, doc.slot("name2")) + _bank_footer(doc))


def minutes_sheet(doc: Any, subject: str, opening: str | None, paragraphs: list[str], closing: str) -> str:
    """Page with a centred header, page numbers and the date at the bottom."""
    lines = [f"STADT {doc.stadt.upper()}", doc.amt, "", subject, "", f"Az. {doc.reference()}", ""]
    lines += paragraphs + ["", f"{doc.stadt}, {_doc_date(doc)}", "", "- Seite 1 von 1 -"]
    return "\n".join(lines)


def fax_cover(doc: Any, subject: str, opening: str | None, paragraphs: list[str], closing: str) -> str:
    """A fax (held out): transmission header, then the letter."""
    sender, recipient = _parties(doc)
    head = [f"FAX an: {recipient[0]}", f"von: {sender[0]}", f"Datum: {_doc_date(doc)}   Seiten: 2",
            f"Gz.: {doc.reference()}", "-" * 40, f"Betr.: {subject}"]
    return "\n".join(head) + "\n\n" + _body(opening, paragraphs, closing, sender[0]) + _bank_footer(doc)


LAYOUTS: list[Callable[..., str]] = [
    classic_letter, place_date_letter, form_sheet, email_printout,
    citizen_note, din_info_block, minutes_sheet, fax_cover,
]
