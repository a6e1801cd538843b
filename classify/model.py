"""The learned document-type model and its file format.

Features are TF-IDF word uni/bigrams beside character n-grams inside word boundaries
(``char_wb`` 3–5): an OCR error such as "Bescbeid" still shares most of its character
n-grams with "Bescheid", where a word feature would be lost. A linear SVM separates the
types; ``CalibratedClassifierCV`` (sigmoid, 3-fold) turns its margins into probabilities
that mean what they say, so the review threshold is a real confidence and not a score.

File format (one zip file, written to ``<name>.part`` and renamed)::

    meta.json        format name + version, created (UTC), labels, metrics, training
                     counts, scikit-learn version, text preprocessing id,
                     sha256 of estimator.pkl
    estimator.pkl    the fitted scikit-learn pipeline (pickle)

Loading checks all of it and raises :class:`ModelError` with the reason; nothing is
silently ignored or deleted. A pickle is only as trustworthy as its source: models are
files an office trains itself or the one shipped with the package.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import ModelError
from ..fsio import atomic_open
from ..textnorm import fold_ocr

FORMAT = "aktenarchiv-classifier"
FORMAT_VERSION = 1
# Bump when normalise() changes: a model trained on other normalised text must not load.
PREPROCESS = "fold-umlaut-digits-v1"
MAX_CHARS = 20_000  # the first pages decide the type; long files need not slow ingest

_DIGITS = re.compile(r"\d")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Text as the model sees it: lower case, umlauts folded, digits as ``0``.

    Umlauts are folded because OCR drops them unpredictably; digits are masked because
    dates, amounts and case numbers differ in every document and only their shape matters.
    """
    text = fold_ocr(text[:MAX_CHARS])
    return _SPACE.sub(" ", _DIGITS.sub("0", text)).strip()


def build_estimator() -> Any:
    """A fresh, unfitted pipeline (features + calibrated linear classifier)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.svm import LinearSVC

    features = FeatureUnion([
        ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=2, max_features=20_000,
                                  sublinear_tf=True, dtype=np.float32)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, max_features=30_000,
                                  sublinear_tf=True, dtype=np.float32)),
    ])
    # ensemble=False: one SVM on all data plus calibrators fitted on cross-validated
    # predictions. Three times smaller on disk than an ensemble of three, same calibration.
    classifier = CalibratedClassifierCV(LinearSVC(C=0.5), method="sigmoid", cv=3, ensemble=False)
    return Pipeline([("features", features), ("clf", classifier)])


@dataclass(frozen=True)
class TextModel:
    """A fitted estimator plus its metadata."""

    estimator: Any
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> tuple[str, ...]:
        """The document types this model knows, in the order of its probability columns."""
        return tuple(self.meta["labels"])

    @property
    def model_id(self) -> str:
        """Short id for ``Classification.method`` (``model:<id>``): created date + hash prefix."""
        return f"{self.meta.get('created', '')[:10]}-{self.meta.get('estimator_sha256', '')[:8]}"

    def probabilities(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Calibrated probability of every label for each text."""
        matrix = self.estimator.predict_proba([normalise(t) for t in texts])
        return [dict(zip(self.labels, map(float, row))) for row in matrix]

    def rank(self, text: str) -> list[tuple[str, float]]:
        """Labels of one text, most probable first."""
        probs = self.probabilities([text])[0]
        return sorted(probs.items(), key=lambda kv: kv[1], reverse=True)


