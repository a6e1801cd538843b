"""Bad inputs are recognised by content, with a reason a clerk can act on."""

import struct
import zlib

import pikepdf
import pytest
from aktenarchiv.config import OcrSettings
from aktenarchiv.errors import QuarantineReason
from aktenarchiv.fsio import sha256_file
from aktenarchiv.ingest.sniff import PDF, PNG, TIFF, sniff


def check(path, **overrides):
    return sniff(path, sha256_file(path), path.stat().st_size, OcrSettings(**overrides))


def reason(path, **overrides) -> str:
    with pytest.raises(QuarantineReason) as info:
        check(path, **overrides)
    assert info.value.path == str(path)
    return info.value.reason


def test_zero_byte(tmp_path):
    empty = tmp_path / "leer.pdf"
    empty.write_bytes(b"")
    with pytest.raises(QuarantineReason, match="empty file"):
        sniff(empty, "0" * 64, 0, OcrSettings())


def test_truncated_pdf(tmp_path, make_scan):
    pdf = make_scan("ganz.pdf")
    cut = tmp_path / "abgeschnitten.pdf"
    cut.write_bytes(pdf.read_bytes()[: pdf.stat().st_size // 2])
    assert "truncated PDF" in reason(cut)


def test_corrupt_pdf(tmp_path):
    bad = tmp_path / "kaputt.pdf"
    bad.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 100 + b"\n%%EOF\n")
    assert "corrupt PDF" in reason(bad)


def test_encrypted_pdf(tmp_path, make_scan):
    plain = make_scan("offen.pdf")
    locked = tmp_path / "gesperrt.pdf"
    with pikepdf.open(plain) as pdf:
        pdf.save(locked, encryption=pikepdf.Encryption(owner="o", user="geheim"))
    assert "encrypted PDF" in reason(locked)


def _white_png(path, width: int, height: int):
    """A valid 1-bit PNG of a white page, its rows deflated one by one (Pillow's encoder
    takes a second for 400 megapixels; this takes a third of it)."""
    row = b"\x00" + b"\xff" * ((width + 7) // 8)  # filter type 0, then the row's bits
    deflate = zlib.compressobj(9)
    data = b"".join(deflate.compress(row) for _ in range(height)) + deflate.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit, greyscale, no interlace
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return path


def test_decompression_bomb(tmp_path):
    bomb = _white_png(tmp_path / "bombe.png", 20000, 20000)  # tiny file, 400 megapixels
    assert bomb.stat().st_size < 200_000
    assert "decompression bomb" in reason(bomb)


def test_unsupported_type_named_like_a_pdf(tmp_path):
    fake = tmp_path / "brief.pdf"
    fake.write_text("Dies ist nur Text.\n", encoding="utf-8")
    assert "unsupported or mislabelled" in reason(fake)


def test_office_document(tmp_path):
    docx = tmp_path / "brief.docx"
    docx.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    assert "ZIP container" in reason(docx)


def test_truncated_image(tmp_path, make_scan):
    png = make_scan("seite.png")
    cut = tmp_path / "halb.png"
    cut.write_bytes(png.read_bytes()[:2000])
    assert "truncated" in reason(cut) or "corrupt" in reason(cut)


def test_mislabelled_image_is_detected_by_content(make_scan, tmp_path):
    png = make_scan("seite.png")
    named_pdf = tmp_path / "scan.pdf"
    named_pdf.write_bytes(png.read_bytes())
    source = check(named_pdf)
    assert source.media_type == PNG
    assert source.mislabelled


def test_multipage_tiff_counts_pages(make_scan):
    tif = make_scan("akte.tif", ["Seite eins"], ["Seite zwei"], ["Seite drei"])
    source = check(tif)
    assert (source.media_type, source.page_count) == (TIFF, 3)


def test_born_digital_pdf_pages_have_text(make_text_pdf):
    source = check(make_text_pdf("digital.pdf", ["Erste Seite mit genug Text darauf"], ["Zweite Seite mit genug Text"]))
    assert (source.media_type, source.page_count, source.text_pages) == (PDF, 2, (1, 2))


def test_file_changed_after_checking_is_refused_by_the_store(tmp_path):
    from aktenarchiv.archive.store import ArchiveStore

    scan = tmp_path / "scan.png"
    scan.write_bytes(b"\x89PNG\r\n\x1a\n" + b"erste Fassung")
    checked = sha256_file(scan)
    scan.write_bytes(b"\x89PNG\r\n\x1a\n" + b"zweite Fassung")  # the scanner was still writing
    store = ArchiveStore(tmp_path / "archiv")
    with pytest.raises(QuarantineReason, match="changed while it was being archived"):
        store.put_original(scan, checked)
    assert not list((tmp_path / "archiv").glob("objects/*/*"))
