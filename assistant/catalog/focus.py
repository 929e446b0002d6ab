"""Follow-up questions: which entities a question means when it names none ("Who owns it?").

Deterministic, no model call, so it works on the embedded default. The conversation's focus is the entities
linked in the latest user turn that linked any (what the user was asking about), then those the answers
after it named or cited. A follow-up that names an entity of its own moves the focus; one that refers to
something ("it", "that team", "the system it belongs to") is read against the focus: a pronoun means the
subject, a kind or type word after a determiner means the latest focused entity of that kind, or the
subject's neighbour of that kind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.catalog.graph import CatalogGraph
from assistant.catalog.linking import FROM_CONVERSATION, LINKED, EntityLinker, Link
from assistant.catalog.questions import Mention, asked_relations, matching_edges
from assistant.catalog.vocabulary import Vocabulary
from assistant.catalog.words import normalise, words

# English pronouns and determiners that point back; grammar, not vocabulary of any catalog. "He" and "she"
# mean a person (a User entity); "it" means anything but one.
PERSONAL = frozenset(["he", "him", "his", "she", "her", "hers"])
IMPERSONAL = frozenset(["it", "its", "itself"])
PRONOUNS = PERSONAL | IMPERSONAL | frozenset(["they", "them", "their", "theirs"])
DETERMINERS = frozenset(["that", "this", "these", "those", "the", "its", "their", "his", "her"])
MAX_TURNS = 6


@dataclass(frozen=True)
class Reading:
    """A question read in the light of its conversation."""

    links: list[Link]  # the question's own links and its resolved references, strongest first
    focus: list[str]  # the conversation's focus before this question
    moved: bool  # the question names an entity of its own and refers to nothing earlier
    query: str  # the text to search with: the question, plus the names it refers to


def conversation_focus(history: Sequence[Any], linker: EntityLinker) -> tuple[list[str], list[str]]:
    """Entities in focus after these turns: subject first; and the newest first, the subject last."""
    turns = [turn for turn in history if isinstance(turn, dict)][-MAX_TURNS:]
    named = [_linked(linker, str(turn.get("content") or "")) for turn in turns]
    recent = list(dict.fromkeys(entity for entities in reversed(named) for entity in entities))
    for index in range(len(turns) - 1, -1, -1):
        if turns[index].get("role") == "user" and named[index]:
            subject = named[index]
            later = [entity for entities in named[index + 1 :] for entity in entities]
            # "that model" picks up what the answers brought in, before the subject asked about
            newest = [entity for entity in recent if entity not in subject] + subject
            return list(dict.fromkeys(subject + later)), list(dict.fromkeys(newest))
    return recent, recent


def read_question(
    question: str,
    history: Sequence[Any],
    linker: EntityLinker,
    graph: CatalogGraph,
    vocabulary: Vocabulary,
    describes: Callable[[str, str], bool] = lambda entity, word: False,
) -> Reading:
    """`describes(entity, stem)`: whether the entity's record uses the word ("that model" -> a resource
    described as "a language model")."""
    links = linker.link(question)
    own = [link for link in links if link.strength >= LINKED]
    if not history:
        return Reading(links, [], bool(own), question)
    normalised = normalise(question)
    references = [ref for ref in _references(normalised, vocabulary) if not _touches(ref, own)]
    if own and not references:
        return Reading(links, [], True, question)
    focus, recent = conversation_focus(history, linker)
    if not focus:
        return Reading(links, [], False, question)
    resolved: list[Link] = []
    for reference in references or [Reference(len(normalised), len(normalised))]:
        candidates = _candidates(reference, focus, recent, graph, vocabulary, describes)
        if not candidates:
            continue
        mentions = [Mention(link.entity, link.start, link.end) for link in own + resolved]
        entity = _fitting(candidates, reference, mentions, normalised, graph, vocabulary)
        said = normalised[reference.start : reference.end] or "(the conversation)"
        resolved.append(Link(entity, 1.0, reference.start, reference.end, FROM_CONVERSATION, said))
    named = {link.entity for link in own}
    extra = [link for link in resolved if link.entity not in named]
    titles = [_label(graph, link.entity) for link in extra]
    merged = sorted([*links, *extra], key=lambda link: (-link.strength, link.start))
    query = f"{question} ({', '.join(dict.fromkeys(titles))})" if titles else question
    return Reading(merged, focus, False, query)


@dataclass(frozen=True)
class Reference:
    """Words that point back: a pronoun, or a determiner and a noun ("that team", "the model")."""

    start: int
    end: int
    noun: str = ""  # the noun's stem; empty for a pronoun
    kind_word: bool = False  # the noun is one of the catalog's kind or type words
    pronoun: str = ""


def _candidates(
    reference: Reference,
    focus: list[str],
    recent: list[str],
    graph: CatalogGraph,
    vocabulary: Vocabulary,
    describes: Callable[[str, str], bool],
) -> list[str]:
    """What the reference may mean, most likely first: a pronoun means the subject; "that team" or "the
    model" means the latest entity named that fits the noun, or else the subject's neighbour that does."""
    if not reference.noun:
        people = [e for e in focus if graph.kind(e) == "user"]
        if reference.pronoun in PERSONAL:
            return people or focus
        if reference.pronoun in IMPERSONAL:
            return [e for e in focus if e not in people] or focus
        return focus
    if reference.kind_word:
        fitting = [e for e in recent if reference.noun in vocabulary.entity_words.get(e, set())]
        neighbours = sorted(graph.neighbours(focus[0]))
        return fitting or [e for e in neighbours if reference.noun in vocabulary.entity_words.get(e, set())]
    return [entity for entity in recent if describes(entity, reference.noun)]


def _fitting(
    candidates: list[str],
    reference: Reference,
    mentions: list[Mention],
    normalised: str,
    graph: CatalogGraph,
    vocabulary: Vocabulary,
) -> str:
    """The first candidate the question's relation holds for ("which components provide it?" means the
    API, not the team the last answer also named); the first one when none does."""
    for entity in candidates:
        here = [*mentions, Mention(entity, reference.start, reference.end)]
        for ask in asked_relations(normalised, here, vocabulary):
            if ask.entity == entity and ask.direct and matching_edges(ask, graph.edges.get(entity, [])):
                return entity
    return candidates[0]


def _linked(linker: EntityLinker, text: str) -> list[str]:
    return [link.entity for link in linker.link(text) if link.strength >= LINKED]


def _references(normalised: str, vocabulary: Vocabulary) -> list[Reference]:
    """Each reference back: "it", or "that team" / "the model"."""
    found = []
    sequence = words(normalised)
    for index, word in enumerate(sequence):
        if word.text in PRONOUNS:
            found.append(Reference(word.start, word.end, pronoun=word.text))
        elif word.text in DETERMINERS and index + 1 < len(sequence):
            following = sequence[index + 1]
            if not following.function:
                kind_word = following.stem in vocabulary.kind_words
                found.append(Reference(word.start, following.end, following.stem, kind_word))
    return found


def _touches(reference: Reference, links: list[Link]) -> bool:
    """A determiner and noun next to a name are part of it ("the payments system"), not a reference."""
    return bool(reference.noun) and any(
        reference.start <= link.end + 1 and link.start <= reference.end + 1 for link in links
    )


def _label(graph: CatalogGraph, entity: str) -> str:
    metadata = graph.entities.get(entity, {})
    return str(metadata.get("title") or metadata.get("name") or entity)


__all__ = ["Reading", "conversation_focus", "read_question"]
