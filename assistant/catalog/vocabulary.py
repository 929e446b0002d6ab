"""What the catalog itself says about how it is named: labels, name parts and how telling each part is,
and the kind and `spec.type` words its entities answer to.

A word's weight is its inverse document frequency over the entities' names and titles: in a catalog where
every name starts with `acme-`, "acme" tells nothing about which entity is meant, and "datastore" a lot.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from assistant.catalog.graph import CatalogGraph
from assistant.catalog.words import camel_splits, label_forms, name_parts, normalise, stem

MIN_LABEL_CHARS = 3
# Locations are how a catalog is laid out in files, not something anyone asks about; their names
# ("example-components") would otherwise answer to kind words.
UNNAMED_KINDS = frozenset({"location"})
# "who" asks for the kinds that can own things and be members, per Backstage's catalog model.
PEOPLE_KINDS = frozenset({"user", "group"})


@dataclass
class Vocabulary:
    labels: dict[str, set[str]] = field(default_factory=dict)  # normalised name or title -> refs
    joined: dict[str, set[str]] = field(default_factory=dict)  # "queueproxy" -> refs named `queue-proxy`
    parts: dict[str, list[str]] = field(default_factory=dict)  # ref -> stems of its name and title words
    splits: dict[str, list[str]] = field(default_factory=dict)  # "zookeep" -> ["zoo", "keeper"] (CamelCase)
    # two neighbouring words of a name written as one: "keyvault" -> the stems of `key-vault`
    compounds: dict[str, set[str]] = field(default_factory=dict)
    by_part: dict[str, set[str]] = field(default_factory=dict)  # stem -> refs whose names hold it
    spelled: dict[str, str] = field(default_factory=dict)  # a name word as written -> its stem
    weight: dict[str, float] = field(default_factory=dict)  # stem -> idf among names
    acronyms: dict[str, set[str]] = field(default_factory=dict)  # "tgwu" -> refs
    kind_words: dict[str, set[str]] = field(default_factory=dict)  # stem -> kinds ("servic" -> component...)
    entity_words: dict[str, set[str]] = field(default_factory=dict)  # ref -> stems of its kind and type
    kind_weight: dict[str, float] = field(default_factory=dict)  # kind/type stem -> idf among entities
    informations: dict[str, float] = field(default_factory=dict)  # ref -> summed weight of its name words
    # (relation, role) pairs a user or group plays in some edge of this catalog: "who owns X?" asks for
    # people, "who provides X?" for whatever provides APIs here. None: not known, "who" means people.
    people_roles: frozenset[tuple[str, str]] | None = None

    @classmethod
    def of_graph(cls, graph: CatalogGraph) -> Vocabulary:
        """The words of every entity the catalog holds or its relations name (`CatalogGraph.named_only`)."""
        vocabulary = cls.build({**graph.entities, **graph.named_only()})
        vocabulary.people_roles = frozenset(
            (edge.relation, role)
            for edges in graph.edges.values()
            for edge in edges
            for role, end in (("subject", edge.subject), ("object", edge.object))
            if graph.kind(end) in PEOPLE_KINDS
        )
        return vocabulary

    def people_can(self, relation: str, role: str) -> bool:
        """Whether a user or group can play `role` in `relation` here (always, when not known)."""
        return self.people_roles is None or (relation, role) in self.people_roles

    @classmethod
    def build(cls, entities: dict[str, dict[str, Any]]) -> Vocabulary:
        vocabulary = cls()
        frequency: Counter[str] = Counter()
        for ref, metadata in entities.items():
            if str(metadata.get("kind") or "") in UNNAMED_KINDS:
                continue
            name, title = str(metadata.get("name") or ""), str(metadata.get("title") or "")
            for key in dict.fromkeys(form for label in (name, title) for form in label_forms(label)):
                if len(key) >= MIN_LABEL_CHARS:
                    vocabulary.labels.setdefault(key, set()).add(ref)
                if " " in key:
                    vocabulary.joined.setdefault(key.replace(" ", ""), set()).add(ref)
            vocabulary._add_kind_words(ref, metadata)
            # `billing-team`'s "team" is its type, not its name: "the team" names no group, and "the billing
            # team" matches its name word and its type word once each
            written = name_parts(name, title)
            own_words = vocabulary.entity_words[ref]
            stems = [s for s in dict.fromkeys(stem(word) for word in written) if s not in own_words]
            vocabulary.spelled.update({word: stem(word) for word in written})
            # "ZooKeeper" is one word of the name, also findable as "zoo" and "keeper": its pieces are
            # indexed but add no information of their own
            for joined, pieces in camel_splits(name, title).items():
                vocabulary.splits[stem(joined)] = [s for s in dict.fromkeys(map(stem, pieces)) if s not in own_words]
            whole = {stem(word) for label in (name, title) for word in normalise(label).split()}
            for label in (name, title):
                for first, second in itertools.pairwise(normalise(label).split()):
                    vocabulary.compounds.setdefault(first + second, set()).update((stem(first), stem(second)))
            vocabulary.parts[ref] = [s for s in stems if s in whole]
            frequency.update(stems)
            for part in stems:
                vocabulary.by_part.setdefault(part, set()).add(ref)
            for acronym in _acronyms(name):
                vocabulary.acronyms.setdefault(acronym, set()).add(ref)
        total = max(len(entities), 1)
        vocabulary.weight = {part: math.log((1 + total) / count) for part, count in frequency.items()}
        kinds = Counter(word for stems in vocabulary.entity_words.values() for word in stems)
        vocabulary.kind_weight = {word: math.log((1 + total) / count) for word, count in kinds.items()}
        weight = vocabulary.weight
        vocabulary.informations = {ref: sum(weight[p] for p in parts) for ref, parts in vocabulary.parts.items()}
        return vocabulary

    def _add_kind_words(self, ref: str, metadata: dict[str, Any]) -> None:
        kind = str(metadata.get("kind") or ref.partition(":")[0]).lower()
        type_ = str(metadata.get("type") or "")
        stems = {stem(word) for word in [kind, *normalise(type_).split()] if word}
        self.entity_words[ref] = stems
        for word in stems:
            self.kind_words.setdefault(word, set()).add(kind)

    def information(self, ref: str) -> float:
        """How much naming this entity in full tells: the summed weight of its name's words."""
        return self.informations.get(ref, 0.0)

    def matched_information(self, ref: str, sureness: dict[str, float]) -> float:
        """How much of that the matched name parts (stem -> how sure the match is) tell. A CamelCase word
        counts once, whether written whole ("zookeeper") or in its pieces ("zoo keeper")."""
        total = 0.0
        for part in self.parts.get(ref, []):
            weight = self.weight.get(part, 0.0)
            gained = weight * sureness.get(part, 0.0)
            pieces = [(self.weight.get(piece, 0.0), sureness.get(piece, 0.0)) for piece in self.splits.get(part, [])]
            if (pieces_weight := sum(w for w, _ in pieces)) > 0:
                gained = max(gained, weight * sum(w * sure for w, sure in pieces) / pieces_weight)
            total += gained
        return total


def _acronyms(name: str) -> list[str]:
    """`text-generation-web-ui` -> `tgwu`: only names of three or more words have one worth matching."""
    words = [word for word in normalise(name).split() if word]
    return ["".join(word[0] for word in words)] if len(words) >= 3 else []
