"""Which catalog relation a question asks about an entity it names, in which direction, and for what.

"What depends on ollama?" and "What does ollama depend on?" name the same entity and relation but ask
opposite ways. Relations are read in the active voice (`assistant.catalog.relations`); a phrase's words and
where the entity stands around them (after an active verb: its object; before it: its subject; reversed for
the passive) say which edges are asked about, wherever in the sentence they stand ("If I change X, which
services depend on it?", "Can you tell me who owns X?").

The relation's other end is what the question asks for: a question word (who, what, which), or a noun form
that names it ("the owner of X", "consumers of X"), with the catalog's own kind and `spec.type` words
saying what kind of entity is wanted ("which *services*", "which *team*"; "who" wants users and groups).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from assistant.catalog.relations import BELONGS, OWNS, PROVIDES, USES, Edge
from assistant.catalog.vocabulary import PEOPLE_KINDS, Vocabulary
from assistant.catalog.words import FILLER_WORDS, only_adverb, stem

SUBJECT, OBJECT = "subject", "object"
QUESTION_WORDS = frozenset({"who", "whom", "whose", "what", "which"})
_PEOPLE_WORDS = frozenset(stem(kind) for kind in PEOPLE_KINDS)


@dataclass(frozen=True)
class Phrase:
    """How a relation is said: the entity named after the words plays `after`, one named before, `before`.
    A noun form ("owner of", "dependencies of") names the asked-for end itself."""

    words: str
    relation: str
    after: str
    before: str
    noun: bool = False


# The one table of relation wording. Active verbs put their object after them; the passive ("used by")
# and some nouns ("dependencies of X") put the subject there.
PHRASES: tuple[Phrase, ...] = (
    Phrase(r"(?:used|consumed|called|required|needed) by|depended on by", USES, SUBJECT, OBJECT),
    Phrase(r"dependenc(?:y|ies) of", USES, SUBJECT, OBJECT, noun=True),
    Phrase(
        r"depend(?:s|ing|ed)? (?:up)?on|use[sd]?|using|talk(?:s|ing)? to|call(?:s|ing)?|rel(?:y|ies|ying) on"
        r"|needs?|requires?|connect(?:s|ing)? to|consume[sd]?|consuming|integrat(?:es?|ing) with",
        USES,
        OBJECT,
        SUBJECT,
    ),
    Phrase(r"(?:dependents?|consumers?|clients?|users?) of", USES, OBJECT, SUBJECT, noun=True),
    # "X's dependencies" / "its dependencies" are what X uses; "its dependents" what uses it
    Phrase(r"dependencies", USES, SUBJECT, SUBJECT, noun=True),
    Phrase(r"dependents", USES, OBJECT, OBJECT, noun=True),
    # "if I change X, what breaks?", "what is affected if X goes down?": what would break is what uses X
    Phrase(r"breaks?|would break|(?:affected|impacted)(?: by)?", USES, OBJECT, OBJECT),
    Phrase(r"(?:provided|exposed|implemented|offered|served) by", PROVIDES, SUBJECT, OBJECT),
    Phrase(
        r"provides?|providing|exposes?|exposing|implements?|implementing|offers?|serves?", PROVIDES, OBJECT, SUBJECT
    ),
    Phrase(r"(?:providers?|implementations?) of", PROVIDES, OBJECT, SUBJECT, noun=True),
    Phrase(r"(?:owned|maintained|run|managed|looked after) by", OWNS, SUBJECT, OBJECT),
    Phrase(r"owners?|maintainers?|ownership", OWNS, OBJECT, OBJECT, noun=True),
    Phrase(
        r"own(?:s|ed)?|maintain(?:s|ed)?|responsible for|in charge of|manages?|behind|look(?:s|ing)? after"
        r"|takes? care of",
        OWNS,
        OBJECT,
        SUBJECT,
    ),
    Phrase(r"contains?|containing|includes?|including|consists? of", BELONGS, SUBJECT, OBJECT),
    # "the components that belong to team a" are the ones it owns, or its members'
    Phrase(r"belong(?:s|ing)? to", OWNS, SUBJECT, OBJECT),
    Phrase(r"members? of|parts? of|sub ?components? of|sub ?systems? of", BELONGS, OBJECT, SUBJECT, noun=True),
    # the group hierarchy, in the catalog's own words (`spec.parent`, `spec.children`)
    Phrase(r"parents?(?: groups?)?(?: of)?", BELONGS, SUBJECT, SUBJECT, noun=True),
    Phrase(r"(?:child(?:ren)?|child groups?|sub ?groups?)(?: of)?", BELONGS, OBJECT, OBJECT, noun=True),
    Phrase(r"as (?:an? |its )?(?:child(?: group)?|sub ?group)", BELONGS, SUBJECT, SUBJECT),  # "has X as a child"
    Phrase(r"as (?:an? |its )?parent(?: group)?", BELONGS, OBJECT, OBJECT),
    Phrase(r"belong(?:s|ing)? to|in|inside|within|under", BELONGS, OBJECT, SUBJECT),
)
_PATTERNS = [(re.compile(rf"(?<![a-z0-9])(?:{phrase.words})(?![a-z0-9])"), phrase) for phrase in PHRASES]


@dataclass(frozen=True)
class RelationAsk:
    """A question asks about `relation` edges in which `entity` plays `role`.

    `direct` when a question word or a noun form is the relation's other end ("which services use X?"), and
    then `wants` are the kind and type words (stems) of what it asks for (empty: any entity); `complete`
    when nothing else is asked ("who owns X?", not "what does X use to compute status?").
    """

    entity: str
    relation: str
    role: str
    direct: bool = False
    wants: frozenset[str] = frozenset()
    complete: bool = False

    def fits(self, entity_words: set[str]) -> bool:
        return not self.wants or bool(self.wants & entity_words)


@dataclass(frozen=True)
class Mention:
    """An entity the question names (or refers to: "it"), and where."""

    entity: str
    start: int
    end: int


def asked_relations(question: str, mentions: list[Mention], vocabulary: Vocabulary) -> list[RelationAsk]:
    """For each entity mentioned at (start, end) of the normalised question, the relation words nearest it."""
    if not mentions:
        return []
    phrases = _phrases(question)
    # "X's owner and dependencies": another relation asked of it is not something else asked
    unsaid = _blanked(question, [(start, end) for start, end, _ in phrases])
    asks = []
    for mention in mentions:
        around = [p for p in phrases if p[1] <= mention.start or p[0] >= mention.end]
        if not around:
            continue
        gaps = [mention.start - p[1] if p[1] <= mention.start else p[0] - mention.end for p in around]
        for (start, end, phrase), gap in zip(around, gaps, strict=True):
            if gap != min(gaps):
                continue
            follows = end <= mention.start
            role = phrase.after if follows else phrase.before
            asked_role = OBJECT if role == SUBJECT else SUBJECT
            between = unsaid[end : mention.start] if follows else unsaid[mention.end : start]
            rest = f"{between} {unsaid[max(mention.end, end) :]}"
            complete = all(_incidental(word, vocabulary) for word in rest.split())
            people = not complete or vocabulary.people_can(phrase.relation, asked_role)
            direct, wants = _other_end(question, start, end, phrase, mention, vocabulary, people)
            asks.append(RelationAsk(mention.entity, phrase.relation, role, direct, wants, complete))
    return list(dict.fromkeys(asks))


def asked_kinds(question: str, vocabulary: Vocabulary) -> frozenset[str]:
    """The kind or type words a question word determines ("*which service* generates the PDFs?"): what
    the question asks for, whether or not it names an entity or says a relation."""
    return frozenset(
        stem(following)
        for word, following in itertools.pairwise(question.split())
        if word in ("which", "what") and stem(following) in vocabulary.kind_words
    )


def relation_spans(question: str) -> list[tuple[int, int]]:
    """Where the normalised question says a relation: those words are the relation, not part of a name
    ("who *provides* it?" does not mean `email-provider`)."""
    return [(start, end) for start, end, _ in _phrases(question)]


def _phrases(question: str) -> list[tuple[int, int, Phrase]]:
    found = [(m.start(), m.end(), phrase) for pattern, phrase in _PATTERNS for m in pattern.finditer(question)]
    # "owned by" is one phrase, not "owned" with "by" after it
    return [p for p in found if not any(o[0] <= p[0] and p[1] <= o[1] and o[:2] != p[:2] for o in found)]


def edges_between(asks: list[RelationAsk], edges: dict[str, list[Edge]]) -> list[Edge]:
    """The catalog's edges between two entities a question names on either side of one relation's words, in
    the roles the words give them ("does X use Y?", "is X owned by G?"). None: the catalog does not say so."""
    subjects = [(ask.relation, ask.entity) for ask in asks if not ask.direct and ask.role == SUBJECT]
    objects = {(ask.relation, ask.entity) for ask in asks if not ask.direct and ask.role == OBJECT}
    return [
        edge
        for relation, subject in subjects
        for edge in edges.get(subject, [])
        if edge.relation == relation and edge.subject == subject != edge.object and (relation, edge.object) in objects
    ]


def _other_end(
    question: str, start: int, end: int, phrase: Phrase, mention: Mention, vocabulary: Vocabulary, people: bool
) -> tuple[bool, frozenset[str]]:
    """Whether the relation's other end is what is asked for, and the kind words that say what that is.

    Reads leftwards from the phrase over function words, kind words and the mention itself ("which services
    depend on X", "what does X use"); a question word reached that way is the other end. "Who" wants users
    and groups (`people`: "who owns X?"), except as the verb's own subject where people cannot be that end
    ("who provides X?" in a catalog where only components provide APIs; not "who is on call for X?")."""
    wants: set[str] = set()
    reached_question_word = False
    left = _without(question[:start], mention).split()
    for index in range(len(left) - 1, -1, -1):
        word = left[index]
        if word in QUESTION_WORDS:
            reached_question_word = True
            subject = not people and index == len(left) - 1  # "who provides X", nothing between
            wants |= _PEOPLE_WORDS if word in ("who", "whom", "whose") and not subject and not wants else set()
            break
        stemmed = stem(word)
        if stemmed in vocabulary.kind_words:
            wants.add(stemmed)
        elif word not in FILLER_WORDS and not only_adverb(word):
            # "which frontend talks to X": the noun "which" determines is what it asks for, even when the
            # catalog has no kind or type by that name ("what happens in X" has a verb there, not a noun)
            reached_question_word = index > 0 and left[index - 1] == "which"
            break
    if phrase.noun:  # "the owner of X": the noun is the other end; a kind word after it may say more
        after = question[end:].split()[:1]
        wants |= {stem(w) for w in after if stem(w) in vocabulary.kind_words}
        return True, frozenset(wants)
    return reached_question_word, frozenset(wants)


def _blanked(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with the spans blanked, each character kept in its place."""
    for start, end in spans:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def _without(text: str, mention: Mention) -> str:
    """The text with the mention blanked, so "what does X use" reads as "what does use"."""
    if mention.end > len(text):
        return text
    return _blanked(text, [(mention.start, mention.end)])


def _incidental(word: str, vocabulary: Vocabulary) -> bool:
    return word in FILLER_WORDS or only_adverb(word) or stem(word) in vocabulary.kind_words


def matching_edges(ask: RelationAsk, edges: list[Edge]) -> list[Edge]:
    """The edges of an entity that a question asks about."""
    return [
        edge
        for edge in edges
        if edge.relation == ask.relation and (edge.subject if ask.role == SUBJECT else edge.object) == ask.entity
    ]
