"""Document types and extracted fields: rules, a calibrated learned model, review queue.

The pipeline calls :func:`classify_document` once per document with a model loaded once per
run by :func:`load_stage_model`; the CLI commands live in
:mod:`aktenarchiv.commands.classify`.
"""

from .evaluate import evaluate
from .extract import extract_fields
from .model import TextModel, get_model, load_model, save_model
from .stage import (
    STAGE_VERSION,
    classify_document,
    load_stage_model,
    resolve_model_path,
    shipped_model_path,
)
from .train import (
    LabelledText,
    corrected_records,
    load_labelled_dir,
    train_from_examples,
)

__all__ = [
    "STAGE_VERSION",
    "LabelledText",
    "TextModel",
    "classify_document",
    "corrected_records",
    "evaluate",
    "extract_fields",
    "get_model",
    "load_labelled_dir",
    "load_model",
    "load_stage_model",
    "resolve_model_path",
    "save_model",
    "shipped_model_path",
    "train_from_examples",
]
