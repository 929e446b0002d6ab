"""Questions about catalog relations: which relation a question asks about a named entity, and which way.

"What depends on ollama?" and "What does ollama depend on?" name the same entity and the same relation but
ask in opposite directions, and the catalog record that answers them differs: `ollama-web-ui`'s own
`dependsOn` says it depends on `ollama`; `ollama`'s record lists what `ollama` depends on. Every relation is
read here in the active voice (the dependent *uses*, the provider *provides*, the owner *owns*, the member
*belongs to*), so a question's relation words and where the named entity stands around them (before the
verb: its subject; after: its object; reversed for the passive) say which edges it asks about. The records
that state those edges are the question's evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

USES, PROVIDES, OWNS, BELONGS = "uses", "provides", "owns", "belongs to"
SUBJECT, OBJECT = "subject", "object"

# Stored relation field -> (relation in the active voice, whether the entity that stores it is the subject).
# `X.owner: G` reads "G owns X"; `G.members: [U]` reads "U belongs to G", stated by G.
FIELD_RELATIONS: dict[str, tuple[str, bool]] = {
    "dependsOn": (USES, True),
    "dependencyOf": (USES, False),
    "consumesApis": (USES, True),
    "providesApis": (PROVIDES, True),
    "owner": (OWNS, False),
    "memberOf": (BELONGS, True),
    "members": (BELONGS, False),
    "system": (BELONGS, True),
    "domain": (BELONGS, True),
    "subcomponentOf": (BELONGS, True),
    "parent": (BELONGS, True),
    "children": (BELONGS, False),
}

# How each relation is said: (words, relation, role of an entity named after them, role of one named before).
# Active verbs put their object after them; the passive ("used by") and some nouns ("dependencies of X")
# put the subject there.
_PHRASES: list[tuple[str, str, str, str]] = [
    (r"(?:used|consumed|called|required|needed) by|depended on by|dependenc(?:y|ies) of", USES, SUBJECT, OBJECT),
    (
        r"depend(?:s|ing)? on|use[sd]?|using|talk(?:s|ing)? to|call(?:s|ing)?|rel(?:y|ies|ying) on|needs?"
        r"|requires?|connect(?:s|ing)? to|consume[sd]?|consuming|integrat(?:es?|ing) with"
        r"|(?:dependents?|consumers?|clients?|users?) of",
        USES,
        OBJECT,
        SUBJECT,
    ),
    (r"(?:provided|exposed|implemented|offered|served) by", PROVIDES, SUBJECT, OBJECT),
    (
        r"provides?|providing|exposes?|exposing|implements?|implementing|offers?|serves?"
        r"|(?:providers?|implementations?) of",
        PROVIDES,
        OBJECT,
        SUBJECT,
    ),
    (r"(?:owned|maintained|run|managed) by", OWNS, SUBJECT, OBJECT),
    (r"owners?|maintainers?", OWNS, OBJECT, OBJECT),
    (
        r"own(?:s|ed)?|maintain(?:s|ed)?|responsible for|in charge of|manages?",
        OWNS,
        OBJECT,
        SUBJECT,
    ),
    (r"contains?|containing|includes?|including", BELONGS, SUBJECT, OBJECT),
    # "the components that belong to team a" are the ones it owns
    (r"belong(?:s|ing)? to", OWNS, SUBJECT, OBJECT),
    (
        r"members? of|belong(?:s|ing)? to|part of|parts of|sub ?components? of|sub ?systems? of|in|inside|within",
        BELONGS,
        OBJECT,
        SUBJECT,
    ),
]
_PHRASE_PATTERNS = [
    (re.compile(rf"(?<![a-z0-9])(?:{words})(?![a-z0-9])"), relation, after, before)
    for words, relation, after, before in _PHRASES
]
# Only questions that ask for catalog entities have relation answers; "how do I ... in X" asks for a how-to.
_ASKS_FOR_ENTITIES = re.compile(r"^(?:which|what|who|whom|whose|list|show|name|find|are there|is there|how many)\b")
# Words that may stand between the question word and the relation in "which services use X?",
# "who is in team b?", "what does team a own?": the question word is then the relation's other end.
_FILLER_WORDS = (
    "a an the is are was were be does do did can could will would still currently all other else "
    "there any of our my your their that me us many"
)
_FILLER = frozenset(_FILLER_WORDS.split())
# Nouns that name what kind of entity the question asks for.
_KIND_NOUNS = {
    "component": "component components service services website websites frontend frontends backend backends "
    "library libraries app apps application applications tool tools",
    "system": "system systems",
    "domain": "domain domains",
    "api": "api apis interface interfaces",
    "resource": "resource resources database databases db dbs queue queues bucket buckets",
    "group": "team teams group groups squad squads",
    "user": "user users people person persons member members engineer engineers",
}
KIND_WORDS = {word: kind for kind, words in _KIND_NOUNS.items() for word in words.split()}
_PEOPLE = frozenset({"user", "group"})


@dataclass(frozen=True)
class Edge:
    """One catalog relation in the active voice, and the entity whose record states it."""

    subject: str
    relation: str
    object: str
    stated_by: str

    def describe(self) -> str:
        return f"{self.subject} {self.relation} {self.object}"


@dataclass(frozen=True)
class RelationAsk:
    """A question asks about `relation` edges in which `entity` plays `role`.

    `direct` when the question word itself is the other end ("which services use X?"), and then `kinds`
    are the kinds of entity it asks for (empty: any); `complete` when nothing follows but the relation and
    the entity ("who owns X?", not "what does X use to compute status?").
    """

    entity: str
    relation: str
    role: str
    direct: bool = False
    kinds: frozenset[str] = frozenset()
    complete: bool = False


def edges_of(entity: str, relations: list[str]) -> list[Edge]:
    """The edges an entity's record states, from its `field:ref` relation list."""
    edges = []
    for item in relations:
        field_name, _, other = str(item).partition(":")
        if field_name not in FIELD_RELATIONS or not other:
            continue
        relation, stored_on_subject = FIELD_RELATIONS[field_name]
        subject, obj = (entity, other) if stored_on_subject else (other, entity)
        edges.append(Edge(subject, relation, obj, entity))
    return edges


