"""Words in a question that point back at something: "it", "that team", "the second one", "its API".

English grammar, not the vocabulary of any catalog; what they point at is decided by the conversation
(`assistant.catalog.focus`) or by a name earlier in the same question (`within_question`).
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.catalog.graph import CatalogGraph
from assistant.catalog.linking import IN_THE_QUESTION, Link
from assistant.catalog.questions import Mention, asked_relations, matching_edges
from assistant.catalog.relations import BELONGS, OWNS, PROVIDES, Edge
from assistant.catalog.vocabulary import Vocabulary
from assistant.catalog.words import PRO_FORMS, words

# English pronouns and determiners that point back; grammar, not vocabulary of any catalog. "He" and "she"
# mean a person (a User entity); "it" means anything but one.
PERSONAL = frozenset(["he", "him", "his", "she", "her", "hers"])
IMPERSONAL = frozenset(["it", "its", "itself"])
PRONOUNS = PERSONAL | IMPERSONAL | frozenset(["they", "them", "their", "theirs"])
POSSESSIVE = frozenset(["its", "their", "his", "her"])
# "That" and "this" stand alone as well: "what is that exactly?"
DEMONSTRATIVES = frozenset(["that", "this", "these", "those"])
DETERMINERS = DEMONSTRATIVES | frozenset(["the"]) | POSSESSIVE
# "Which one ...?", "which of them ...?": a choice among the entities the conversation listed.
SELECTED_FROM = frozenset(["them", "these", "those", "the"])
# "The first one", "the latter": a position among the entities the user last named together.
ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "former": 0, "latter": -1, "last": -1}


@dataclass(frozen=True)
class Reference:
    """Words that point back: a pronoun, or a determiner and a noun ("that team", "the model")."""

    start: int
    end: int
    noun: str = ""  # the noun's stem; empty for a pronoun
    kind_word: bool = False  # the noun is one of the catalog's kind or type words
    pronoun: str = ""
    ordinal: int | None = None  # "the second one": index among the entities the user named together
    determiner: str = ""  # "that" of "that team"
    # "which one": one of the entities the conversation listed; the rest of the question says which
    choice: bool = False

    @property
    def demonstrative(self) -> bool:
        """ "That" or "this" with no kind word after it: standing alone ("is that in the payments system?"),
        or maybe so ("what is that exactly?"). It may also be a relative pronoun ("the services that use X"),
        so it is read as a reference alone only in a question that names nothing of its own."""
        return self.determiner in DEMONSTRATIVES and not self.kind_word

    def alone(self) -> Reference:
        """The demonstrative without the word after it: a pronoun."""
        end = self.start + len(self.determiner)
        return Reference(self.start, end, pronoun=self.determiner, determiner=self.determiner)


def references_in(normalised: str, vocabulary: Vocabulary) -> list[Reference]:
    """Each reference back: "it", or "that team" / "the model"."""
    found = []
    sequence = words(normalised)
    for index, word in enumerate(sequence):
        following = sequence[index + 1] if index + 1 < len(sequence) else None
        after = sequence[index + 2] if index + 2 < len(sequence) else None
        if word.text == "which" and following is not None and following.text in PRO_FORMS:
            found.append(Reference(word.start, following.end, choice=True))
        elif word.text == "which" and following and following.text == "of" and after and after.text in SELECTED_FROM:
            found.append(Reference(word.start, after.end, choice=True))
        elif word.text in POSSESSIVE and following is not None and following.stem in vocabulary.kind_words:
            found.append(Reference(word.start, following.end, following.stem, True, pronoun=word.text))
        elif word.text in PRONOUNS:
            found.append(Reference(word.start, word.end, pronoun=word.text))
        elif word.text in DETERMINERS and index + 1 < len(sequence) and sequence[index + 1].text in ORDINALS:
            ordinal, end, noun, kind_word = ORDINALS[sequence[index + 1].text], sequence[index + 1].end, "", False
            if index + 2 < len(sequence) and not sequence[index + 2].function:  # "the first service"
                after = sequence[index + 2]
                kind_word = after.stem in vocabulary.kind_words
                if not kind_word and after.text != "one":
                    continue  # "the first step", "the last deployment": not a reference back
                end, noun = after.end, after.stem if kind_word else ""
            found.append(Reference(word.start, end, noun, kind_word, ordinal=ordinal))
        elif word.text in DEMONSTRATIVES and (following is None or following.function):
            found.append(Reference(word.start, word.end, pronoun=word.text, determiner=word.text))
        elif word.text in DETERMINERS and following is not None and not following.function:
            kind_word = following.stem in vocabulary.kind_words
            found.append(Reference(word.start, following.end, following.stem, kind_word, determiner=word.text))
    return found


def touches(reference: Reference, links: list[Link]) -> bool:
    """A determiner and noun next to a name are part of it ("the payments system"), not a reference."""
    return bool(reference.noun) and any(
        reference.start <= link.end + 1 and link.start <= reference.end + 1 for link in links
    )


def within_question(
    references: list[Reference], own: list[Link], normalised: str, graph: CatalogGraph, vocabulary: Vocabulary
) -> list[Link]:
    """A pronoun after a name in the same question refers to it, whatever came before ("Who owns X and
    which system is it in?"): the nearest name before it that the pronoun can mean; "its API" that
    entity's API. Where that name is several entities' (a component and the API it provides), the one the
    pronoun's relation holds for ("who maintains X, and what API does *it* provide?": the component)."""
    resolved = []
    for reference in references:
        if not reference.pronoun:
            continue
        before = [link for link in own if link.end <= reference.start]
        people = {link.entity for link in before if graph.kind(link.entity) == "user"}
        if reference.pronoun in PERSONAL:
            before = [link for link in before if link.entity in people]
        elif reference.pronoun in IMPERSONAL:
            before = [link for link in before if link.entity not in people]
        if not before:
            continue
        nearest = max(before, key=lambda link: (link.end, link.strength))
        named = [link for link in before if (link.start, link.end) == (nearest.start, nearest.end)]
        others = [Mention(link.entity, link.start, link.end) for link in own if link not in named]
        candidates = [link.entity for link in sorted(named, key=lambda link: -link.strength)]
        entity = fitting(candidates, reference, others, normalised, graph, vocabulary)
        if reference.noun:
            entity = next(iter(neighbours_of_kind(graph, vocabulary, entity, reference.noun)), entity)
        said = f"{nearest.said} ({reference.pronoun})"
        resolved.append(Link(entity, nearest.strength, reference.start, reference.end, IN_THE_QUESTION, said))
    return resolved


def fitting(
    candidates: list[str],
    reference: Reference,
    mentions: list[Mention],
    normalised: str,
    graph: CatalogGraph,
    vocabulary: Vocabulary,
) -> str:
    """The first candidate the question's relation holds for, with an other end of the kind it asks for
    ("which components provide it?" means the API, not the team the last answer also named; "which
    department is it under?" the team, not the component it owns); the first one when none does."""
    for entity in candidates:
        here = [*mentions, Mention(entity, reference.start, reference.end)]
        for ask in asked_relations(normalised, here, vocabulary):
            if ask.entity != entity or not ask.direct:
                continue
            ends = [edge.other(entity) for edge in matching_edges(ask, graph.edges.get(entity, []))]
            if any(ask.fits(vocabulary.entity_words.get(end, set())) for end in ends):
                return entity
    return candidates[0]


def neighbours_of_kind(graph: CatalogGraph, vocabulary: Vocabulary, entity: str, noun: str) -> list[str]:
    """The entity's neighbours a kind or type word (its stem) fits: "its *API*". What it has (provides,
    owns, contains) comes before what it uses or belongs to, as the possessive says: a component's API is
    the one it provides, not one it calls. Then in ref order."""
    had = {edge.other(entity) for edge in graph.edges.get(entity, []) if _has(edge, entity)}
    fitting = [other for other in graph.neighbours(entity) if noun in vocabulary.entity_words.get(other, set())]
    return sorted(fitting, key=lambda other: (other not in had, other))


def _has(edge: Edge, entity: str) -> bool:
    """Whether the edge gives the entity the other end as its own: it provides or owns it, or contains it."""
    if edge.relation in (PROVIDES, OWNS):
        return edge.subject == entity
    return edge.relation == BELONGS and edge.object == entity
