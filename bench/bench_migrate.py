"""Benchmark the migration jobs on N synthetic documents: time and peak memory.

Writes N tiny born-digital PDFs (distinct text, written directly as PDF syntax so that
making 10 000 of them takes seconds), then times, each in its own ``akte`` process:

1. ``migrate import-paperless`` of a paperless-ngx-style export of them (text kept, no OCR);
2. ``migrate import-folder`` of the same files with a CSV of metadata (text layers read);
3. ``migrate export`` of the archive from 2, then ``migrate import`` of it into an empty one.

Peak memory is the maximum resident set size of the ``akte`` process (worker processes
hold one document each and are not included).

Usage: .venv/bin/python bench/bench_migrate.py [--n 10000] [--workers 2]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = "Antrag Bescheid Gebühr Grundstück Verwaltung Prüfung Frist Genehmigung Zahlung Eingang".split()


def tiny_pdf(text: str) -> bytes:
    """A one-page PDF with one line of text in Helvetica (WinAnsi covers German letters)."""
    stream = f"BT /F1 14 Tf 72 760 Td ({text}) Tj ET".encode("cp1252")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def make_corpus(root: Path, n: int) -> tuple[Path, Path, Path]:
    files = root / "share"
    files.mkdir()
    export = root / "paperless"
    export.mkdir()
    rows, manifest = [], [{"model": "documents.documenttype", "pk": 1, "fields": {"name": "Antrag"}}]
    for i in range(n):
        text = f"Vorgang {i}: " + " ".join(WORDS[(i + k) % len(WORDS)] for k in range(8))
        data = tiny_pdf(text)
        name = f"{i // 1000:03d}/akte_{i:06d}.pdf"
        (files / name).parent.mkdir(exist_ok=True)
        (files / name).write_bytes(data)
        (export / f"{i:07d}.pdf").write_bytes(data)
        rows.append({"Pfad": name, "Typ": "antrag", "Aktenzeichen": f"32-2024-{i:06d}", "Datum": "05.03.2024"})
        manifest.append({"model": "documents.document", "pk": i + 1, "fields": {
            "title": f"Akte {i}", "content": text, "created": "2024-03-05", "document_type": 1, "tags": [],
            "checksum": hashlib.md5(data).hexdigest()}, "__exported_file_name__": f"{i:07d}.pdf"})
    meta = root / "metadaten.csv"
    with open(meta, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    (export / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return files, meta, export


def run(label: str, archive: Path, *args: str) -> dict:
    cmd = [sys.executable, "-m", "aktenarchiv", "--archive", str(archive), "migrate", *args, "--json"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    report = json.loads(out)
    peak_mib = usage.ru_maxrss / 1024
    items = sum(report["counts"].values())
    print(f"{label:<28} {elapsed:8.1f} s  {items / elapsed:8.1f} items/s  peak RSS {peak_mib:6.0f} MiB  {report['counts']}")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="akte-bench-migrate-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        files, meta, export = make_corpus(root, args.n)
        print(f"{args.n} documents made in {time.perf_counter() - start:.1f} s; {os.cpu_count()} cores, "
              f"--workers {args.workers}")
        w = ["--workers", str(args.workers)]
        run("import-paperless", root / "a1", "import-paperless", str(export), *w)
        run("import-folder + CSV", root / "a2", "import-folder", str(files), "--metadata", str(meta), *w)
        run("export", root / "a2", "export", str(root / "export"), *w)
        run("import (export → empty)", root / "a3", "import", str(root / "export"), *w)


if __name__ == "__main__":
    main()
