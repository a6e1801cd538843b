"""Phrase material of the synthetic corpus: subject lines and body paragraphs per type.

Placeholders in braces are filled by :mod:`.corpus` (``{date}`` a past date, ``{frist}`` a
deadline, ``{az}`` a file reference, ``{amount}``, ``{iban}``, names, places …). Every
list is split by position: entries whose index ``% 4 == 3`` are *held out* and never used
for training, so an evaluation on the held-out corpus sees phrasings the model never saw.
"""

from __future__ import annotations

SUBJECTS: dict[str, list[str]] = {
    "antrag": [
        "Antrag auf Erteilung einer Baugenehmigung – {vorhaben}",
        "Bauantrag für das Grundstück {street}",
        "Antrag auf Sondernutzungserlaubnis für öffentlichen Verkehrsraum",
        "Antrag auf Ausstellung eines Anwohnerparkausweises",
        "Antrag auf Zuschuss aus dem Vereinsförderprogramm",
        "Antrag auf Erlass der Hundesteuer",
        "Antrag auf Genehmigung einer Veranstaltung am {date}",
        "Gewerbeanmeldung und Antrag auf Gaststättenerlaubnis",
    ],
    "bescheid": [
        "Gebührenbescheid für die Abfallentsorgung {year}",
        "Baugenehmigung – {vorhaben}",
        "Grundsteuerbescheid für das Jahr {year}",
        "Bescheid über die Festsetzung der Hundesteuer",
        "Ablehnungsbescheid zu Ihrem Antrag vom {date}",
        "Bescheid über Elternbeiträge für die Kindertagesstätte",
        "Festsetzung von Verwarnungsgeld",
        "Erschließungsbeitragsbescheid {flst}",
    ],
    "rechnung": [
        "Rechnung Nr. {rnr}",
        "Rechnung {rnr} – {leistung}",
        "Schlussrechnung zum Auftrag vom {date}",
        "Abschlagsrechnung Nr. {rnr}",
        "Ihre Bestellung vom {date} – Rechnung",
        "Rechnung für Wartungsarbeiten",
        "Honorarrechnung {rnr}",
        "Teilrechnung Nr. {rnr} – {leistung}",
    ],
    "vertrag": [
        "Mietvertrag über Gewerberäume",
        "Dienstleistungsvertrag {leistung}",
        "Pachtvertrag über das Grundstück {flst}",
        "Nutzungsvertrag für die Sporthalle",
        "Kaufvertrag über ein Dienstfahrzeug",
        "Wartungsvertrag für die Heizungsanlage",
        "Vereinbarung über die Überlassung von Räumen",
        "Rahmenvertrag {leistung}",
    ],
    "widerspruch": [
        "Widerspruch gegen den Bescheid vom {date}",
        "Widerspruch – Gebührenbescheid",
        "Einlegung eines Widerspruchs gegen die Ablehnung meines Antrags",
        "Widerspruch gegen die Festsetzung der Grundsteuer",
        "Widerspruch Ihres Bescheids vom {date}",
        "Rechtsbehelf gegen Ihren Bescheid",
        "Widerspruch gegen den Beitragsbescheid",
        "Widerspruch und Antrag auf Aussetzung der Vollziehung",
    ],
    "protokoll": [
        "Niederschrift über die Sitzung des {gremium} am {date}",
        "Protokoll der {n}. Sitzung des {gremium}",
        "Ergebnisprotokoll der Dienstbesprechung vom {date}",
        "Sitzungsprotokoll {gremium}",
        "Niederschrift der öffentlichen Sitzung",
        "Protokoll der Ortsbegehung am {date}",
        "Besprechungsprotokoll Projekt {vorhaben}",
        "Niederschrift der Bürgerversammlung",
    ],
    "urkunde": [
        "Geburtsurkunde",
        "Eheurkunde",
        "Sterbeurkunde",
        "Ernennungsurkunde",
        "Urkunde über die Verleihung der Ehrennadel",
        "Einbürgerungsurkunde",
        "Urkunde zum Dienstjubiläum",
        "Lebenspartnerschaftsurkunde",
    ],
    "personal": [
        "Personalakte {name} – Beurteilung",
        "Mitteilung über die Eingruppierung",
        "Arbeitsunfähigkeitsbescheinigung",
        "Abmahnung",
        "Änderung der Arbeitszeit",
        "Dienstliche Beurteilung zum Stichtag {date}",
        "Zeugnis für {name}",
        "Versetzung in das {amt}",
    ],
    "korrespondenz": [
        "Ihre Anfrage vom {date}",
        "Eingangsbestätigung",
        "Ihr Schreiben vom {date}",
        "Terminabstimmung",
        "Rückfragen zu Ihrem Anliegen",
        "Bitte um Rückruf",
        "Weiterleitung Ihrer Anfrage",
        "Sachstandsanfrage",
    ],
    "sonstiges": [
        "Aushang",
        "Pressemitteilung",
        "Speiseplan der Kantine",
        "Telefonnotiz",
        "Einladung zum Sommerfest",
        "Öffnungszeiten über die Feiertage",
        "Hinweis zur Parkplatzsituation",
        "Veranstaltungskalender",
    ],
}

