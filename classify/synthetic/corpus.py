"""A seeded generator of labelled German municipal documents, with ground truth.

The shipped model is trained on it, and ``akte classify-eval`` measures on it. Each
document combines a layout (letterhead, address block, where the date and reference
stand), a subject line, body paragraphs and a closing, filled with random but valid
values (calendar dates, Aktenzeichen, IBANs with correct check digits, amounts), then
run through scan-like noise (``rn``/``m``, ``l``/``1``, lost umlauts, broken words).

Held-out mode uses only layouts and phrasings that training never uses (see
:mod:`._phrases`), so evaluation measures generalisation, not memory. The noise leaves
digits and the generated values alone: the ground truth must stay true, and what real
OCR does to numbers is tested with real OCR.

Write a labelled directory::

    python -m aktenarchiv.classify.synthetic.corpus --held-out --out DIR --n 300
"""

from __future__ import annotations

import argparse
import json
import random
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from ...config import DEFAULT_TAXONOMY
from ._layouts import LAYOUTS
from ._phrases import BODIES, CLOSINGS, FRAMES, NO_SALUTATION, OPENINGS, SUBJECTS

_MONTHS = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
           "Oktober", "November", "Dezember"]
_MONTHS_SHORT = ["Jan.", "Feb.", "Mrz.", "Apr.", "Mai", "Jun.", "Jul.", "Aug.", "Sep.", "Okt.", "Nov.", "Dez."]
_FIRST = ["Anna", "Peter", "Maria", "Thomas", "Sabine", "Jürgen", "Claudia", "Michael", "Özlem", "Stefan",
          "Katrin", "Andreas", "Monika", "Lukas", "Julia", "Hans-Peter", "Fatma", "Günter", "Lea", "Björn"]
_LAST = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
         "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Yılmaz", "Krüger", "Hartmann"]
_CITIES = ["Musterstadt", "Neustadt am Rübenberge", "Bad Salzdorf", "Altenkirchen", "Lindenau", "Burgfelden",
           "Kleinheim", "Rosenthal", "Weißenbach", "Oberhausen-Süd"]
_STREETS = ["Hauptstraße", "Bahnhofstraße", "Am Markt", "Lindenweg", "Schulstraße", "Gartenstraße",
            "Kirchplatz", "Mühlenweg", "Rathausplatz", "Birkenallee", "Goethestraße", "Industriestraße"]
_AEMTER = [("10", "Hauptamt"), ("20", "Kämmerei"), ("32", "Ordnungsamt"), ("40", "Schulverwaltungsamt"),
           ("51", "Jugendamt"), ("61", "Stadtplanungsamt"), ("63.2", "Bauaufsicht"), ("66", "Tiefbauamt"),
           ("11", "Personalamt"), ("34", "Standesamt"), ("70", "Abfallwirtschaft")]
_FIRMS = ["Elektro Krause GmbH", "Haustechnik Berger & Söhne", "IT-Service Nord GmbH", "Gebäudereinigung Blitz",
          "Ingenieurbüro Lang", "Gartenbau Grün KG", "Bürobedarf Schreiber", "Dachdeckerei Huber"]
_VORHABEN = ["Errichtung eines Carports", "Neubau eines Einfamilienhauses", "Umbau der Scheune",
             "Sanierung des Spielplatzes", "Anbau eines Wintergartens", "Erneuerung der Straßenbeleuchtung",
             "Aufstellung eines Verkaufsstands", "Nutzungsänderung Ladenlokal"]
_LEISTUNGEN = ["Wartung der Heizungsanlage", "Gebäudereinigung", "Winterdienst", "IT-Support",
               "Grünflächenpflege", "Lieferung von Büromaterial", "Elektroprüfung", "Druck von Formularen"]
_GREMIEN = ["Bauausschusses", "Hauptausschusses", "Stadtrates", "Schulausschusses", "Ortsbeirates",
            "Finanzausschusses"]
_BANKS = ["37040044", "50010517", "76050101", "10050000", "43060967", "20050550"]


def iban_with_check(country: str, bban: str) -> str:
    """A valid IBAN for a BBAN: check digits computed by ISO 7064 mod 97-10."""
    digits = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


@dataclass
class Truth:
    """What the generator put into one document."""

    doc_type: str
    doc_date: str | None = None
    dates: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    ibans: list[str] = field(default_factory=list)
    amounts: list[str] = field(default_factory=list)


