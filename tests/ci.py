"""A test whose tool or service is missing: skipped on a developer's machine, failed in CI.

CI (``CI=true``) must never pass by not checking, so there a missing Elasticsearch node,
veraPDF or chromium is a failure. Tesseract has no such way out: a test that needs it runs it.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def unavailable(message: str) -> NoReturn:
    """Skip the test because of ``message``; fail it instead when ``CI=true``."""
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
