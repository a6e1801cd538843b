"""The classify stage: document type and extracted fields for an OCR result.

Order of decisions, each visible in the returned ``Classification.method``:

1. ``rule:<type>`` — a rule from the settings file matched; the office's word beats the model.
2. ``model:<id>`` — the learned model is at least ``review_threshold`` sure.
3. ``model:<id>`` with ``doc_type=None``, ``needs_review=True`` and the model's best guess in
   ``suggested_type`` — the model is not sure enough. The type stays empty on purpose: clerks
   filter by ``--type`` and a record office treats a filed type as decided; an unsure guess
   would misfile silently. The suggestion (and its confidence) is kept for the review queue,
   where a clerk confirms it with ``akte label``.

The pipeline loads the model once per run and passes it in::

    model = load_stage_model(settings.classify, settings.archive_dir)
    classification = classify_document(ocr, settings.classify, model=model)
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..config import ClassifySettings
from ..models import Classification, OcrResult
from .extract import extract_fields
from .model import TextModel, get_model
from .rules import compile_rules, match_rules

STAGE_VERSION = 1
ARCHIVE_MODEL = Path("model") / "classifier.zip"  # relative to the archive directory
SHIPPED_MODEL = "default_model.zip"  # in aktenarchiv/classify/data/


def shipped_model_path() -> Path:
    """The default model that ships with the package (trained on the synthetic corpus)."""
    return Path(str(resources.files("aktenarchiv.classify") / "data" / SHIPPED_MODEL))


def archive_model_path(archive_dir: str | Path) -> Path:
    """Where ``akte train`` writes an archive's own model."""
    return Path(archive_dir) / ARCHIVE_MODEL


def resolve_model_path(settings: ClassifySettings, archive_dir: str | Path | None) -> Path:
    """The model file the stage uses.

    ``settings.model_path`` when set (relative paths are taken from the archive directory);
    else the archive's own trained model when it exists; else the shipped default.
    """
    if settings.model_path:
        path = Path(settings.model_path).expanduser()
        if not path.is_absolute() and archive_dir is not None:
            path = Path(archive_dir) / path
        return path
    if archive_dir is not None and archive_model_path(archive_dir).is_file():
        return archive_model_path(archive_dir)
    return shipped_model_path()


def load_stage_model(settings: ClassifySettings, archive_dir: str | Path | None) -> TextModel:
    """The (cached) model for these settings, with the rules checked too.

    Called once at the start of a run, so that a broken rule or model stops it before any OCR.

    Raises:
        ModelError: the model cannot be loaded.
        ConfigError: a rule names an unknown type or has an invalid regex.
    """
    compile_rules(settings.rules, settings.taxonomy)
    return get_model(resolve_model_path(settings, archive_dir))


def _decide(ranked: list[tuple[str, float]], settings: ClassifySettings,
            model_id: str) -> tuple[str | None, float, bool, str, str | None]:
    """``(doc_type, confidence, needs_review, method, suggested_type)`` from the model's ranked labels."""
    best, confidence = ranked[0]
    method = f"model:{model_id}"
    # Only types of the office's taxonomy may be filed; a model trained on another taxonomy
    # can still suggest, but never decide, a type outside it.
    if confidence < settings.review_threshold or best not in settings.taxonomy:
        return None, round(confidence, 4), True, method, best
    return best, round(confidence, 4), False, method, None


def classify_document(
    ocr: OcrResult, settings: ClassifySettings, *, model: TextModel | None = None
) -> Classification:
    """Classify one document from its text and extract its fields.

    Args:
        ocr: the OCR stage's result (per-page text).
        settings: the classify slice of the settings (taxonomy, threshold, rules, model path).
        model: a loaded model; when None the model of ``resolve_model_path(settings, None)``
            is loaded (cached), i.e. ``settings.model_path`` or the shipped default. It is
            not loaded at all when a rule decides.

    Raises:
        ModelError: no model was given and the configured one cannot be loaded.
        ConfigError: a rule is invalid.
    """
    fields, doc_date, reference = extract_fields(ocr.pages)
    text = ocr.text
    hit = match_rules(text, compile_rules(settings.rules, settings.taxonomy))
    if hit is not None:
        doc_type, confidence, needs_review, method, suggestion = hit[0], 1.0, False, f"rule:{hit[0]}", None
    else:
        model = model if model is not None else load_stage_model(settings, None)
        doc_type, confidence, needs_review, method, suggestion = _decide(model.rank(text), settings, model.model_id)
    return Classification(
        doc_type=doc_type,
        confidence=confidence,
        needs_review=needs_review,
        method=method,
        fields=fields,
        doc_date=doc_date,
        reference=reference,
        suggested_type=suggestion,
    )
