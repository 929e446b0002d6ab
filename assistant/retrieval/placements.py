"""From what the question links to and asks, to where each entity's sources are placed (`ranking`)."""

from __future__ import annotations

from assistant.catalog.focus import Reading
from assistant.catalog.linking import LINKED, ONE_OF, Link
from assistant.catalog.questions import Mention, asked_kinds, asked_relations, edges_between, matching_edges
from assistant.catalog.words import Word, words
from assistant.retrieval.ranking import ANSWER, ANSWERED, REST, SET_ASIDE, Placement, place
from assistant.retrieval.snapshot import CatalogSnapshot

MAX_POINTED = 50  # a team that owns thousands of entities places its first fifty


def placements_for(
    snapshot: CatalogSnapshot, reading: Reading, normalised: str, allowed: set[str] | None
) -> dict[str, Placement]:
    placements: dict[str, Placement] = {}
    linked = [link for link in reading.links if link.strength >= LINKED]
    content = [word for word in words(normalised) if not word.function]
    for link in linked:
        fitting = snapshot.vocabulary.entity_words.get(link.entity, set())
        if link.how == ONE_OF:  # "which one holds the products?": the answer is one of those listed
            _place(placements, allowed, link.entity, ANSWER, link.strength, link.describe())
            continue
        _place(placements, allowed, link.entity, REST, link.strength * _share(link, content, fitting), link.describe())
    mentions = [Mention(link.entity, link.start, link.end) for link in linked]
    strength = {link.entity: link.strength for link in linked}
    graph, vocabulary = snapshot.graph, snapshot.vocabulary
    asks = asked_relations(normalised, mentions, vocabulary)
    for edge in edges_between(asks, graph.edges):  # "does X use Y?": the record stating that it does
        other = edge.other(edge.stated_by)
        described = edge.describe()
        _place(placements, allowed, edge.stated_by, ANSWER, strength[edge.stated_by], f"answers: {described}")
        _place(placements, allowed, other, ANSWERED, strength[other], f"named by the answer: {described}")
    for ask in asks:
        if not ask.direct:  # "which version of kafka does X use?": the relation words are incidental
            continue
        anchor = strength[ask.entity]
        edges = matching_edges(ask, graph.edges.get(ask.entity, []))[:MAX_POINTED]
        for edge in edges:
            described = edge.describe()
            if edge.stated_by != ask.entity:  # the other end's record states it: "which services use X?"
                target = edge.stated_by
                if target in reading.discussed:  # "what else does that team own?"
                    _place(placements, allowed, target, REST, anchor, f"already discussed: {described}")
                elif ask.fits(vocabulary.entity_words.get(target, set())):
                    _place(placements, allowed, target, ANSWER, anchor, f"answers: {described}")
                    _place(placements, allowed, ask.entity, ANSWERED, anchor, f"named by the answers: {described}")
                else:
                    _place(placements, allowed, target, REST, anchor, f"catalog: {described}")
            else:  # the named entity's own record states it: "who owns X?", "what does X depend on?"
                target = edge.other(ask.entity)
                if ask.complete:
                    _place(placements, allowed, ask.entity, ANSWER, anchor, f"answers: {described}")
                    _place(placements, allowed, target, ANSWERED, anchor, f"named by the answer: {described}")
                else:
                    _place(placements, allowed, target, REST, anchor, f"catalog: {described}")
    for entity in reading.discussed:  # "the other databases": not the ones already talked about
        placed = placements.get(entity)
        if placed is None or placed.tier == REST:
            reasons = (*(placed.reasons if placed else ()), "already discussed: the question asks for others")
            if allowed is None or entity in allowed:
                placements[entity] = Placement(SET_ASIDE, 0.0, reasons)
    return placements


def of_other_kinds(snapshot: CatalogSnapshot, reading: Reading, entities: set[str]) -> frozenset[str]:
    """Of `entities`, those that are not what a question naming nothing asks for ("*which service*
    generates the PDFs?": not an environment, whatever its pages say). Their sources come after the rest
    (`ranking.UNWANTED`). A question that names an entity is placed by what it asks of it instead."""
    if any(link.strength >= LINKED for link in reading.links):
        return frozenset()
    wants = asked_kinds(reading.asked, snapshot.vocabulary)
    if not wants:
        return frozenset()
    kinds = snapshot.vocabulary.entity_words
    return frozenset(entity for entity in entities if not wants & kinds.get(entity, set()))


def unexplained_words(reading: Reading) -> str:
    """The question's content words that no link spans: what it asks about the entities it names ("roll
    out a new image" in "how do I roll out a new image of it?"). Empty when the names are all it says."""
    linked = [link for link in reading.links if link.strength >= LINKED]
    return " ".join(
        word.text
        for word in words(reading.asked)
        if not word.function and not any(_spans(link, word) for link in linked)
    )


def _spans(link: Link, word: Word) -> bool:
    return link.start <= word.start and word.end <= link.end


def _place(
    placements: dict[str, Placement], allowed: set[str] | None, entity: str, tier: int, strength: float, why: str
) -> None:
    if allowed is None or entity in allowed:
        place(placements, entity, tier, strength, why)


def _share(link: Link, content: list[Word], kind_words: set[str]) -> float:
    """How much of the question the link explains: of its content words, those it spans and the kind and
    type words that fit the entity. "What is the search service?" is all about the entity; "how do I rotate
    the search service's keys?" asks about more, which the other words (the keyword and dense signals) then
    decide."""
    if not content:
        return 1.0
    explained = [w for w in content if _spans(link, w) or w.stem in kind_words]
    return len(explained) / len(content)
