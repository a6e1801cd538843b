"""Rebuild the shipped default model from the synthetic corpus.

    python -m aktenarchiv.classify.train_default [--n 3000] [--seed 0] [--out PATH]

Trains on the training layouts/phrasings, evaluates on a held-out corpus (layouts and
phrasings never used in training), stores those figures in the model's ``meta.json``,
and writes the model (default: ``classify/data/default_model.zip`` in the package).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..config import ClassifySettings
from .corpus import generate_corpus
from .evaluate import evaluate
from .model import save_model
from .stage import shipped_model_path
from .train import LabelledText, base_corpus, train_from_examples


def build_default(n: int = 3000, seed: int = 0, n_eval: int = 600) -> tuple[object, dict]:
    """Train on ``n`` generated documents and evaluate on ``n_eval`` held-out ones."""
    model = train_from_examples(base_corpus(n, seed=seed), source=f"synthetic corpus n={n} seed={seed}")
    held = generate_corpus(n_eval, seed=seed + 1, held_out=True)
    items = [LabelledText(text, t.doc_type, str(i)) for i, (text, t) in enumerate(held)]
    truth = {str(i): t.__dict__ for i, (_, t) in enumerate(held)}
    report = evaluate(model, items, settings=ClassifySettings(), truth=truth)
    metrics = {k: report[k] for k in ("n", "accuracy", "macro_f1", "abstain_rate", "accuracy_decided",
                                      "review_threshold")}
    metrics["evaluated_on"] = "held-out synthetic layouts/phrasings"
    metrics["extraction_precision"] = {k: v["precision"] for k, v in report["extraction"].items()}
    return model, {"metrics": metrics, "report": report}


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description="Rebuild the shipped default classifier model.")
    parser.add_argument("--n", type=int, default=3000, help="generated training documents")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="model file (default: the shipped one)")
    args = parser.parse_args(argv)
    model, result = build_default(args.n, args.seed)
    out = args.out or shipped_model_path()
    save_model(model, out, metrics=result["metrics"])
    print(json.dumps(result["metrics"], indent=1))
    print(f"model written to {out} ({out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
