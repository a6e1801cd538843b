"""Training data from the office: labelled folders, corrected records, the synthetic base.

A labelled directory has one folder per document type (``antrag/``, ``rechnung/`` …).
Text files (``.txt``) are read directly; scans and PDFs go through a ``text_of(path)``
callable, normally the OCR stage, so training sees the same text the classifier will.
Corrected archive records (``akte label``) are the clerks' own verdicts; they weigh more
than generated documents so a handful of corrections can move the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from ..errors import InputFileError, ModelError
from ..models import ArchiveRecord
from .model import TextModel, train_model

TEXT_SUFFIXES = {".txt"}
SCAN_SUFFIXES = {".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff"}
CORRECTION_WEIGHT = 10.0  # one clerk's correction counts like ten generated documents


@dataclass(frozen=True, slots=True)
class LabelledText:
    """One training or evaluation example; ``key`` identifies it (relative path or record id)."""

    text: str
    label: str
    key: str = ""
    weight: float = 1.0


def load_labelled_dir(
    root: str | Path,
    *,
    taxonomy: Sequence[str] | None = None,
    text_of: Callable[[Path], str] | None = None,
) -> list[LabelledText]:
    """Examples from a folders-per-type directory.

    Args:
        root: directory whose sub-folders are named after document types.
        taxonomy: when given, folders with other names are an error (a typo in a folder
            name must not create a new type).
        text_of: returns the text of a scan or PDF; without it such files are an error.

    Raises:
        InputFileError: the directory is missing or empty, a folder is not a known type,
            or a scan is found but no ``text_of`` was given.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputFileError(str(root), "labelled directory not found")
    items: list[LabelledText] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if taxonomy is not None and folder.name not in taxonomy:
            raise InputFileError(str(folder), f"folder name is not a document type ({', '.join(taxonomy)})")
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            suffix = path.suffix.lower()
            if suffix in TEXT_SUFFIXES:
                text = path.read_text(encoding="utf-8", errors="replace")
            elif suffix in SCAN_SUFFIXES:
                if text_of is None:
                    raise InputFileError(str(path), "scans need OCR; no text_of function was given")
                text = text_of(path)
            else:
                continue
            items.append(LabelledText(text, folder.name, str(path.relative_to(root))))
    if not items:
        raise InputFileError(str(root), "no labelled documents (.txt or scans in folders per type)")
    return items


def corrected_records(records: Iterable[ArchiveRecord]) -> list[LabelledText]:
    """Records a clerk labelled by hand (``method == "manual"``), as weighted examples."""
    items = []
    for record in records:
        cls = record.classification
        if cls.method == "manual" and cls.doc_type:
            text = "\f".join(p.text for p in record.pages)
            items.append(LabelledText(text, cls.doc_type, record.id, CORRECTION_WEIGHT))
    return items


def base_corpus(n: int = 3000, *, seed: int = 0, taxonomy: Sequence[str] | None = None) -> list[LabelledText]:
    """Generated training documents (training layouts/phrasings only)."""
    # Imported here so that ``python -m aktenarchiv.classify.synthetic.corpus`` does not
    # find the module already imported through classify's __init__.
    from .synthetic.corpus import generate_corpus

    docs = generate_corpus(n, seed=seed, held_out=False)
    return [LabelledText(text, t.doc_type, f"generated/{i}") for i, (text, t) in enumerate(docs)
            if taxonomy is None or t.doc_type in taxonomy]


def train_from_examples(
    examples: Sequence[LabelledText], *, metrics: dict | None = None, source: str = ""
) -> TextModel:
    """Fit a model on examples, honouring their weights.

    Raises:
        ModelError: no examples, or too few per type (see ``model.train_model``).
    """
    if not examples:
        raise ModelError("nothing to train on")
    weights = [e.weight for e in examples]
    uniform = all(w == 1.0 for w in weights)
    return train_model(
        [e.text for e in examples],
        [e.label for e in examples],
        sample_weight=None if uniform else weights,
        metrics=metrics,
        source=source,
    )


def describe_examples(examples: Sequence[LabelledText]) -> dict[str, int]:
    """Examples per label, for progress output."""
    counts: dict[str, int] = {}
    for example in examples:
        counts[example.label] = counts.get(example.label, 0) + 1
    return dict(sorted(counts.items()))
