"""``python -m aktenarchiv`` runs the ``akte`` command."""

from .cli import main

main()