BODIES: dict[str, list[str]] = {
    "antrag": [
        "hiermit beantrage ich die Erteilung einer Baugenehmigung für das Vorhaben {vorhaben} auf dem "
        "Grundstück {flst}. Die Bauvorlagen, der Lageplan und die Baubeschreibung sind beigefügt.",
        "Ich beantrage die Genehmigung und bitte um Prüfung meines Antrags. Antragsteller: {name}, "
        "geboren am {geb}, wohnhaft {street}, {plz_city}.",
        "Die erforderlichen Unterlagen (Antragsformular, Nachweise, Kopie des Personalausweises) lege ich "
        "diesem Antrag bei. Die Antragsgebühr von {amount} habe ich auf das Konto {iban} überwiesen.",
        "Bitte prüfen Sie den beigefügten Antrag und teilen Sie mir mit, ob weitere Unterlagen erforderlich "
        "sind. Ich versichere die Richtigkeit meiner Angaben.",
        "Für die Veranstaltung am {frist} beantragen wir als Verein die Nutzung des Marktplatzes sowie eine "
        "Ausnahmegenehmigung nach der Lärmschutzverordnung.",
        "Hiermit stelle ich den Antrag auf Befreiung bzw. Ermäßigung, da die Voraussetzungen nach der "
        "Satzung vorliegen. Entsprechende Nachweise füge ich bei.",
        "Antragsformular: Name des Antragstellers {name}, Anschrift {street}, {plz_city}, Telefon {phone}. "
        "Beantragt wird: {vorhaben}. Unterschrift des Antragstellers.",
        "Wir bitten um Bewilligung eines Zuschusses in Höhe von {amount} für die Maßnahme {vorhaben}. "
        "Ein Kosten- und Finanzierungsplan liegt bei.",
    ],
    "bescheid": [
        "auf Ihren Antrag vom {date} ergeht folgender Bescheid: Die Genehmigung wird unter den "
        "nachstehenden Auflagen erteilt. Die Gebühr wird auf {amount} festgesetzt.",
        "Für das Grundstück {flst} wird die Gebühr für das Jahr {year} auf {amount} festgesetzt. "
        "Der Betrag ist bis zum {frist} auf das Konto {iban} zu überweisen.",
        "Rechtsbehelfsbelehrung: Gegen diesen Bescheid kann innerhalb eines Monats nach Bekanntgabe "
        "Widerspruch erhoben werden. Der Widerspruch ist schriftlich oder zur Niederschrift bei der "
        "Stadt {stadt} einzulegen.",
        "Ihr Antrag wird abgelehnt. Begründung: Die Voraussetzungen der Satzung liegen nicht vor, da die "
        "erforderlichen Nachweise nicht fristgerecht vorgelegt wurden.",
        "Festsetzung: Es wird ein Betrag von {amount} festgesetzt. Fälligkeit: {frist}. Bitte geben Sie "
        "bei der Zahlung das Kassenzeichen an.",
        "Die sofortige Vollziehung dieses Bescheids wird angeordnet. Die Kosten des Verfahrens tragen Sie. "
        "Die Verwaltungsgebühr beträgt {amount}.",
        "Hiermit wird Ihnen die beantragte Erlaubnis befristet bis zum {frist} erteilt. Die Erlaubnis kann "
        "widerrufen werden, wenn die Auflagen nicht eingehalten werden.",
        "Berechnungsgrundlage: Veranlagungsfläche, Hebesatz und Messbetrag. Die festgesetzte Steuer wird zu "
        "den Fälligkeitsterminen mit je einem Viertel des Jahresbetrags fällig.",
    ],
    "rechnung": [
        "für die erbrachten Leistungen ({leistung}) berechnen wir Ihnen: Nettobetrag {amount}, zzgl. 19 % "
        "MwSt., Rechnungsbetrag {amount}.",
        "Bitte überweisen Sie den Rechnungsbetrag von {amount} innerhalb von 14 Tagen ohne Abzug auf "
        "unser Konto IBAN {iban} unter Angabe der Rechnungsnummer {rnr}.",
        "Pos. 1 {leistung} 1 Pauschal {amount}; Pos. 2 Anfahrt {amount}; Summe netto {amount}; "
        "Umsatzsteuer 19 % {amount}; Gesamtbetrag {amount}.",
        "Leistungszeitraum: {date} bis {frist}. Zahlungsziel: 30 Tage netto. Steuernummer {steuer}.",
        "Wir danken für Ihren Auftrag und stellen Ihnen folgende Positionen in Rechnung. Zahlbar ohne Abzug "
        "bis {frist}.",
        "Lieferung und Montage gemäß Angebot vom {date}. Rechnungsbetrag brutto {amount}. Bankverbindung: "
        "Sparkasse, IBAN {iban}.",
        "Kundennummer {rnr} – Abrechnung der Wartung laut Vertrag. Der Betrag wird fristgerecht per "
        "Lastschrift eingezogen.",
        "Die Rechnung ist sofort fällig. Bei Zahlungsverzug berechnen wir Verzugszinsen. Ust-IdNr. DE{steuer}.",
    ],
    "vertrag": [
        "Zwischen der Stadt {stadt}, vertreten durch den Bürgermeister, – nachfolgend Auftraggeber – und "
        "{firma} – nachfolgend Auftragnehmer – wird folgender Vertrag geschlossen:",
        "§ 1 Vertragsgegenstand: {leistung}. § 2 Vertragsdauer: Der Vertrag beginnt am {date} und läuft "
        "auf unbestimmte Zeit.",
        "§ 3 Vergütung: Der Auftragnehmer erhält eine monatliche Vergütung von {amount}. Die Zahlung "
        "erfolgt auf das Konto {iban}.",
        "§ 4 Kündigung: Der Vertrag kann von beiden Vertragsparteien mit einer Frist von drei Monaten zum "
        "Jahresende gekündigt werden. Die Kündigung bedarf der Schriftform.",
        "Der Mieter mietet die im Lageplan bezeichneten Räume. Die Miete beträgt monatlich {amount} und ist "
        "im Voraus bis zum dritten Werktag zu zahlen.",
        "§ 5 Haftung und Gewährleistung richten sich nach den gesetzlichen Vorschriften. § 6 Nebenabreden "
        "bestehen nicht; Änderungen bedürfen der Schriftform.",
        "Salvatorische Klausel: Sollte eine Bestimmung dieses Vertrages unwirksam sein, bleibt die "
        "Wirksamkeit der übrigen Bestimmungen unberührt. Gerichtsstand ist {stadt}.",
        "Ort, Datum, Unterschrift Auftraggeber – Ort, Datum, Unterschrift Auftragnehmer. Beide Parteien "
        "erhalten eine Ausfertigung dieses Vertrages.",
    ],
    "widerspruch": [
        "hiermit lege ich gegen Ihren Bescheid vom {date}, Az. {az}, fristgerecht Widerspruch ein.",
        "Die Festsetzung ist rechtswidrig, da die zugrunde gelegte Fläche unzutreffend ist. Ich bitte, den "
        "Bescheid aufzuheben und die Gebühr neu zu berechnen.",
        "Eine ausführliche Begründung meines Widerspruchs reiche ich nach Akteneinsicht nach. Ich beantrage "
        "die Aussetzung der Vollziehung bis zur Entscheidung über den Widerspruch.",
        "Gegen den oben genannten Bescheid erhebe ich Widerspruch. Ich bin mit der Entscheidung nicht "
        "einverstanden, weil meine Nachweise nicht berücksichtigt wurden.",
        "Namens und in Vollmacht unseres Mandanten {name} legen wir gegen den Bescheid Widerspruch ein. "
        "Eine Vollmacht ist beigefügt.",
        "Ich widerspreche der Festsetzung von {amount}, da die Leistung nicht in Anspruch genommen wurde. "
        "Bitte bestätigen Sie den Eingang meines Widerspruchs.",
        "Der Bescheid ist mir am {date} zugegangen; die Widerspruchsfrist ist damit gewahrt. Ich bitte um "
        "Abhilfe, hilfsweise um Vorlage an die Widerspruchsbehörde.",
        "Mit Ihrem Bescheid haben Sie meinen Antrag abgelehnt. Dagegen richtet sich dieser Widerspruch; die "
        "Ablehnung verletzt mich in meinen Rechten.",
    ],
    "protokoll": [
        "Beginn: {zeit}. Anwesend: {name} (Vorsitz), Mitglieder des {gremium}; entschuldigt fehlte ein "
        "Mitglied. Die Beschlussfähigkeit wurde festgestellt.",
        "TOP 1 Genehmigung der Niederschrift der letzten Sitzung – einstimmig angenommen. TOP 2 Bericht der "
        "Verwaltung – zur Kenntnis genommen.",
        "TOP 3 {vorhaben}: Der Ausschuss beschließt mit 7 Ja-Stimmen, 2 Nein-Stimmen und 1 Enthaltung, dem "
        "Vorhaben zuzustimmen.",
        "Der Vorsitzende eröffnet die Sitzung und begrüßt die Anwesenden. Gegen die Tagesordnung werden keine "
        "Einwände erhoben.",
        "Ergebnisse: Die Verwaltung prüft die Kosten bis zum {frist}. Verantwortlich: {name}. Nächster "
        "Termin: {frist}.",
        "Anfragen und Mitteilungen: keine. Ende der Sitzung: {zeit}. Für die Richtigkeit: Schriftführer.",
        "Teilnehmer der Ortsbegehung: {name}, Vertreter des {amt}. Festgestellt wurde, dass die Arbeiten "
        "planmäßig verlaufen; Mängel wurden nicht festgestellt.",
        "Beschluss: Der Rat der Stadt {stadt} beschließt die Satzung in der vorliegenden Fassung. "
        "Abstimmungsergebnis: einstimmig.",
    ],
    "urkunde": [
        "{name}, geboren am {geb} in {ort}, ist am {date} in {stadt} geboren. Vater: {name2}. Mutter: {name3}.",
        "Das Standesamt {stadt} beurkundet: {name} und {name2} haben am {date} vor dem Standesbeamten die "
        "Ehe geschlossen.",
        "Im Namen der Stadt {stadt} ernenne ich {name} unter Berufung in das Beamtenverhältnis auf "
        "Lebenszeit zum Stadtinspektor.",
        "In Anerkennung besonderer Verdienste um das Gemeinwohl wird {name} die Ehrennadel der Stadt "
        "{stadt} verliehen.",
        "Die Übereinstimmung dieser Abschrift mit dem Eintrag im Personenstandsregister wird beglaubigt. "
        "(Siegel) Der Standesbeamte",
        "{name} ist am {date} in {ort} verstorben. Letzter Wohnsitz: {plz_city}. Beurkundet vom Standesamt.",
        "Mit Aushändigung dieser Urkunde erwirbt {name}, geboren am {geb}, die deutsche Staatsangehörigkeit.",
        "Für 25 Jahre treue Dienste im öffentlichen Dienst spricht die Stadt {stadt} {name} Dank und "
        "Anerkennung aus. Urkunde zum Dienstjubiläum.",
    ],
    "personal": [
        "Personalnummer: {pnr}. Frau/Herr {name}, Entgeltgruppe E 9a, Stufe 3, wird mit Wirkung vom {date} "
        "in die Entgeltgruppe E 10 eingruppiert.",
        "Vertraulich – Personalsache. Die Leistungen von {name} im Beurteilungszeitraum werden insgesamt mit "
        "der Note „gut“ bewertet.",
        "Arbeitsunfähig seit {date}, voraussichtlich arbeitsunfähig bis einschließlich {frist}. "
        "Erstbescheinigung zur Vorlage beim Arbeitgeber.",
        "Wir mahnen Sie hiermit ab, weil Sie am {date} unentschuldigt nicht zum Dienst erschienen sind. Im "
        "Wiederholungsfall müssen Sie mit arbeitsrechtlichen Konsequenzen rechnen.",
        "Ihre wöchentliche Arbeitszeit wird auf Ihren Antrag ab dem {date} auf 30 Stunden reduziert. Der "
        "Personalrat hat zugestimmt. Diese Mitteilung wird zur Personalakte genommen.",
        "{name} war vom {date} bis {frist} als Sachbearbeiterin im {amt} beschäftigt. Sie erledigte die ihr "
        "übertragenen Aufgaben stets zu unserer vollsten Zufriedenheit.",
        "Bezüge: Grundgehalt {amount}, Familienzuschlag {amount}. Bankverbindung für die Bezüge: {iban}. "
        "Steuerklasse III.",
        "Sie werden mit Wirkung vom {date} an das {amt} umgesetzt. Die Personalvertretung wurde beteiligt. "
        "Bitte melden Sie sich bei der Amtsleitung.",
    ],
    "korrespondenz": [
        "vielen Dank für Ihr Schreiben vom {date}. Wir haben Ihr Anliegen an das zuständige {amt} "
        "weitergeleitet und melden uns in Kürze.",
        "wir bestätigen den Eingang Ihrer Unterlagen. Die Bearbeitung wird voraussichtlich einige Wochen in "
        "Anspruch nehmen; wir bitten um Geduld.",
        "bezugnehmend auf unser Telefonat teile ich Ihnen mit, dass ein Termin am {frist} um {zeit} möglich "
        "ist. Bitte bestätigen Sie den Termin kurz.",
        "für die Bearbeitung benötigen wir noch folgende Angaben: Ihre aktuelle Anschrift und eine "
        "Telefonnummer für Rückfragen.",
        "leider können wir Ihre Anfrage nicht abschließend beantworten, da die Zuständigkeit beim Landkreis "
        "liegt. Bitte wenden Sie sich direkt dorthin.",
        "zu Ihrer Nachfrage vom {date} können wir Ihnen mitteilen, dass die Angelegenheit noch in Prüfung "
        "ist. Wir werden Sie unaufgefordert informieren.",
        "anbei übersenden wir Ihnen wie besprochen die gewünschten Informationen. Für Rückfragen stehen wir "
        "Ihnen gerne zur Verfügung.",
        "ich wende mich mit einer Frage an Sie: Wer ist in der Verwaltung für die Straßenbeleuchtung in "
        "unserer Straße zuständig? Über eine kurze Antwort würde ich mich freuen.",
    ],
    "sonstiges": [
        "Am {frist} bleibt das Rathaus wegen einer Betriebsversammlung geschlossen. Wir bitten um Verständnis.",
        "Montag: Gemüseeintopf; Dienstag: Schnitzel mit Kartoffelsalat; Mittwoch: Nudelauflauf; "
        "Donnerstag: Fisch; Freitag: Pizza.",
        "Anruf von {name} um {zeit}, bittet um Rückruf wegen Termin. Tel. {phone}. Notiert: Zentrale.",
        "Die Stadt {stadt} lädt alle Bürgerinnen und Bürger herzlich zum Stadtfest am {frist} ein. Für "
        "Musik und Verpflegung ist gesorgt.",
        "Die Stadtbibliothek präsentiert ab {frist} eine Ausstellung zur Stadtgeschichte. Der Eintritt ist frei.",
        "Wegen Bauarbeiten ist der Mitarbeiterparkplatz vom {date} bis {frist} nur eingeschränkt nutzbar.",
        "Termine: Seniorennachmittag, Flohmarkt am Rathausplatz, Lesung in der Stadtbibliothek, "
        "Laternenumzug der Grundschule.",
        "Bitte denken Sie daran, die Kaffeeküche sauber zu hinterlassen. Das Geschirr bitte in die "
        "Spülmaschine räumen.",
    ],
}