def train_model(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    sample_weight: Sequence[float] | None = None,
    metrics: dict[str, Any] | None = None,
    source: str = "",
) -> TextModel:
    """Fit a model on labelled texts.

    Args:
        texts: document texts (OCR output or text files).
        labels: the document type of each text.
        sample_weight: optional weight per text (clerks' corrections count more).
        metrics: evaluation figures to store in the model's metadata.
        source: a short note on where the training data came from.

    Raises:
        ModelError: fewer than two types, or a type with fewer than 3 examples (the
            calibration needs three folds).
    """
    import sklearn

    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    if len(counts) < 2:
        raise ModelError(f"training needs examples of at least two types, got {sorted(counts)}")
    thin = sorted(t for t, n in counts.items() if n < 3)
    if thin:
        raise ModelError(f"training needs at least 3 examples per type; too few for: {', '.join(thin)}")
    estimator = build_estimator()
    fit_params = {"clf__sample_weight": list(sample_weight)} if sample_weight is not None else {}
    estimator.fit([normalise(t) for t in texts], list(labels), **fit_params)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "labels": [str(c) for c in estimator.classes_],
        "counts": dict(sorted(counts.items())),
        "metrics": metrics or {},
        "sklearn_version": sklearn.__version__,
        "preprocess": PREPROCESS,
        "source": source,
    }
    return TextModel(estimator, meta)


def save_model(model: TextModel, path: str | Path, *, metrics: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write a model file atomically (``.part``, fsync, rename); returns the metadata written."""
    path = Path(path)
    blob = pickle.dumps(model.estimator, protocol=5)
    meta = dict(model.meta, estimator_sha256=hashlib.sha256(blob).hexdigest())
    if metrics is not None:
        meta["metrics"] = metrics
    with atomic_open(path) as fh, zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("meta.json", json.dumps(meta, ensure_ascii=False, indent=1, sort_keys=True))
        zf.writestr("estimator.pkl", blob)
    return meta


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def load_model(path: str | Path) -> TextModel:
    """Read and check a model file.

    Raises:
        ModelError: the file is missing, not a zip, of a foreign format or newer format
            version, was written by another scikit-learn minor version, or its estimator
            does not match the recorded checksum or labels.
    """
    import sklearn

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file {path} does not exist (train one with `akte train`)")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if not {"meta.json", "estimator.pkl"} <= names:
                raise ModelError(f"{path} is not an aktenarchiv model (meta.json/estimator.pkl missing)")
            meta = json.loads(zf.read("meta.json").decode("utf-8"))
            blob = zf.read("estimator.pkl")
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelError(f"{path} is not an aktenarchiv model file ({exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: meta.json is unreadable ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelError(f"{path} is a foreign file (format {meta.get('format') if isinstance(meta, dict) else '?'!r})")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"{path} has model format version {meta.get('format_version')}, this aktenarchiv reads "
            f"version {FORMAT_VERSION}; retrain with `akte train`"
        )
    if meta.get("preprocess") != PREPROCESS:
        raise ModelError(f"{path} expects text preprocessing {meta.get('preprocess')!r}, not {PREPROCESS!r}")
    if _minor(str(meta.get("sklearn_version"))) != _minor(sklearn.__version__):
        # A pickle is only safe to load under the minor version that wrote it; pyproject.toml
        # pins the one the shipped model needs.
        raise ModelError(
            f"{path} was trained with scikit-learn {meta.get('sklearn_version')}, this is "
            f"{sklearn.__version__}; install scikit-learn {_minor(str(meta.get('sklearn_version')))}.x "
            "or retrain with `akte train`"
        )
    if hashlib.sha256(blob).hexdigest() != meta.get("estimator_sha256"):
        raise ModelError(f"{path} is damaged: estimator checksum does not match meta.json")
    try:
        estimator = pickle.load(io.BytesIO(blob))
    except Exception as exc:  # any unpickling failure means the same thing to the caller
        raise ModelError(f"{path}: estimator cannot be loaded ({type(exc).__name__}: {exc})") from None
    classes = [str(c) for c in getattr(estimator, "classes_", [])]
    if classes != list(meta.get("labels", [])):
        raise ModelError(f"{path}: estimator labels {classes} differ from meta.json {meta.get('labels')}")
    return TextModel(estimator, meta)


@lru_cache(maxsize=4)
def _load_cached(path: str, mtime_ns: int, size: int) -> TextModel:
    return load_model(path)


def get_model(path: str | Path) -> TextModel:
    """A loaded model, cached per path; a rewritten file (retraining) is loaded afresh."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        raise ModelError(f"model file {path} does not exist (train one with `akte train`)") from None
    return _load_cached(str(path.resolve()), stat.st_mtime_ns, stat.st_size)
