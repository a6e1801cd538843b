"""Rules an office writes in its settings file; a matching rule overrides the model.

```toml
[classify.rules.rechnung]
keywords = ["Rechnungsnummer", "Zahlungsziel"]
patterns = ['Re\\.-Nr\\.\\s*\\d+']
```

Keywords match case-insensitively, with umlauts and ß folded on both sides
(:func:`aktenarchiv.textnorm.fold_ocr`) so that OCR output without umlauts
("Gebuhrenbescheid") still hits "Gebührenbescheid". Rules are tried
in the order of the settings file; the first that matches decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..config_sources import RULE_FLAGS
from ..errors import ConfigError
from ..textnorm import fold_ocr


@dataclass(frozen=True, slots=True)
class Rule:
    """One document type's keywords and compiled patterns."""

    doc_type: str
    keywords: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]

    def matches(self, text: str, folded: str) -> str | None:
        """The keyword or pattern that matched (for the audit), else None."""
        for keyword in self.keywords:
            if keyword in folded:
                return keyword
        for pattern in self.patterns:
            if pattern.search(text):
                return pattern.pattern
        return None


@lru_cache(maxsize=16)
def compile_rules(
    rules: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...], taxonomy: tuple[str, ...]
) -> tuple[Rule, ...]:
    """Check and compile ``settings.rules`` once per distinct settings value.

    Raises:
        ConfigError: a rule names a type outside the taxonomy or has an invalid regex.
    """
    compiled = []
    for doc_type, keywords, patterns in rules:
        if doc_type not in taxonomy:
            raise ConfigError(
                f"[classify.rules.{doc_type}]: {doc_type!r} is not in the taxonomy ({', '.join(taxonomy)})"
            )
        regexes = []
        for pattern in patterns:
            try:
                regexes.append(re.compile(pattern, RULE_FLAGS))
            except re.error as exc:
                raise ConfigError(f"[classify.rules.{doc_type}] pattern {pattern!r}: {exc}") from None
        compiled.append(Rule(doc_type, tuple(fold_ocr(k) for k in keywords if k.strip()), tuple(regexes)))
    return tuple(compiled)


def match_rules(text: str, rules: tuple[Rule, ...]) -> tuple[str, str] | None:
    """``(doc_type, what matched)`` of the first matching rule, else None."""
    if not rules:
        return None
    folded = fold_ocr(text)
    for rule in rules:
        hit = rule.matches(text, folded)
        if hit is not None:
            return rule.doc_type, hit
    return None
