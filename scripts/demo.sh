#!/usr/bin/env bash
# Ingest the bundled samples (real public scans and born-digital PDFs, plus German letters
# drawn on the fly) into ./demo-archiv with the embedded backend, then search them.
set -euo pipefail
cd "$(dirname "$0")/.."
export AKTE_ARCHIVE=${AKTE_ARCHIVE:-$PWD/demo-archiv}
.venv/bin/python scripts/make_letters.py samples/briefe
.venv/bin/akte ingest samples/scans samples/born-digital samples/briefe
for query in "Rechnung" "Antrag" "Mueller Strasse" "sequencer"; do
  echo; echo "\$ akte search \"$query\""
  .venv/bin/akte search "$query" --limit 3
done
echo; echo "archive: $AKTE_ARCHIVE  (try: .venv/bin/akte --archive $AKTE_ARCHIVE list)"