def asked_relations(question: str, named: list[tuple[str, int, int]]) -> list[RelationAsk]:
    """For each entity named at (start, end) of the normalised question, the relation words nearest it."""
    if not named or not _ASKS_FOR_ENTITIES.match(question):
        return []
    found = [
        (match.start(), match.end(), relation, after, before)
        for pattern, relation, after, before in _PHRASE_PATTERNS
        for match in pattern.finditer(question)
    ]
    # "owned by" is one phrase, not "owned" with "by" after it
    phrases = [
        p for p in found if not any(o[0] <= p[0] and p[1] <= o[1] and (o[0], o[1]) != (p[0], p[1]) for o in found)
    ]
    question_word = question.split(" ", 1)[0]
    asks = []
    for entity, start, end in named:
        around = [p for p in phrases if p[1] <= start or p[0] >= end]
        if not around:
            continue
        distance = [start - p[1] if p[1] <= start else p[0] - end for p in around]
        for (phrase_start, phrase_end, relation, after, before), gap in zip(around, distance, strict=True):
            if gap != min(distance):
                continue
            entity_follows = phrase_end <= start
            between = question[len(question_word) : phrase_start if entity_follows else start].split()
            direct = all(word in _FILLER or word in KIND_WORDS for word in between)
            kinds = frozenset(KIND_WORDS[word] for word in between if word in KIND_WORDS)
            if question_word == "who" and not kinds:
                kinds = _PEOPLE
            rest = question[phrase_end:start] if entity_follows else question[end:phrase_start]
            rest += " " + question[max(end, phrase_end) :]
            complete = all(word in _FILLER or word in KIND_WORDS for word in rest.split())
            role = after if entity_follows else before
            asks.append(RelationAsk(entity, relation, role, direct, kinds, complete))
    return list(dict.fromkeys(asks))


def matching_edges(ask: RelationAsk, edges: list[Edge]) -> list[Edge]:
    """The edges of an entity that a question asks about."""
    return [
        edge
        for edge in edges
        if edge.relation == ask.relation and (edge.subject if ask.role == SUBJECT else edge.object) == ask.entity
    ]
