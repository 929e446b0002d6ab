"""BM25 over the chunk text plus the entity's name, title and tags: exact words where embeddings blur them
(`ollama-web-ui`, `ben.wilcock`, "tagged pci")."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from assistant.catalog.words import FUNCTION_WORDS, split_camel, stem
from assistant.documents import DEFINITION

BM25_K1 = 0.9  # term-frequency saturation: a name said twice is not twice as relevant
BM25_B = 0.4  # mild length normalisation: long TechDocs sections are not punished for being thorough
# The keys of an API definition are its syntax (`responses:`, `schema:`, `required:`), not what it is about:
# "who is responsible for X" must not match every OpenAPI document through the stem of `responses`.
_DEFINITION_KEY = re.compile(r"^\s*(?:-\s*)?[\"']?[A-Za-z_$][\w$-]*[\"']?\s*:(?=\s|$)", re.MULTILINE)
_WORD = re.compile(r"[A-Za-z0-9]+(?:[.\-_'][A-Za-z0-9]+)*")


def tokenize(text: str, split_identifiers: bool = True) -> list[str]:
    """Lower-case stemmed words; compound names and identifiers are kept whole as well as split
    (`ollama-web-ui`; `maxReplicas` is also "max" and "replicas", as a question says it). In an API
    definition the CamelCase words are its schema names (`ErrorResponse` everywhere), kept whole."""
    tokens: list[str] = []
    for written in _WORD.findall(text):
        word = written.lower()
        separated = re.sub(r"[.\-_']", " ", written)
        parts = (split_camel(separated) if split_identifiers else separated).lower().split()
        tokens += [stem(part) for part in parts if part not in FUNCTION_WORDS]
        if len(parts) > 1:
            tokens.append(word)
    return tokens


def chunk_terms(text: str, metadata: dict[str, Any]) -> list[str]:
    tags = metadata.get("tags") if isinstance(metadata.get("tags"), list) else []
    extra = [str(metadata.get(key) or "") for key in ("name", "title", "page_title", "section")]
    if metadata.get("chunk") == DEFINITION:
        return tokenize(_DEFINITION_KEY.sub("", text), split_identifiers=False) + tokenize(" ".join([*extra, *tags]))
    return tokenize(" ".join([text, *extra, *tags]))


class KeywordIndex:
    def __init__(self, corpus: Sequence[list[str]]) -> None:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets itself to DEBUG on import
        self.size = len(corpus)
        self._bm25 = None
        if corpus:
            self._bm25 = bm25s.BM25(k1=BM25_K1, b=BM25_B)
            self._bm25.index(list(corpus), show_progress=False)

    def scores(self, text: str) -> np.ndarray:
        tokens = tokenize(text)
        if self._bm25 is None or not tokens:
            return np.zeros(self.size)
        return np.asarray(self._bm25.get_scores(tokens), dtype=float)


def top_indices(scores: np.ndarray, n: int) -> list[int]:
    """Indices of the `n` highest positive scores, best first, without sorting the whole array."""
    candidates = np.argpartition(-scores, n)[:n] if len(scores) > n else np.arange(len(scores))
    return [int(i) for i in candidates[np.argsort(-scores[candidates])] if scores[i] > 0]
