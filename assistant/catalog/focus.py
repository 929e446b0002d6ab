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
from dataclasses import dataclass, field
from typing import Any

from assistant.catalog.ellipsis import carried_question
from assistant.catalog.graph import CatalogGraph
from assistant.catalog.linking import FROM_CONVERSATION, LINKED, NAMED, ONE_OF, EntityLinker, Link
from assistant.catalog.questions import Mention, asked_relations, matching_edges
from assistant.catalog.references import (
    IMPERSONAL,
    PERSONAL,
    Reference,
    neighbours_of_kind,
    references_in,
    touches,
    within_question,
)
from assistant.catalog.vocabulary import PEOPLE_KINDS, Vocabulary
from assistant.catalog.words import normalise, words

# "What *else* does that team own?", "which *other* services...": leave out what was already discussed.
BESIDES = frozenset(["else", "other", "others"])
MAX_TURNS = 6


@dataclass(frozen=True)
class Reading:
    """A question read in the light of its conversation."""

    links: list[Link]  # the question's own links and its resolved references, strongest first
    focus: list[str]  # the conversation's focus before this question
    moved: bool  # the question names an entity of its own and refers to nothing earlier
    query: str  # the text to search with: the question, plus the names it refers to
    discussed: tuple[str, ...] = ()  # "what else...": entities already talked about, not wanted again
    asked: str = ""  # the normalised text the links' spans are in: the question, or the one it carries on


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
    linked = [linker.linked(str(turn.get("content") or "")) for turn in turns]  # each turn linked once
    named = [[link.entity for link in links] for links in linked]
    recent = list(dict.fromkeys(entity for entities in reversed(named) for entity in entities))
    for index in range(len(turns) - 1, -1, -1):
        if turns[index].get("role") == "user" and named[index]:
            subject = _confirmed_subject(linked, turns, index)
            answered: list[str] = []
            if graph is not None and vocabulary is not None and index + 1 < len(turns):
                question = str(turns[index].get("content") or "")
                answered = _answered(question, linked[index], named[index + 1], graph, vocabulary)
            later = [entity for entities in named[index + 1 :] for entity in entities]
            # "that model" picks up what the answers brought in, before the subject asked about
            newest = [entity for entity in recent if entity not in subject] + subject
            # "the first one": of the names the user wrote together, or else of those the answer listed
            lists = [_in_order(links) for links in linked[index:]]
            listed = [[group for group in names if not set(group) & set(subject)] for names in lists[1:]]
            in_order = next((names for names in [lists[0], *reversed(listed)] if len(names) > 1), [])
            entities = list(dict.fromkeys(subject + later))
            return Focus(entities, list(dict.fromkeys(newest)), in_order, answered)
    return Focus(recent, recent, [], asked=False)


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
    normalised = normalise(question)
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
    within = within_question(references, own, graph, vocabulary)  # "who owns X and which system is it in?"
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
    if not focus or (not references and not conversation.asked):
        # a question that points back at nothing carries on the user's subject, and the user named none
        # ("and what if the docs don't render?" after an answer that happened to name an entity)
        return Reading(links, focus, False, question, asked=normalised)
    resolved: list[Link] = []
    previous: Reference | None = None  # the last reference resolved
    implicit = Reference(len(normalised), len(normalised))  # "and the owner?": the subject
    for reference in references or [implicit]:
        if previous is not None and previous.noun and reference.pronoun and reference.start <= previous.end + 1:
            continue  # "the CRD it provides": "it" only says which CRD; the question is about the CRD
        if reference.choice:  # each of them, equally: the rest of the question decides which
            listed = _listed(conversation)
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
    if references and not resolved and not own and conversation.asked:
        # what looked like references ("the docs") meant nothing said before: the question carries on the subject
        candidates = _candidates(implicit, conversation, graph, vocabulary, describes)
        resolved += [_link_back(implicit, candidates, [], normalised, graph, vocabulary)] if candidates else []
    named = {link.entity for link in own}
    extra = [link for link in resolved if link.entity not in named]
    titles = [_label(graph, link.entity) for link in extra]
    merged = sorted([*links, *extra], key=lambda link: (-link.strength, link.start))
    query = f"{question} ({', '.join(dict.fromkeys(titles))})" if titles else question
    about = {link.entity for link in own + resolved}
    besides = any(word.text in BESIDES for word in words(normalised))
    discussed = tuple(entity for entity in focus if entity not in about) if besides else ()
    return Reading(merged, focus, False, query, discussed, normalised)


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
    if reference.kind_word:
        fitting = [e for e in recent if fits(e)]
        return fitting or neighbours_of_kind(graph, vocabulary, focus[0], reference.noun)
    return [entity for entity in recent if describes(entity, reference.noun)]


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
    entity = _fitting(candidates, reference, mentions, normalised, graph, vocabulary)
    said = normalised[reference.start : reference.end] or "(the conversation)"
    return Link(entity, 1.0, reference.start, reference.end, FROM_CONVERSATION, said)


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


def _confirmed_subject(linked: list[list[Link]], turns: list[dict[str, Any]], index: int) -> list[str]:
    """What the user's turn at `index` asked about. A turn that names nothing in full ("do we have an email
    service in the catalog?" matches `catalog-crd` by one word) is settled by the answer after it: when that
    answer names in full none of what the turn matched, the first name it gives is the subject."""
    asked = [link.entity for link in linked[index]]
    answer = index + 1 < len(turns) and turns[index + 1].get("role") == "assistant"
    if not answer or any(link.how == NAMED for link in linked[index]):
        return asked
    named = [link for link in linked[index + 1] if link.how == NAMED]
    if not named or {link.entity for link in named} & set(asked):
        return asked
    return _in_order(named)[0]


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
    groups: list[tuple[int, list[str]]] = []  # (end of the name, its entities)
    for link in sorted(links, key=lambda link: link.start):
        if groups and link.start < groups[-1][0]:
            groups[-1][1].append(link.entity)
        else:
            groups.append((link.end, [link.entity]))
    return [list(dict.fromkeys(entities)) for _, entities in groups]


def _label(graph: CatalogGraph, entity: str) -> str:
    metadata = graph.entities.get(entity, {})
    return str(metadata.get("title") or metadata.get("name") or entity)


__all__ = ["Focus", "Reading", "conversation_focus", "read_question"]
