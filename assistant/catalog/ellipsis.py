"""Elliptical follow-ups: "and kubectl-gs?" after "who owns happa?" asks the same question of another entity.

A follow-up that says nothing but a name (and the kind or type word next to it, "what about the passage
service?") is the user's previous question with that name in place of the one it asked about. Read that way,
its relation words are back: "and the athena API?" after "which components consume the management API?"
asks for the athena API's consumers, not for the API itself.

"The azure one" after a question about the AWS services integration is that name with "azure" in place of
one of its words: "one" stands for the rest of the name (English's pro-form), so the follow-up is read as if
it had written "the azure services integration".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assistant.catalog.linking import LINKED, NAMED, EntityLinker, Link
from assistant.catalog.questions import Mention, asked_relations
from assistant.catalog.references import ORDINALS
from assistant.catalog.vocabulary import Vocabulary
from assistant.catalog.words import PRO_FORMS, normalise, words

# what may stand before "the azure one": an article or a demonstrative
_POINTING = frozenset(["the", "that", "this", "those", "these"])


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


def with_pro_form_named(normalised: str, turns: Sequence[dict[str, Any]], linker: EntityLinker) -> str | None:
    """The question with "the azure one" written out as the name it stands for, from the name the user last
    asked about ("the aws services integration" -> "the azure services integration"); None when the question
    has no such pro-form, or no word of that name, put in its place, names another entity of its kind."""
    sequence = words(normalised)
    for index, word in enumerate(sequence[1:-1], 1):
        pointing, following = sequence[index - 1], sequence[index + 1]
        if pointing.text not in _POINTING or word.function or following.text not in PRO_FORMS:
            continue
        if word.text in ORDINALS:  # "the second one" is a place in a list (`references`), not a name
            continue
        named = _name_with(word.text, turns, linker)
        if named is not None:
            return normalised[: word.start] + named + normalised[following.end :]
    return None


def _name_with(modifier: str, turns: Sequence[dict[str, Any]], linker: EntityLinker) -> str | None:
    """The name the latest user turn that named one asked about, with `modifier` in place of one of its
    words, where that is the whole name or title of an entity of the same kind that the name did not mean."""
    if any(link.how == NAMED for link in linker.link(modifier)):
        return None  # "the kafka one" names kafka itself
    for turn in reversed(turns):
        if turn.get("role") != "user":
            continue
        previous = normalise(str(turn.get("content") or ""))
        links = linker.linked(previous)
        span = _one_name(links)
        if span is None:
            continue
        meant = {link.entity for link in links}
        kinds = {entity.partition(":")[0] for entity in meant}
        name = previous[span[0] : span[1]].split()
        for place in range(len(name)):
            written = " ".join([*name[:place], modifier, *name[place + 1 :]])
            for link in linker.linked(written):  # a whole name or title, not a few of its words
                if link.how == NAMED and link.entity not in meant and link.entity.partition(":")[0] in kinds:
                    return written
        return None
    return None
