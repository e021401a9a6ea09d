"""The word lists of 自主核名 (server/data/names.yaml), read once: organisation forms, industry short forms, local
terms, forbidden and restricted words, near-synonyms and the accepted other meanings of division and industry words."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

NAMES_FILE = Path(__file__).resolve().parents[2] / "data" / "names.yaml"


@lru_cache(maxsize=1)
def word_lists() -> dict:
    return yaml.safe_load(NAMES_FILE.read_text(encoding="utf-8"))
