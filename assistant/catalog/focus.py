"""Follow-up questions: which entities a question means when it names none ("Who owns it?").

Deterministic, no model call, so it works on the embedded default. The conversation's focus is the entities
linked in the latest user turn that linked any (what the user was asking about), then those the answers
after it named or cited. A follow-up that names an entity of its own moves the focus; one that refers to
something ("it", "that team", "the system it belongs to") is read against the focus: a pronoun means the
subject, a kind or type word after a determiner means the latest focused entity of that kind, or the
subject's neighbour of that kind.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from assistant.catalog.conversation import MAX_TURNS, Focus, conversation_focus
from assistant.catalog.ellipsis import carried_question, with_pro_form_named
from assistant.catalog.graph import CatalogGraph
from assistant.catalog.linking import FROM_CONVERSATION, LINKED, ONE_OF, EntityLinker, Link
from assistant.catalog.questions import Mention
from assistant.catalog.references import (
    IMPERSONAL,
    PERSONAL,
    Reference,
    fitting,
    neighbours_of_kind,
    references_in,
    touches,
    within_question,
)
from assistant.catalog.vocabulary import PEOPLE_KINDS, Vocabulary
from assistant.catalog.words import excluded_at, normalise, words

# "What *else* does that team own?", "which *other* services...": leave out what was already discussed.
BESIDES = frozenset(["else", "other", "others"])


@dataclass(frozen=True)
class Reading:
    """A question read in the light of its conversation."""

    links: list[Link]  # the question's own links and its resolved references, strongest first
    focus: list[str]  # the conversation's focus before this question
    moved: bool  # the question names an entity of its own and refers to nothing earlier
    query: str  # the text to search with: the question, plus the names it refers to
    discussed: tuple[str, ...] = ()  # "what else...": entities already talked about, not wanted again
    asked: str = ""  # the normalised text the links' spans are in: the question, or the one it carries on


def read_question(
    question: str,
    history: Sequence[Any],
    linker: EntityLinker,
    graph: CatalogGraph,
    vocabulary: Vocabulary,
    describes: Callable[[str, str], bool] = lambda entity, word: False,
) -> Reading:
    """`describes(entity, stem)`: whether the entity's record uses the word ("that model" -> a resource
    described as "a language model"). What the question names as an exception ("the object store *besides*
    minio") is set aside, not asked about."""
    normalised = normalise(question)
    turns = [turn for turn in history if isinstance(turn, dict)][-MAX_TURNS:]
    written_out = with_pro_form_named(normalised, turns, linker)
    if written_out is not None:  # "what about the azure one?": the name "one" stands for, written out
        question = normalised = written_out
    links, exceptions = [], []
    for link in linker.link(question):
        if not excluded_at(normalised, link.start):
            links.append(link)
        elif link.strength >= LINKED:
            exceptions.append(link.entity)
    reading = _read(question, normalised, links, history, linker, graph, vocabulary, describes)
    if not exceptions:
        return reading
    return replace(reading, discussed=tuple(dict.fromkeys([*reading.discussed, *exceptions])))


def _read(
    question: str,
    normalised: str,
    links: list[Link],
    history: Sequence[Any],
    linker: EntityLinker,
    graph: CatalogGraph,
    vocabulary: Vocabulary,
    describes: Callable[[str, str], bool],
) -> Reading:
    own = [link for link in links if link.strength >= LINKED]
    references = [ref for ref in references_in(normalised, vocabulary) if not touches(ref, own)]
    if own:  # "which services that use X ...": "that" is a relative pronoun there
        references = [ref for ref in references if not (ref.demonstrative and not ref.noun)]
    choices = [ref for ref in references if ref.choice]
    if choices:  # "which one holds the products?": "the products" says which; "which of *them*" is the choice
        references = [
            ref
            for ref in references
            if ref.choice or ((ref.pronoun or ref.kind_word) and not any(c.start <= ref.start < c.end for c in choices))
        ]
    within = within_question(references, own, normalised, graph, vocabulary)  # "who owns X and which system is it in?"
    if within:
        links = sorted([*links, *within], key=lambda link: (-link.strength, link.start))
        own = [*own, *within]
        references = [ref for ref in references if not any(link.start == ref.start for link in within)]
    if not history:
        return Reading(links, [], bool(own), question, asked=normalised)
    if own and not references:
        turns = [turn for turn in history if isinstance(turn, dict)][-MAX_TURNS:]
        carried = carried_question(normalised, own, turns, linker, vocabulary)
        if carried is not None:  # "and kubectl-gs?": the previous question, asked of kubectl-gs
            text, carried_links = carried
            return Reading(carried_links, [], True, text, asked=text)
        return Reading(links, [], True, question, asked=normalised)
    conversation = conversation_focus(history, linker, graph, vocabulary)
    focus = conversation.entities
    besides = any(word.text in BESIDES for word in words(normalised))
    if not focus or (not references and not conversation.asked):
        # a question that points back at nothing carries on the user's subject, and the user named none
        # ("and what if the docs don't render?" after an answer that happened to name an entity); what the
        # answers named is still what "are there *other* clusters?" means to leave out
        discussed = _set_aside(focus, {link.entity for link in own}, besides)
        return Reading(links, focus, False, question, discussed, normalised)
    resolved: list[Link] = []
    previous: Reference | None = None  # the last reference resolved
    implicit = Reference(len(normalised), len(normalised))  # "and the owner?": the subject
    # "and the other databases?" asks for entities besides those discussed, not about the subject
    others = _asks_for_others(normalised, vocabulary)
    for reference in references or ([] if others else [implicit]):
        if previous is not None and previous.noun and reference.pronoun and reference.start <= previous.end + 1:
            continue  # "the CRD it provides": "it" only says which CRD; the question is about the CRD
        if reference.choice:  # each of them, equally: the rest of the question decides which
            listed = _listed(conversation)
            if len(listed) < 2:  # "which of those are vendors?" after one system: its parts, not a choice
                continue
            said = normalised[reference.start : reference.end]
            resolved += [Link(e, LINKED, reference.start, reference.end, ONE_OF, said) for e in listed]
            continue
        candidates = _candidates(reference, conversation, graph, vocabulary, describes)
        if not candidates and reference.demonstrative and reference.noun and not own:  # "what is that exactly?"
            reference = reference.alone()
            candidates = _candidates(reference, conversation, graph, vocabulary, describes)
        if not candidates:
            continue
        mentions = [Mention(link.entity, link.start, link.end) for link in own + resolved]
        resolved.append(_link_back(reference, candidates, mentions, normalised, graph, vocabulary))
        previous = reference
    if references and not resolved and not own and conversation.asked and not others:
        # what looked like references ("the docs") meant nothing said before: the question carries on the subject
        candidates = _candidates(implicit, conversation, graph, vocabulary, describes)
        resolved += [_link_back(implicit, candidates, [], normalised, graph, vocabulary)] if candidates else []
    named = {link.entity for link in own}
    extra = [link for link in resolved if link.entity not in named]
    # "which of those...": the choice's names are not searched with; the rest of the question says which
    titles = [_label(graph, link.entity) for link in extra if link.how != ONE_OF]
    merged = sorted([*links, *extra], key=lambda link: (-link.strength, link.start))
    query = f"{question} ({', '.join(dict.fromkeys(titles))})" if titles else question
    about = {link.entity for link in own + resolved}
    return Reading(merged, focus, False, query, _set_aside(focus, about, besides), normalised)


def _candidates(
    reference: Reference,
    conversation: Focus,
    graph: CatalogGraph,
    vocabulary: Vocabulary,
    describes: Callable[[str, str], bool],
) -> list[str]:
    """What the reference may mean, most likely first: a pronoun means the subject; "that team" or "the
    model" means the latest entity named that fits the noun, or else the subject's neighbour that does;
    "the second one" the second of the entities the user last named together."""
    focus, recent = conversation.entities, conversation.recent
    context = (conversation, graph, vocabulary, describes)

    def fits(entity: str) -> bool:
        return reference.noun in vocabulary.entity_words.get(entity, set())

    if reference.ordinal is not None:
        named = conversation.in_order
        if reference.noun and reference.kind_word:
            fitting = [[e for e in group if fits(e)] for group in named]
            named = [group for group in fitting if group] or named
        if len(named) > 1 and -len(named) <= reference.ordinal < len(named):
            return named[reference.ordinal]  # one name may mean several entities: the relation picks
        return []
    if not reference.noun:  # what answered the last question first: "which component...?" "who owns it?"
        answered = conversation.answered
        people = [e for e in [*answered, *focus] if graph.kind(e) == "user"]
        if reference.pronoun in PERSONAL:
            return list(dict.fromkeys(people)) or focus
        if reference.pronoun in IMPERSONAL:  # a team is "they", not "it"
            things = [e for e in answered if graph.kind(e) not in PEOPLE_KINDS]
            return list(dict.fromkeys([*things, *(e for e in focus if e not in people)])) or focus
        return list(dict.fromkeys([*answered, *focus]))
    if reference.kind_word and reference.pronoun:  # "its API": the API of what "it" means
        owners = _candidates(Reference(reference.start, reference.end, pronoun=reference.pronoun), *context)
        fitting = [e for owner in owners[:1] for e in neighbours_of_kind(graph, vocabulary, owner, reference.noun)]
        return fitting or owners
    if reference.kind_word:  # of those named, the subject itself, then what it relates to: "that domain"
        related = graph.neighbours(focus[0])
        fitting = sorted((e for e in recent if fits(e)), key=lambda e: (e != focus[0], e not in related))
        return fitting or neighbours_of_kind(graph, vocabulary, focus[0], reference.noun)
    return [entity for entity in recent if describes(entity, reference.noun)]


def _asks_for_others(normalised: str, vocabulary: Vocabulary) -> bool:
    """ "Other" or "else" before a kind word: "the other databases", "which other services"."""
    sequence = words(normalised)
    return any(
        word.text in BESIDES and following.stem in vocabulary.kind_words
        for word, following in itertools.pairwise(sequence)
    )


def _listed(conversation: Focus) -> list[str]:
    """What "which one" chooses from: the names the user wrote together or an answer listed, else what the
    conversation named."""
    listed = [entity for group in conversation.in_order for entity in group]
    return list(dict.fromkeys(listed)) or conversation.recent


def _link_back(
    reference: Reference,
    candidates: list[str],
    mentions: list[Mention],
    normalised: str,
    graph: CatalogGraph,
    vocabulary: Vocabulary,
) -> Link:
    entity = fitting(candidates, reference, mentions, normalised, graph, vocabulary)
    said = normalised[reference.start : reference.end] or "(the conversation)"
    return Link(entity, 1.0, reference.start, reference.end, FROM_CONVERSATION, said)


def _set_aside(focus: list[str], about: set[str], besides: bool) -> tuple[str, ...]:
    """What "what *else*...?" leaves out: the entities discussed that the question is not about."""
    return tuple(entity for entity in focus if entity not in about) if besides else ()


def _label(graph: CatalogGraph, entity: str) -> str:
    metadata = graph.entities.get(entity, {})
    return str(metadata.get("title") or metadata.get("name") or entity)


__all__ = ["Reading", "read_question"]
