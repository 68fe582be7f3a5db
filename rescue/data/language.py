"""Which languages a text column is written in, where a light, well-kept library can tell.

The classifier is py3langid, the maintained fork of langid.py (Lui & Baldwin): a naive Bayes model over
byte n-grams for 140 languages, with numpy as its only dependency and its model (4.5 MB) inside the
wheel, so nothing is downloaded at run time. It is fast (tens of microseconds a text), deterministic,
and reliable on a sentence or more; on a few words it guesses, so such texts are counted as too short
to tell instead of being classified.

Each column is judged on a seeded sample of at most LANGUAGE_SAMPLE of its non-empty texts; the result
says how many texts were sampled, how many were too short or too uncertain, and the top languages with
their share of the texts whose language could be told.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Future
from importlib.metadata import version
from typing import Any

LANGUAGE_SAMPLE = 2_000  # texts classified per column, at most
MIN_LETTERS = 20  # fewer letters than this: too short to tell
MIN_CONFIDENCE = 0.5  # a classification less probable than this counts as uncertain
TOP_LANGUAGES = 5
MAX_CHARS = 2_000  # the start of a text is enough to tell its language
SEED = 7

NAMES = {
    "ar": "Arabic",
    "cs": "Czech",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "fi": "Finnish",
    "fr": "French",
    "hu": "Hungarian",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "nl": "Dutch",
    "no": "Norwegian",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sv": "Swedish",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "zh": "Chinese",
}

_model: Future | None = None
_lock = threading.Lock()


def _load(future: Future) -> None:
    try:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        future.set_result(LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True))
    except BaseException as exc:  # handed to whoever waits for the model
        future.set_exception(exc)


def preload() -> Future:
    """Start loading the model in a background thread, once (decompressing it takes most of a second).

    The profile calls this as soon as it knows a table has text columns, so the load overlaps the
    queries instead of adding to them.
    """
    global _model
    with _lock:
        if _model is None:
            _model = Future()
            threading.Thread(target=_load, args=(_model,), name="rescue-language-model", daemon=True).start()
        return _model


def method() -> str:
    return f"py3langid {version('py3langid')}"


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


def language_mix(texts: Sequence[str | None], seed: int = SEED) -> dict[str, Any]:
    """The language mix of a column, from a seeded sample of its non-empty texts.

    Returns ``texts`` (non-empty texts offered), ``sampled``, ``too_short`` (fewer than MIN_LETTERS
    letters), ``uncertain`` (best guess below MIN_CONFIDENCE), ``told`` (the rest), ``languages``
    (the TOP_LANGUAGES most frequent among the told texts: code, name, texts, share of ``told``),
    ``other_languages`` (told texts in any other language) and ``method`` (library and version).
    """
    present = [i for i, text in enumerate(texts) if text and text.strip()]
    if len(present) > LANGUAGE_SAMPLE:
        present = sorted(random.Random(seed).sample(present, LANGUAGE_SAMPLE))
    too_short = uncertain = 0
    told: Counter[str] = Counter()
    identifier = None
    for i in present:
        text = str(texts[i])[:MAX_CHARS]
        if _letters(text) < MIN_LETTERS:
            too_short += 1
            continue
        identifier = identifier or preload().result()
        code, confidence = identifier.classify(text)
        if confidence < MIN_CONFIDENCE:
            uncertain += 1
        else:
            told[code] += 1
    total = sum(told.values())
    top = sorted(told.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_LANGUAGES]
    return {
        "texts": sum(1 for text in texts if text and text.strip()),
        "sampled": len(present),
        "too_short": too_short,
        "uncertain": uncertain,
        "told": total,
        "languages": [
            {"code": code, "name": NAMES.get(code, code), "texts": n, "share": round(n / total, 4)}
            for code, n in top
        ],
        "other_languages": total - sum(n for _, n in top),
        "method": method(),
    }
