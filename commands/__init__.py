"""The command groups of ``akte``, one module each; ``cli.py`` joins them."""
