"""Language identification for items whose platform did not say."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from beffroi.analysis.text_bound import analysed_text

#: Languages the demo and the first users meet; restricting the set makes short texts safer.
DEFAULT_LANGUAGES = ("fr", "en", "ar", "es", "de", "it", "pt", "nl", "tr")


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(DEFAULT_LANGUAGES))
    return identifier


def detect_language(text: str, min_confidence: float = 0.5) -> str:
    """ISO 639-1 code of ``text``'s language, or ``""`` when too short or too unsure."""
    stripped = analysed_text(text).strip()
    if len(stripped) < 3:
        return ""
    code, confidence = _identifier().classify(stripped)
    return str(code) if float(confidence) >= min_confidence else ""
