"""The conversation so far, as far as references are concerned: what it is about (the subject), what the
answers named, in which order, and what answered the subject's question.

The focus is the entities linked in the latest user turn that linked any (what the user was asking about),
then those the answers after it named or cited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.catalog.graph import CatalogGraph
from assistant.catalog.linking import NAMED, EntityLinker, Link
from assistant.catalog.questions import Mention, asked_relations, matching_edges
from assistant.catalog.references import references_in
from assistant.catalog.vocabulary import Vocabulary
from assistant.catalog.words import excluded_at, normalise

MAX_TURNS = 6
# English's coordinators and articles: what stands between the names of a list ("A, the B and C")
LIST_JOINERS = frozenset(["and", "or", "nor", "the", "a", "an", "also"])


@dataclass(frozen=True)
class Focus:
    """The conversation so far, as far as references are concerned."""

    entities: list[str]  # subject (the latest user turn that named any) first, then what answers named
    recent: list[str]  # the newest named first, the subject last
    # The names the subject's turn wrote, in order, each with the entities it may mean ("the first one")
    in_order: list[list[str]]
    # What the answer named that answers the subject's turn ("which component provides X?" -> the provider)
    answered: list[str] = field(default_factory=list)
    # False when no user turn named anything: the focus is only what answers named
    asked: bool = True


def conversation_focus(
    history: Sequence[Any],
    linker: EntityLinker,
    graph: CatalogGraph | None = None,
    vocabulary: Vocabulary | None = None,
) -> Focus:
    """With the graph, the answer to a "which component provides X?" is what the conversation is about
    next: "who owns it?" means that component."""
    turns = [turn for turn in history if isinstance(turn, dict)][-MAX_TURNS:]
    linked = [_asked_about(linker, turn) for turn in turns]  # each turn linked once
    named = [[link.entity for link in links] for links in linked]
    recent = list(dict.fromkeys(entity for entities in reversed(named) for entity in entities))
    for index in range(len(turns) - 1, -1, -1):
        if turns[index].get("role") != "user":
            continue
        own, answered = linked[index], []
        if not own and vocabulary is not None:
            earlier = any(named[n] for n in range(index) if turns[n].get("role") == "user")
            # "is there a tRPC version?" "Yes, hello-world-trpc": that is what "it" means next
            own = _answer_to_new_question(linked, turns, index, vocabulary) if earlier else []
            subject = list(dict.fromkeys(link.entity for link in own))
        elif own:
            subject = _confirmed_subject(linked, turns, index)
            if graph is not None and vocabulary is not None and index + 1 < len(turns):
                question = str(turns[index].get("content") or "")
                answered = _answered(question, own, named[index + 1], graph, vocabulary)
        if not own:
            continue
        later = [entity for entities in named[index + 1 :] for entity in entities if entity not in subject]
        # "that model" picks up what the answers brought in, before the subject asked about
        newest = [entity for entity in recent if entity not in subject] + subject
        # "the first one": of the names the user wrote together, or else of those the answer listed
        answers = zip(linked[index + 1 :], turns[index + 1 :], strict=True)
        listed = [_answer_list(links, turn, subject) for links, turn in answers]
        in_order = next((names for names in [_in_order(own), *reversed(listed)] if len(names) > 1), [])
        entities = list(dict.fromkeys(subject + later))
        return Focus(entities, list(dict.fromkeys(newest)), in_order, answered)
    return Focus(recent, recent, [], asked=False)


def _asked_about(linker: EntityLinker, turn: dict[str, Any]) -> list[Link]:
    """What a turn names: of an answer, the names it writes in full; of a user's turn, what it links, but
    not what it names as an exception ("the object store besides minio" is about the one the answer gives)."""
    text = str(turn.get("content") or "")
    links = linker.linked(text)
    if turn.get("role") != "user":  # an answer names what it means in full; "ERP events" is not the ERP service
        return [link for link in links if link.how == NAMED or link.strength >= 1.0]
    normalised = normalise(text)
    return [link for link in links if not excluded_at(normalised, link.start)]


def _confirmed_subject(linked: list[list[Link]], turns: list[dict[str, Any]], index: int) -> list[str]:
    """What the user's turn at `index` asked about. A turn that names nothing in full ("do we have an email
    service in the catalog?" matches `catalog-crd` by one word) is settled by the answer after it: when that
    answer names in full none of what the turn matched, the first name it gives is the subject."""
    asked = _meant(linked[index])
    if any(link.how == NAMED for link in linked[index]):
        return asked
    named = _named_by_answer(linked, turns, index)
    if not named or {link.entity for link in named} & set(asked):
        return asked
    return _in_order(named)[0]


def _named_by_answer(linked: list[list[Link]], turns: list[dict[str, Any]], index: int) -> list[Link]:
    """What the answer to the user's turn at `index` names in full (none when no answer follows it)."""
    if index + 1 >= len(turns) or turns[index + 1].get("role") != "assistant":
        return []
    return [link for link in linked[index + 1] if link.how == NAMED]