class _Doc:
    """Slot values of one document; fresh dates/amounts per use, one name per document."""

    def __init__(self, rng: random.Random, doc_type: str) -> None:
        self.rng = rng
        self.truth = Truth(doc_type)
        self.today = date(2018, 1, 1) + timedelta(days=rng.randrange(8 * 365))
        self.stadt = rng.choice(_CITIES)
        self.plan, self.amt = rng.choice(_AEMTER)
        # Personnel matters come from the personnel office, civil-status deeds mostly from the registry.
        if doc_type == "personal" or (doc_type == "urkunde" and rng.random() < 0.6):
            self.plan, self.amt = _AEMTER[8] if doc_type == "personal" else _AEMTER[9]
        self.first, self.last = rng.choice(_FIRST), rng.choice(_LAST)

    # Values whose digits matter are wrapped in \x01 … \x02 so the noise leaves them alone.
    def _keep(self, text: str) -> str:
        return f"\x01{text}\x02"

    def date_text(self, day: date, *, iso_ok: bool = True) -> str:
        """One date in one of the German ways of writing it, recorded in the truth."""
        self.truth.dates.append(day.isoformat())
        style = self.rng.randrange(6 if iso_ok else 5)
        text = [
            f"{day.day:02d}.{day.month:02d}.{day.year}",
            f"{day.day}.{day.month}.{day.year % 100:02d}",
            f"{day.day}. {_MONTHS[day.month - 1]} {day.year}",
            f"{day.day:02d}. {_MONTHS_SHORT[day.month - 1]} {day.year}",
            f"{day.day}.{day.month}.{day.year}",
            day.isoformat(),
        ][style]
        return self._keep(text)

    def reference(self) -> str:
        """A file reference in one of the usual shapes (plan code + case number)."""
        rng = self.rng
        ref = rng.choice([
            f"{self.plan}-{rng.randint(100, 9999)}/{self.today.year % 100:02d}",
            f"{self.plan.split('.')[0]}-{self.today.year}-{rng.randint(1, 9999):04d}",
            f"{rng.choice(['I', 'II', 'III', 'IV'])}/{rng.randint(1, 9)}-{rng.randint(100, 999)}.{rng.randint(10, 99)}",
            f"{self.plan}.{rng.randint(10, 99)}-{rng.randint(1, 999)}",
        ])
        self.truth.references.append(ref)
        return self._keep(ref)

    def iban(self) -> str:
        rng = self.rng
        if rng.random() < 0.85:
            value = iban_with_check("DE", rng.choice(_BANKS) + f"{rng.randrange(10**10):010d}")
        else:
            value = iban_with_check("AT", f"{rng.randrange(10**16):016d}")
        self.truth.ibans.append(value)
        spaced = " ".join(value[i:i + 4] for i in range(0, len(value), 4))
        return self._keep(spaced if rng.random() < 0.7 else value)

    def amount(self) -> str:
        cents = self.rng.choice([self.rng.randrange(100, 99_999), self.rng.randrange(100_000, 9_999_999)])
        whole, rest = divmod(cents, 100)
        self.truth.amounts.append(f"{whole}.{rest:02d} EUR")
        grouped = f"{whole:,}".replace(",", ".")
        form = self.rng.randrange(4)
        text = [f"{grouped},{rest:02d} €", f"EUR {grouped},{rest:02d}", f"{whole},{rest:02d} EUR",
                f"{grouped},{rest:02d} EUR"][form]
        return self._keep(text)

    def slot(self, name: str) -> str:
        rng = self.rng
        past = self.today - timedelta(days=rng.randint(3, 400))
        simple = {
            "name": f"{self.first} {self.last}", "last": self.last,
            "name2": f"{rng.choice(_FIRST)} {rng.choice(_LAST)}", "name3": f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
            "stadt": self.stadt, "ort": rng.choice(_CITIES), "amt": self.amt,
            "street": f"{rng.choice(_STREETS)} {rng.randint(1, 120)}",
            "plz_city": f"{rng.randint(10000, 99999)} {rng.choice(_CITIES)}",
            "vorhaben": rng.choice(_VORHABEN), "leistung": rng.choice(_LEISTUNGEN), "firma": rng.choice(_FIRMS),
            "gremium": rng.choice(_GREMIEN), "year": str(self.today.year), "n": str(rng.randint(1, 40)),
            "flst": f"Gemarkung {rng.choice(_CITIES)}, Flur {rng.randint(1, 30)}, Flurstück {rng.randint(1, 900)}/{rng.randint(1, 9)}",
            "rnr": f"{rng.choice(['RE', 'R', ''])}{self.today.year}{rng.randint(100, 9999)}",
            "pnr": str(rng.randint(100000, 999999)), "steuer": str(rng.randint(100000000, 999999999)),
            "phone": f"0{rng.randint(30, 9999)} {rng.randint(10000, 999999)}",
            "zeit": f"{rng.randint(8, 20)}:{rng.choice(['00', '15', '30', '45'])} Uhr",
        }
        if name in simple:
            return simple[name]
        if name == "date":
            return self.date_text(past)
        if name == "frist":
            return self.date_text(self.today + timedelta(days=rng.randint(7, 120)))
        if name == "geb":
            return self.date_text(date(rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28)))
        if name == "az":
            return self.reference()
        if name == "iban":
            return self.iban()
        if name == "amount":
            return self.amount()
        raise KeyError(name)

    def fill(self, template: str) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: self.slot(m.group(1)), template)