OPENINGS = ["Sehr geehrte Damen und Herren,", "Sehr geehrte Frau {last},", "Sehr geehrter Herr {last},",
            "Guten Tag,", "Hallo,", "Sehr geehrte Frau Bürgermeisterin,", "Sehr geehrte Antragstellerin, "
            "sehr geehrter Antragsteller,", "Liebe Kolleginnen und Kollegen,"]
CLOSINGS = ["Mit freundlichen Grüßen", "Mit freundlichem Gruß", "Freundliche Grüße", "Hochachtungsvoll",
            "Im Auftrag", "Beste Grüße", "Mit besten Grüßen", "Viele Grüße"]

# Types whose documents open without a letter salutation (forms, minutes, certificates …).
NO_SALUTATION = {"protokoll", "urkunde", "sonstiges", "vertrag"}

# The second set of phrasings is appended here; FRAMES are re-exported for the generator.
from ._phrases_extra import EXTRA_BODIES, EXTRA_SUBJECTS, FRAMES  # noqa: E402

for _type, _more in EXTRA_SUBJECTS.items():
    SUBJECTS[_type].extend(_more)
for _type, _more in EXTRA_BODIES.items():
    BODIES[_type].extend(_more)

__all__ = ["BODIES", "CLOSINGS", "FRAMES", "NO_SALUTATION", "OPENINGS", "SUBJECTS"]
