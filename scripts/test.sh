#!/usr/bin/env bash
# Run the whole test suite: set up (idempotent), start a local Elasticsearch node for the
# backend tests, run pytest, stop the node again. Extra arguments go to pytest.
# --fast: only the fast tier (pytest -m "not slow": fake OCR engines, no Elasticsearch node),
# which runs on every core (pyproject's -n auto; tests/conftest.py decides); the whole suite
# runs in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "${1:-}" = "--fast" ]; then
  shift
  exec .venv/bin/python -m pytest -m "not slow" "$@"
fi
if [ -f scripts/elasticsearch.sh ] && [ -z "${AKTE_ES_URL:-}" ]; then
  bash scripts/elasticsearch.sh start
  trap 'bash scripts/elasticsearch.sh stop' EXIT
  export AKTE_ES_URL=http://127.0.0.1:${AKTE_ES_PORT:-9200}
fi
.venv/bin/python -m pytest "$@"
