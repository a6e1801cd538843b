"""Measure the classify stage on labelled documents: type accuracy, abstention, extraction.

The figures are those of the stage as the pipeline runs it (rules, model, review threshold,
field extraction), not of the bare estimator. Type figures come in two views: *top-1*
(the best guess, also for documents sent to review) and *decided* (only documents not sent
to review: what ends up filed without a clerk). Extraction precision needs ground truth,
as written by the corpus generator (``truth.json``).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Mapping, Sequence

from ..config import ClassifySettings
from ..models import Classification, OcrResult, PageText
from .model import TextModel
from .stage import classify_document
from .train import LabelledText

_KINDS = {"date": "dates", "iban": "ibans", "aktenzeichen": "references", "amount": "amounts"}


def ocr_of_text(text: str, key: str = "") -> OcrResult:
    """An ``OcrResult`` for plain text; form feeds separate pages."""
    pages = tuple(PageText(i, page, "text-layer", None) for i, page in enumerate(text.split("\f"), start=1))
    return OcrResult(source_sha256=key, pages=pages, engine="text", archival_pdf=None)


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _type_metrics(gold: list[str], guess: list[str | None], labels: list[str]) -> dict[str, Any]:
    per_type = {}
    f1s = []
    for label in labels:
        tp = sum(1 for g, p in zip(gold, guess) if g == label and p == label)
        predicted = sum(1 for p in guess if p == label)
        support = sum(1 for g in gold if g == label)
        precision, recall = _ratio(tp, predicted), _ratio(tp, support)
        f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0
        if support:
            f1s.append(f1)
        per_type[label] = {"precision": precision, "recall": recall, "f1": round(f1, 4), "support": support}
    confusion = {g: {p: 0 for p in labels} for g in labels}
    for g, p in zip(gold, guess):
        if g in confusion and p in confusion[g]:
            confusion[g][p] += 1
    return {"per_type": per_type, "macro_f1": round(sum(f1s) / len(f1s), 4) if f1s else None,
            "confusion": confusion}


def _extraction(results: list[Classification], truths: list[Mapping[str, Any] | None]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind, key in _KINDS.items():
        found = correct = truth_total = truth_found = 0
        for cls, truth in zip(results, truths):
            if truth is None:
                continue
            expected = set(truth.get(key, ()))
            values = [f.value for f in cls.fields if f.kind == kind]
            found += len(values)
            correct += sum(1 for v in values if v in expected)
            truth_total += len(expected)
            truth_found += len(expected & set(values))
        out[key] = {"found": found, "precision": _ratio(correct, found), "recall": _ratio(truth_found, truth_total)}
    picked = [(c.doc_date, t.get("doc_date")) for c, t in zip(results, truths) if t is not None and c.doc_date]
    with_truth = sum(1 for t in truths if t is not None and t.get("doc_date"))
    out["doc_date"] = {"found": len(picked), "precision": _ratio(sum(1 for p, t in picked if p == t), len(picked)),
                       "recall": _ratio(sum(1 for p, t in picked if p == t), with_truth)}
    return out


def evaluate(
    model: TextModel | None,
    items: Sequence[LabelledText],
    *,
    settings: ClassifySettings | None = None,
    truth: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Run the classify stage over labelled items and measure it.

    Args:
        model: the model to use (None: what the settings resolve to, see ``classify_document``).
        items: labelled texts; ``item.key`` looks up the item's ground truth.
        settings: classify settings (threshold, rules); defaults when None.
        truth: ground truth per key (``truth.json`` of the corpus generator) for the
            extraction figures; without it those are left out.

    Returns:
        A JSON-ready dict: ``n``, ``accuracy`` (top-1), ``macro_f1``, ``per_type``,
        ``confusion`` (gold → predicted → count), ``abstain_rate``, ``accuracy_decided``,
        ``decided``, ``extraction`` (per kind: found, precision, recall), ``ms_per_document``.
    """
    settings = settings or ClassifySettings()
    if model is not None:
        labels = sorted(set(model.labels) | {i.label for i in items})
    else:
        labels = sorted(set(settings.taxonomy) | {i.label for i in items})
    results, elapsed = [], []
    for item in items:
        ocr = ocr_of_text(item.text, item.key)
        start = time.perf_counter()
        results.append(classify_document(ocr, settings, model=model))
        elapsed.append(time.perf_counter() - start)
    gold = [i.label for i in items]
    top1 = [c.doc_type or c.suggested_type for c in results]
    decided = [(g, c.doc_type) for g, c in zip(gold, results) if not c.needs_review]
    report: dict[str, Any] = {
        "n": len(items),
        "model": model.model_id if model is not None else None,
        "review_threshold": settings.review_threshold,
        "accuracy": _ratio(sum(1 for g, p in zip(gold, top1) if g == p), len(items)),
        "abstain_rate": _ratio(len(items) - len(decided), len(items)),
        "decided": len(decided),
        "accuracy_decided": _ratio(sum(1 for g, p in decided if g == p), len(decided)),
    }
    report.update(_type_metrics(gold, top1, labels))
    if truth is not None:
        report["extraction"] = _extraction(results, [truth.get(i.key) for i in items])
    ordered = sorted(elapsed)
    report["ms_per_document"] = {
        "mean": round(1000 * sum(elapsed) / len(elapsed), 2) if elapsed else None,
        "p95": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 2) if ordered else None,
    }
    return report


def threshold_sweep(model: TextModel, items: Sequence[LabelledText], thresholds: Sequence[float]) -> list[dict]:
    """Abstain rate and decided accuracy per review threshold (to choose one)."""
    probs = model.probabilities([i.text for i in items])
    rows = []
    for threshold in thresholds:
        decided = [(i.label, max(p, key=p.get)) for i, p in zip(items, probs) if max(p.values()) >= threshold]
        rows.append({"threshold": threshold, "abstain_rate": _ratio(len(items) - len(decided), len(items)),
                     "accuracy_decided": _ratio(sum(1 for g, p in decided if g == p), len(decided))})
    return rows


def with_threshold(settings: ClassifySettings, threshold: float) -> ClassifySettings:
    """Settings with another review threshold (for sweeps and tests)."""
    return replace(settings, review_threshold=threshold)


def held_out_metrics(model: TextModel, settings: ClassifySettings, n: int, seed: int = 1) -> dict[str, Any]:
    """The headline figures of ``model`` on ``n`` generated held-out documents (for meta.json)."""
    from .synthetic.corpus import generate_corpus  # the generator is only needed when measuring

    docs = generate_corpus(n, seed=seed, held_out=True, taxonomy=settings.taxonomy)
    items = [LabelledText(text, t.doc_type, str(i)) for i, (text, t) in enumerate(docs)]
    report = evaluate(model, items, settings=settings, truth={str(i): t.__dict__ for i, (_, t) in enumerate(docs)})
    metrics = {k: report[k] for k in ("n", "accuracy", "macro_f1", "abstain_rate", "accuracy_decided",
                                      "review_threshold")}
    metrics["evaluated_on"] = "held-out synthetic layouts/phrasings"
    metrics["extraction_precision"] = {k: v["precision"] for k, v in report["extraction"].items()}
    return metrics