def _answer_to_new_question(
    linked: list[list[Link]], turns: list[dict[str, Any]], index: int, vocabulary: Vocabulary
) -> list[Link]:
    """A user's turn that names nothing and points back at nothing, after one that named the subject, asks
    something new ("is there a tRPC version?"); the first name its answer writes in full is what the
    conversation is about from there. (With no subject before it, the answers' names are the focus anyway.)"""
    named = _named_by_answer(linked, turns, index)
    if not named or references_in(normalise(str(turns[index].get("content") or "")), vocabulary):
        return []  # "how do I deploy it?" goes on about the subject, whatever its answer names
    return _names(named)[0]


def _meant(links: list[Link]) -> list[str]:
    """The entities a user's turn asks about: of those one name may mean, the ones it fits best ("the
    petstore *component*" is not about the petstore API, though it shares the name)."""
    groups = _names(links)
    best = {link.entity for group in groups for link in group if link.strength == max(o.strength for o in group)}
    return [link.entity for link in links if link.entity in best]


def _answered(
    question: str, links: list[Link], answer_names: list[str], graph: CatalogGraph, vocabulary: Vocabulary
) -> list[str]:
    """The entities an answer names that answer its question's relation ("which component provides X?" ->
    the providers of X the answer names), in the answer's order."""
    mentions = [Mention(link.entity, link.start, link.end) for link in links]
    ends = {
        edge.other(ask.entity)
        for ask in asked_relations(normalise(question), mentions, vocabulary)
        if ask.direct
        for edge in matching_edges(ask, graph.edges.get(ask.entity, []))
        if ask.fits(vocabulary.entity_words.get(edge.other(ask.entity), set()))
    }
    return [entity for entity in answer_names if entity in ends]


def _in_order(links: list[Link]) -> list[list[str]]:
    """The names a turn writes, in order, each with the entities it links to (an API and the component
    that provides it often share one name)."""
    return [entities for _, _, entities in _spans(links)]


def _names(links: list[Link]) -> list[list[Link]]:
    """The links of a turn grouped by the name they stand on, in the order the names are written: a link
    that starts inside a name's first link is another entity that name may mean."""
    groups: list[list[Link]] = []
    for link in sorted(links, key=lambda link: link.start):
        if groups and link.start < groups[-1][0].end:
            groups[-1].append(link)
        else:
            groups.append([link])
    return groups


def _spans(links: list[Link]) -> list[tuple[int, int, list[str]]]:
    """The names a turn writes, in order: where each stands, and the entities it links to."""
    return [
        (group[0].start, group[0].end, list(dict.fromkeys(link.entity for link in group))) for group in _names(links)
    ]


def _answer_list(links: list[Link], turn: dict[str, Any], subject: list[str]) -> list[list[str]]:
    """What "the third one" counts over in an answer: the longest run of names it writes one after another
    ("it provides the petstore, streetlights and hello-world APIs"), less the subject's own entities where
    a name means the subject as well (the petstore API shares the component's name). An answer that lists
    nothing is read name by name, leaving out the names that mean the subject ("petstore is owned by X")."""
    text = normalise(str(turn.get("content") or ""))
    spans = _spans(links)
    runs: list[list[list[str]]] = []
    last_end = None
    for start, end, entities in spans:
        between = text[last_end:start].split() if last_end is not None else None
        if between is not None and all(word in LIST_JOINERS for word in between):
            runs[-1].append(entities)
        else:
            runs.append([entities])
        last_end = end
    longest = max(runs, key=len, default=[])
    if len(longest) > 1:
        others = [[entity for entity in group if entity not in subject] for group in longest]
        return [group for group in others if group]
    return [entities for _, _, entities in spans if not set(entities) & set(subject)]
