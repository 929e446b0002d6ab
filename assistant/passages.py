"""The sentence of the best sources that answers the question, quoted before any model text.

A small local model often garbles what a page says exactly (a version, a schedule, a hostname); the
sentence itself, with its citation, cannot be garbled. The sentences of the first sources are scored as
retrieval scores chunks: their similarity to the question fused with the share of the question's words they
hold. A template turns this on with `quote_passage: true`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from assistant.catalog.words import normalise, words
from assistant.documents import Source
from assistant.embeddings import Embedder
from assistant.retrieval.ranking import fused

SOURCES_READ = 2  # the first sources; further down, a sentence is less likely to answer than to distract
MAX_SENTENCES = 48  # embedding them costs about half a second on two cores
MIN_CHARS = 24  # shorter is a heading or a label, not a statement
MAX_CHARS = 400
MIN_SIMILARITY = 0.3  # below, no sentence is about the question: nothing is quoted
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9`*\"(])")
_MARKUP = re.compile(r"^\s*(?:#+|[-*+>]|\d+[.)]|\|)\s*|\s*\|\s*$")


def sentences(text: str) -> list[str]:
    """The statements of a page's chunk: its paragraphs (wrapped lines joined, list and heading marks
    dropped), split at sentence ends."""
    paragraphs: list[list[str]] = [[]]
    for line in text.splitlines():
        starts_block = not line.strip() or _MARKUP.match(line) is not None or line.lstrip().startswith("```")
        if starts_block and paragraphs[-1]:
            paragraphs.append([])
        if line.strip() and not line.lstrip().startswith("```"):
            paragraphs[-1].append(_MARKUP.sub("", line).strip())
    found = []
    for paragraph in paragraphs:
        for sentence in _SENTENCE_END.split(" ".join(paragraph)):
            sentence = sentence.strip()
            if MIN_CHARS <= len(sentence) <= MAX_CHARS:
                found.append(sentence)
    return found


def _statements(source: Source) -> str:
    """A page chunk's text without its first line, the trail (site › page › section) ingest puts there."""
    return source.snippet.split("\n", 1)[-1]


def _stems(text: str) -> set[str]:
    return {word.stem for word in words(normalise(text)) if not word.function}


def quoted_passage(embedder: Embedder, question: str, sources: Sequence[Source]) -> str:
    """`From [n]: "sentence"` for the sentence of the first sources that best answers the question, or "".

    A sentence's words count for what the question asks beyond the source's own name: every sentence of
    a page about Loki may say "Loki", and one that holds none of the other asked words is not quoted. A
    second sentence of the same source is quoted when it holds asked words the first does not ("what domain
    is it on and what protects it?")."""
    candidates = [
        (number, sentence, _stems(sentence))
        for number, source in enumerate(sources[:SOURCES_READ], 1)
        if source.page  # a record is a few short fields a model reads well; pages are where details get lost
        for sentence in dict.fromkeys(sentences(_statements(source)))
    ][:MAX_SENTENCES]
    asked = _stems(question)
    if not candidates or not asked:
        return ""
    vectors = np.asarray(embedder.embed_documents([sentence for _, sentence, _ in candidates]), dtype=np.float32)
    similarity = (vectors @ np.asarray(embedder.embed_query(question), dtype=np.float32)).tolist()
    # what each source is asked beyond its own name
    wanted = [(asked - _stems(f"{s.title} {s.entity.split('/')[-1]}")) or asked for s in sources[:SOURCES_READ]]
    scored = []
    for n, (number, _, held) in enumerate(candidates):
        beyond = wanted[number - 1]
        if held & beyond:  # a sentence that holds nothing asked beyond the name does not answer
            scored.append((fused(similarity[n], len(held & beyond) / len(beyond)), n))
    scored.sort(reverse=True)
    ranked = [n for _, n in scored if similarity[n] >= MIN_SIMILARITY]
    if not ranked:
        return ""
    number, first, first_held = candidates[ranked[0]]
    quoted = [first]
    for n in ranked[1:]:
        other_number, sentence, held = candidates[n]
        if other_number == number and (held & wanted[number - 1]) - first_held:
            quoted.append(sentence)
            break
    return f"From [{number}]: " + " ".join(f'"{sentence}"' for sentence in quoted)
