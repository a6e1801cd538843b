"""aktenarchiv: scanned paper → ingest → ocr → classify → archive → search."""

__version__ = "0.1.0"
__all__ = ["__version__"]
