"""The classify stage: document type and extracted fields for an OCR result.

Until the classifier lands (see the classification issue) the stage leaves ``doc_type``
empty; its place in the pipeline and its signature are fixed here.
"""

from __future__ import annotations

from ..config import ClassifySettings
from ..models import Classification, OcrResult

STAGE_VERSION = 0


def classify_document(ocr: OcrResult, settings: ClassifySettings) -> Classification:
    """Classify one document from its text."""
    return Classification()
