"""The Transfervermerk as XMP metadata in an archival PDF/A (pikepdf + lxml).

A PDF handed out with ``akte get`` still says who scanned it, when, with which scanner and
profile, the protection need, the page count and the page anomalies. PDF/A allows custom
XMP properties only when the file describes their schema (an ``pdfaExtension`` block, ISO
19005-2 6.6.2.3), so both are written. The metadata stream stays uncompressed, as PDF/A asks.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pikepdf
from lxml import etree

NS = "http://ns.aktenarchiv.org/transfervermerk/1.0/"
PREFIX = "akteTV"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
EXT = {"pdfaExtension": "http://www.aiim.org/pdfa/ns/extension/",
       "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
       "pdfaProperty": "http://www.aiim.org/pdfa/ns/property#"}
# XMP property → (key in the transfer note, description for the schema)
PROPERTIES = {
    "Operator": ("operator", "who scanned the paper"),
    "ScannedAt": ("at", "when the scan was archived (ISO 8601, UTC)"),
    "Scanner": ("scanner", "scanner used"),
    "Profile": ("profile", "scan profile used"),
    "Schutzbedarf": ("schutzbedarf", "protection need: normal, hoch, sehr-hoch"),
    "Pages": ("pages", "number of pages of the original"),
    "ApprovedBy": ("approved_by", "who approved the scan"),
    "Transfervermerk": (None, "the whole transfer note as JSON, as sealed in the archive"),
}
EMPTY_XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="' + RDF.encode() + b'"/></x:xmpmeta>')


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def _extension_schema() -> etree._Element:
    desc = etree.Element(_q(RDF, "Description"), nsmap={"rdf": RDF, **EXT})
    desc.set(_q(RDF, "about"), "")
    bag = etree.SubElement(etree.SubElement(desc, _q(EXT["pdfaExtension"], "schemas")), _q(RDF, "Bag"))
    schema = etree.SubElement(bag, _q(RDF, "li"))
    schema.set(_q(RDF, "parseType"), "Resource")
    for name, value in (("schema", "aktenarchiv Transfervermerk (BSI TR-03138)"), ("namespaceURI", NS),
                        ("prefix", PREFIX)):
        etree.SubElement(schema, _q(EXT["pdfaSchema"], name)).text = value
    seq = etree.SubElement(etree.SubElement(schema, _q(EXT["pdfaSchema"], "property")), _q(RDF, "Seq"))
    for name, (_, description) in PROPERTIES.items():
        prop = etree.SubElement(seq, _q(RDF, "li"))
        prop.set(_q(RDF, "parseType"), "Resource")
        for key, value in (("name", name), ("valueType", "Text"), ("category", "external"),
                           ("description", description)):
            etree.SubElement(prop, _q(EXT["pdfaProperty"], key)).text = value
    return desc


def _values(note: dict[str, Any]) -> etree._Element:
    desc = etree.Element(_q(RDF, "Description"), nsmap={"rdf": RDF, PREFIX: NS})
    desc.set(_q(RDF, "about"), "")
    for name, (key, _) in PROPERTIES.items():
        value = json.dumps(note, ensure_ascii=False, sort_keys=True) if key is None else note.get(key)
        if value is not None:
            etree.SubElement(desc, _q(NS, name)).text = str(value)
    return desc


def embed_transfer_note(pdf_path: Path, note: dict[str, Any]) -> None:
    """Write ``note`` into the XMP metadata of the PDF at ``pdf_path`` (replaced atomically).

    Earlier Transfervermerk descriptions in the file are replaced, the rest of its metadata kept.
    """
    part = pdf_path.with_name(pdf_path.name + ".xmp.part")
    with pikepdf.open(pdf_path) as pdf:
        old = pdf.Root.Metadata.read_bytes() if "/Metadata" in pdf.Root else EMPTY_XMP
        root = etree.fromstring(old, parser=etree.XMLParser(remove_blank_text=True, resolve_entities=False,
                                                            no_network=True))
        rdf = root if root.tag == _q(RDF, "RDF") else root.find(_q(RDF, "RDF"))
        for desc in list(rdf):
            if desc.find(_q(NS, "Transfervermerk")) is not None or (
                    desc.find(_q(EXT["pdfaExtension"], "schemas")) is not None and NS in etree.tostring(desc).decode()):
                rdf.remove(desc)
        rdf.append(_extension_schema())
        rdf.append(_values(note))
        body = etree.tostring(root, encoding="utf-8")
        packet = (b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n' + body
                  + b'\n<?xpacket end="w"?>')
        stream = pikepdf.Stream(pdf, packet)
        stream.Type, stream.Subtype = pikepdf.Name.Metadata, pikepdf.Name.XML
        pdf.Root.Metadata = stream
        pdf.save(part)
    os.replace(part, pdf_path)


def read_transfer_note(pdf_path: Path) -> dict[str, Any] | None:
    """The Transfervermerk embedded in a PDF, or None."""
    with pikepdf.open(pdf_path) as pdf:
        if "/Metadata" not in pdf.Root:
            return None
        root = etree.fromstring(pdf.Root.Metadata.read_bytes(), parser=etree.XMLParser(resolve_entities=False,
                                                                                      no_network=True))
    found = root.find(f".//{_q(NS, 'Transfervermerk')}")
    return json.loads(found.text) if found is not None and found.text else None
