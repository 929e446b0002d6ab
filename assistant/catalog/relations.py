"""The catalog's relation fields, defined once: how ingest writes them, how facts read, how questions ask.

Every relation is read in the active voice (the dependent *uses*, the provider *provides*, the owner
*owns*, the member *belongs to*) so that a question and a record meet on the same verb whichever entity's
record states the edge: `X.owner: G` reads "G owns X", stated by X; `G.members: [U]` reads "U belongs to G",
stated by G.
"""

from __future__ import annotations

from dataclasses import dataclass

USES, PROVIDES, OWNS, BELONGS = "uses", "provides", "owns", "belongs to"


@dataclass(frozen=True)
class RelationField:
    """One `spec` field that points at other entities."""

    field: str
    label: str  # in the entity's text: "Owner: group:default/team-a"
    default_kind: str  # Backstage's kind for a bare name in this field
    verb: str  # the relation in the active voice
    stored_on_subject: bool  # whether the entity whose record holds the field is the verb's subject
    forward: str  # read from the entity that states it: "owned by"
    reverse: str  # read from the other end: "owns"
    says: str = ""  # a sentence's verb from the entity that states it: "X is owned by G"
    said: str = ""  # from the other end: "G owns X"


RELATIONS: tuple[RelationField, ...] = (
    RelationField("owner", "Owner", "group", OWNS, False, "owned by", "owns", "is owned by", "owns"),
    RelationField("system", "System", "system", BELONGS, True, "part of system", "has part", "is part of", "contains"),
    RelationField(
        "domain", "Domain", "domain", BELONGS, True, "in domain", "has system", "is in the domain", "contains"
    ),
    RelationField(
        "subcomponentOf",
        "Part of",
        "component",
        BELONGS,
        True,
        "subcomponent of",
        "has subcomponent",
        "is a subcomponent of",
        "has the subcomponent",
    ),
    RelationField(
        "dependsOn",
        "Depends on",
        "component",
        USES,
        True,
        "depends on",
        "is a dependency of",
        "depends on",
        "is a dependency of",
    ),
    RelationField(
        "dependencyOf",
        "Dependency of",
        "component",
        USES,
        False,
        "is a dependency of",
        "depends on",
        "is a dependency of",
        "depends on",
    ),
    RelationField(
        "providesApis",
        "Provides APIs",
        "api",
        PROVIDES,
        True,
        "provides API",
        "is provided by",
        "provides",
        "is provided by",
    ),
    RelationField(
        "consumesApis",
        "Consumes APIs",
        "api",
        USES,
        True,
        "consumes API",
        "is consumed by",
        "consumes",
        "is consumed by",
    ),
    RelationField(
        "memberOf", "Member of", "group", BELONGS, True, "member of", "has member", "is a member of", "has the member"
    ),
    RelationField(
        "parent",
        "Parent group",
        "group",
        BELONGS,
        True,
        "child group of",
        "parent group of",
        "is a child group of",
        "is the parent group of",
    ),
    RelationField(
        "children",
        "Child groups",
        "group",
        BELONGS,
        False,
        "parent group of",
        "child group of",
        "is the parent group of",
        "is a child group of",
    ),
    RelationField(
        "members", "Members", "user", BELONGS, False, "has member", "member of", "has the member", "is a member of"
    ),
)
BY_FIELD: dict[str, RelationField] = {relation.field: relation for relation in RELATIONS}


def wording(field_name: str) -> tuple[str, str]:
    """(forward, reverse) wording of a field; an unknown field is read by its own name."""
    relation = BY_FIELD.get(field_name)
    return (relation.forward, relation.reverse) if relation else (field_name, f"{field_name} of")


@dataclass(frozen=True)
class Edge:
    """One catalog relation in the active voice, and the entity whose record states it."""

    subject: str
    relation: str
    object: str
    stated_by: str
    field: str = ""

    def describe(self) -> str:
        return f"{self.subject} {self.relation} {self.object}"

    def other(self, entity: str) -> str:
        """The end that is not `entity` (`entity` itself for an edge from an entity to itself)."""
        return self.object if self.subject == entity else self.subject


def edges_of(entity: str, relations: list[str]) -> list[Edge]:
    """The edges an entity's record states, from its `field:ref` relation list."""
    edges = []
    for item in relations:
        field_name, _, other = str(item).partition(":")
        relation = BY_FIELD.get(field_name)
        if relation is None or not other:
            continue
        subject, obj = (entity, other) if relation.stored_on_subject else (other, entity)
        edges.append(Edge(subject, relation.verb, obj, entity, field_name))
    return edges