def _split(items: list, held_out: bool) -> list:
    """Training entries (index % 4 != 3) or held-out entries (index % 4 == 3)."""
    return [x for i, x in enumerate(items) if (i % 4 == 3) == held_out]


_NOISE_SUBS = [("m", "rn"), ("rn", "m"), ("l", "1"), ("i", "l"), ("ü", "u"), ("ä", "a"), ("ö", "o"),
               ("ß", "B"), ("e", "c"), ("h", "b"), ("n", "u"), ("u", "n"), ("t", "f"), ("I", "l"),
               ("cl", "d"), ("ri", "n"), ("O", "0"), ("S", "5"), ("Ü", "U")]


def add_noise(text: str, rng: random.Random, rate: float) -> str:
    """Scan-like OCR errors outside the protected (``\\x01…\\x02``) spans; markers are removed."""
    out: list[str] = []
    for i, part in enumerate(re.split(r"\x01|\x02", text)):
        if i % 2 == 1 or rate <= 0:  # odd parts were between the markers
            out.append(part)
            continue
        chars: list[str] = []
        j = 0
        while j < len(part):
            if rng.random() < rate:
                kind = rng.random()
                two = part[j:j + 2]
                pair = next((s for s in _NOISE_SUBS if two.startswith(s[0])), None)
                if pair and kind < 0.6:
                    chars.append(pair[1])
                    j += len(pair[0])
                    continue
                if kind < 0.75 and part[j].isalpha():
                    chars.append(part[j] + " ")  # a word broken apart
                elif kind < 0.85:
                    pass  # a dropped character
                elif kind < 0.95 and part[j] == " ":
                    pass  # two words run together
                else:
                    chars.append(part[j] + rng.choice([".", ",", "'", "|"]))
                j += 1
                continue
            chars.append(part[j])
            j += 1
        out.append("".join(chars))
    return "".join(out)


def generate_document(rng: random.Random, doc_type: str, *, held_out: bool = False) -> tuple[str, Truth]:
    """One document of ``doc_type`` and what it truly contains."""
    doc = _Doc(rng, doc_type)
    layout = rng.choice(_split(LAYOUTS, held_out))
    subject = doc.fill(rng.choice(_split(SUBJECTS[doc_type], held_out)))
    if rng.random() < 0.5:  # a type-typical header line (Kassenzeichen, Personalnummer …)
        subject = f"{subject}\n{doc.fill(rng.choice(_split(FRAMES[doc_type], held_out)))}".rstrip()
    bodies = _split(BODIES[doc_type], held_out)
    paragraphs = [doc.fill(p) for p in rng.sample(bodies, k=min(len(bodies), rng.randint(2, 4)))]
    opening = None if doc_type in NO_SALUTATION else doc.fill(rng.choice(_split(OPENINGS, held_out)))
    closing = rng.choice(_split(CLOSINGS, held_out))
    text = layout(doc, subject, opening, paragraphs, closing)
    rate = rng.choice([0.0, 0.0, 0.01, 0.02, 0.03, 0.05])
    return add_noise(text, rng, rate), doc.truth


def generate_corpus(n: int, *, seed: int = 0, held_out: bool = False,
                    taxonomy: tuple[str, ...] = DEFAULT_TAXONOMY) -> list[tuple[str, Truth]]:
    """``n`` documents, spread evenly over the types, reproducible for a seed."""
    rng = random.Random(f"{seed}-{'held-out' if held_out else 'train'}")
    types = [t for t in taxonomy if t in SUBJECTS]
    return [generate_document(rng, types[i % len(types)], held_out=held_out) for i in range(n)]


def write_labelled_dir(out: Path, docs: list[tuple[str, Truth]]) -> Path:
    """Folders per type with ``.txt`` files, plus ``truth.json`` (path → ground truth)."""
    truth = {}
    for i, (text, t) in enumerate(docs):
        rel = f"{t.doc_type}/{i:05d}.txt"
        (out / t.doc_type).mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text, encoding="utf-8")
        truth[rel] = t.__dict__
    (out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> None:
    """Command line: write a labelled directory of generated documents."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--held-out", action="store_true", help="only layouts/phrasings unused in training")
    args = parser.parse_args(argv)
    write_labelled_dir(args.out, generate_corpus(args.n, seed=args.seed, held_out=args.held_out))
    print(f"{args.n} documents in {args.out}")


if __name__ == "__main__":
    main()
