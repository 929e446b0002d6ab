"""Elliptical follow-ups: "and kubectl-gs?" after "who owns happa?" asks the same question of another entity.

A follow-up that says nothing but a name (and the kind or type word next to it, "what about the passage
service?") is the user's previous question with that name in place of the one it asked about. Read that way,
its relation words are back: "and the athena API?" after "which components consume the management API?"
asks for the athena API's consumers, not for the API itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assistant.catalog.linking import LINKED, EntityLinker, Link
from assistant.catalog.questions import Mention, asked_relations
from assistant.catalog.vocabulary import Vocabulary
from assistant.catalog.words import normalise, words


def carried_question(
    normalised: str, own: list[Link], turns: Sequence[dict[str, Any]], linker: EntityLinker, vocabulary: Vocabulary
) -> tuple[str, list[Link]] | None:
    """The previous user question asked again of the one name this question says, with its links; None when
    this question asks something of its own (or the previous one asked about no single name, or no relation)."""
    span = _one_name(own)
    if span is None or not _only_the_name(normalised, span, vocabulary):
        return None
    for index in range(len(turns) - 1, -1, -1):
        if turns[index].get("role") != "user":
            continue
        previous = normalise(str(turns[index].get("content") or ""))
        links = linker.linked(previous)
        if not links:
            continue
        # "and athena?" after "and kubectl-gs?" after "who owns happa?"
        earlier = carried_question(previous, links, turns[:index], linker, vocabulary)
        if earlier is not None:
            previous, links = earlier[0], [link for link in earlier[1] if link.strength >= LINKED]
        asked = _one_name(links)
        if asked is None:
            return None
        rewritten = previous[: asked[0]] + normalised[span[0] : span[1]] + previous[asked[1] :]
        rewritten_links = linker.link(rewritten)
        mentions = [Mention(link.entity, link.start, link.end) for link in rewritten_links if link.strength >= LINKED]
        return (rewritten, rewritten_links) if asked_relations(rewritten, mentions, vocabulary) else None
    return None


def _one_name(links: list[Link]) -> tuple[int, int] | None:
    """The span of the one name the links stand on (an API and its component may share it), if one."""
    if not links:
        return None
    start, end = min(link.start for link in links), max(link.end for link in links)
    covered = sorted((link.start, link.end) for link in links)
    reach = covered[0][1]
    for link_start, link_end in covered[1:]:
        if link_start > reach:  # two names ("does X use Y?"): not one to swap
            return None
        reach = max(reach, link_end)
    return start, end


def _only_the_name(normalised: str, span: tuple[int, int], vocabulary: Vocabulary) -> bool:
    content = [word for word in words(normalised) if not word.function]
    return all((span[0] <= w.start and w.end <= span[1]) or w.stem in vocabulary.kind_words for w in content)
