"""Rebuild the shipped default model from the synthetic corpus (a developer's tool).

    .venv/bin/python scripts/train_default_model.py [--n 3000] [--seed 0] [--out PATH]

Trains on the training layouts/phrasings, evaluates on a held-out corpus (layouts and
phrasings never used in training), stores those figures in the model's ``meta.json``,
and writes the model (default: ``classify/data/default_model.zip`` of the checkout the
editable install points at; commit it from there). It is a script, not a module of the
package: an installed package must not write into itself.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from aktenarchiv.classify.evaluate import held_out_metrics
from aktenarchiv.classify.model import TextModel, save_model
from aktenarchiv.classify.stage import shipped_model_path
from aktenarchiv.classify.train import base_corpus, train_from_examples
from aktenarchiv.config import ClassifySettings


def build_default(n: int = 3000, seed: int = 0, n_eval: int = 600) -> tuple[TextModel, dict]:
    """Train on ``n`` generated documents and measure on ``n_eval`` held-out ones."""
    model = train_from_examples(base_corpus(n, seed=seed), source=f"synthetic corpus n={n} seed={seed}")
    return model, held_out_metrics(model, ClassifySettings(), n_eval, seed=seed + 1)


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description="Rebuild the shipped default classifier model.")
    parser.add_argument("--n", type=int, default=3000, help="generated training documents")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="model file (default: the shipped one)")
    args = parser.parse_args(argv)
    model, metrics = build_default(args.n, args.seed)
    out = args.out or shipped_model_path()
    save_model(model, out, metrics=metrics)
    print(json.dumps(metrics, indent=1))
    print(f"model written to {out} ({out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
