"""The training-corpus generator: seeded, labelled German municipal documents with ground truth.

Not part of the classify stage itself: ``akte train`` mixes its documents with the
office's corrections, and ``akte classify-eval`` and the shipped model's figures measure on
its held-out layouts. :mod:`.corpus` is the entry point; ``_phrases``, ``_phrases_extra``
and ``_layouts`` hold its text material. This ``__init__`` imports nothing, so that
``python -m aktenarchiv.classify.synthetic.corpus`` runs the module fresh.
"""
