#!/usr/bin/env bash
# Set up aktenarchiv on Debian 12 (or newer): system packages, then a virtualenv in .venv
# with the project and its test tools. Safe to run again: it installs only what is missing.
#
#   bash scripts/setup.sh           # install
#   bash scripts/setup.sh --demo    # install, then ingest the bundled samples and search them
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  tesseract-ocr tesseract-ocr-deu tesseract-ocr-eng   # OCR engine + German/English models
  ghostscript qpdf unpaper pngquant                   # used by ocrmypdf
  hunspell-de-de                                      # German word list: compound splitting
  fonts-dejavu-core                                   # fonts for test and demo pages
  python3 python3-venv python3-pip
  openjdk-17-jre-headless maven unzip curl            # the local Elasticsearch node (tests)
  chromium chromium-driver                            # the web archive's browser tests (Selenium)
  chromium-l10n                                       # German browser locale for docs/suche.png (scripts/screenshot.py)
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 needed"' || {
  echo "setup: $PYTHON is older than 3.11" >&2; exit 1; }
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# Reinstall only when pyproject.toml changed since the last successful install.
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "setup: installing the Python packages into .venv (log: .venv/pip.log)"
  { .venv/bin/python -m pip install --upgrade pip && .venv/bin/python -m pip install -e '.[test]'; } \
    > .venv/pip.log 2>&1 || { tail -30 .venv/pip.log >&2; exit 1; }
  rm -f .venv/.installed-*
  touch "$stamp"
fi
.venv/bin/akte --version

if [ "${1:-}" = "--demo" ]; then
  exec bash scripts/demo.sh
fi
