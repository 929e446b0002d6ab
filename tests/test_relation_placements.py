"""Relation questions on a catalog snapshot (no embeddings): where the answering records are placed, and the
catalog's own answer."""

from __future__ import annotations

from typing import Any

from assistant.catalog.answers import catalog_facts
from assistant.catalog.focus import Reading, read_question
from assistant.catalog.words import normalise
from assistant.documents import ENTITY, Hit
from assistant.retrieval.placements import of_other_kinds, placements_for
from assistant.retrieval.ranking import ANSWER, ANSWERED, REST, SET_ASIDE, order
from assistant.retrieval.snapshot import CatalogSnapshot
from tests.test_entity_linking import entity

# Real catalogs name APIs and teams in their relations that they never define (`telemetry-api` below).
CATALOG = [
    entity("component", "telemetry-store", "database", providesApis="api:default/telemetry-api"),
    entity("component", "telemetry-collector", "service", consumesApis="api:default/telemetry-api"),
    entity("component", "dashboards", "website", dependsOn="component:default/telemetry-store"),
    entity("component", "lap-viewer", "website", dependsOn="component:default/dashboards"),
    {**entity("resource", "track-maps", "bucket"), "lifecycle": "experimental"},  # no relations at all
]


def snapshot(entities: list[dict[str, Any]]) -> CatalogSnapshot:
    chunks = [(e["entity"], f"{e['kind']} {e['name']}", {**e, "chunk": ENTITY}) for e in entities]
    return CatalogSnapshot.build("test", chunks)


SNAPSHOT = snapshot(CATALOG)
TRACK_MAPS = "resource:default/track-maps"


def read(question: str, history: list[dict[str, str]] | None = None) -> Reading:
    s = SNAPSHOT
    return read_question(question, history or [], s.linker, s.graph, s.vocabulary, s.describes)


def tiers(question: str, history: list[dict[str, str]] | None = None) -> dict[str, int]:
    placed = placements_for(SNAPSHOT, read(question, history), normalise(question), None)
    return {ref: placement.tier for ref, placement in placed.items()}


def test_an_api_the_catalog_only_names_is_asked_about_like_any_entity():
    assert tiers("Which component provides the telemetry API?")["component:default/telemetry-store"] == ANSWER
    placed = tiers("Which services consume the telemetry api?")
    assert placed["component:default/telemetry-collector"] == ANSWER
    assert placed.get("component:default/telemetry-store", REST) == REST


def test_the_catalog_answers_for_an_api_it_only_names_from_the_records_naming_it():
    question = "Which component provides the telemetry API?"
    facts = catalog_facts(SNAPSHOT.graph, SNAPSHOT.vocabulary, read(question), normalise(question))
    assert [fact.sentence() for fact in facts] == [
        "api:default/telemetry-api is provided by component:default/telemetry-store."
    ]
    assert facts[0].stated_by == (("component:default/telemetry-store", "component:default/telemetry-store"),)


def test_a_follow_up_can_refer_to_an_api_the_catalog_only_names():
    history = [
        {"role": "user", "content": "What is the telemetry-store?"},
        {"role": "assistant", "content": "A database that provides the telemetry-api [1]."},
    ]
    assert tiers("Which service uses that api?", history)["component:default/telemetry-collector"] == ANSWER


def test_does_x_use_y_places_the_record_that_states_it():
    placed = tiers("Does lap-viewer depend on dashboards?")
    assert placed["component:default/lap-viewer"] == ANSWER
    assert placed["component:default/dashboards"] == ANSWERED
    # the other way round, the catalog states no such edge: neither record is said to answer it
    reverse = tiers("Does dashboards depend on lap-viewer?")
    assert ANSWER not in reverse.values()


def test_the_catalog_answers_does_x_use_y_only_when_a_record_states_it():
    def sentences(question: str) -> list[str]:
        facts = catalog_facts(SNAPSHOT.graph, SNAPSHOT.vocabulary, read(question), normalise(question))
        return [fact.sentence() for fact in facts]

    assert sentences("Does lap-viewer depend on dashboards?") == [
        "component:default/lap-viewer depends on component:default/dashboards."
    ]
    assert sentences("Does dashboards depend on lap-viewer?") == []


def test_an_entity_without_relations_still_has_its_own_fields_answered():
    question = "What lifecycle is track-maps in?"
    facts = catalog_facts(SNAPSHOT.graph, SNAPSHOT.vocabulary, read(question), normalise(question))
    assert [fact.sentence() for fact in facts] == ["resource:default/track-maps has the lifecycle experimental."]


def test_who_asks_for_whatever_can_play_that_part_in_this_catalog():
    # only components provide APIs here, so "who provides" asks for a component
    assert tiers("Who provides the telemetry API?")["component:default/telemetry-store"] == ANSWER
    # "who" a few words before "call" asks for a person: no component answers it
    placed = tiers("Who is on call for the telemetry API?")
    assert placed.get("component:default/telemetry-collector", REST) == REST


def test_a_pronoun_after_a_name_in_the_same_question_means_that_entity():
    question = "Which component provides the telemetry API, and what consumes it?"
    facts = catalog_facts(SNAPSHOT.graph, SNAPSHOT.vocabulary, read(question), normalise(question))
    assert [fact.sentence() for fact in facts] == [
        "api:default/telemetry-api is provided by component:default/telemetry-store.",
        "api:default/telemetry-api is consumed by component:default/telemetry-collector.",
    ]
    # a conversation about something else does not take "it" away from the name just written
    history = [
        {"role": "user", "content": "What does lap-viewer do?"},
        {"role": "assistant", "content": "It shows laps [1]."},
    ]
    placed = tiers(question, history)
    assert placed["component:default/telemetry-collector"] == ANSWER
    assert placed.get("component:default/lap-viewer", REST) == REST


def test_which_of_those_places_each_listed_entity_as_a_possible_answer():
    listed = [
        {"role": "user", "content": "What depends on the telemetry store?"},
        {"role": "assistant", "content": "dashboards, and lap-viewer through it [1][2]."},
    ]
    placed = tiers("which of those is experimental?", listed)
    assert placed["component:default/dashboards"] == ANSWER
    assert placed["component:default/lap-viewer"] == ANSWER
    # after one entity there is nothing to choose from: "those" are not a list
    one = [{"role": "user", "content": "What is track-maps?"}, {"role": "assistant", "content": "A bucket [1]."}]
    assert ANSWER not in tiers("which of those are experimental?", one).values()


def test_the_other_ones_set_aside_what_was_discussed():
    history = [
        {"role": "user", "content": "What is the dashboards website?"},
        {"role": "assistant", "content": "It shows charts [1]."},
    ]
    assert tiers("and the other websites?", history) == {"component:default/dashboards": SET_ASIDE}
    assert tiers("who owns it?", history)["component:default/dashboards"] != SET_ASIDE


def test_a_question_naming_nothing_that_asks_for_a_kind_ranks_other_kinds_after():
    question = "Which website shows the race results?"
    others = of_other_kinds(SNAPSHOT, read(question), {ref["entity"] for ref in CATALOG})
    assert others == {"component:default/telemetry-store", "component:default/telemetry-collector", TRACK_MAPS}
    store = Hit("store", "telemetry store", {"entity": "component:default/telemetry-store"}, 0.9)
    viewer = Hit("viewer", "lap viewer", {"entity": "component:default/lap-viewer"}, 0.4)
    ranked = order([store, viewer], {}, {}, unwanted=others)
    assert [hit.id for hit in ranked] == ["viewer", "store"]
    assert ranked[1].reason.endswith("not the kind asked for")
    # naming an entity leaves the ranking to what the question asks of it
    assert of_other_kinds(SNAPSHOT, read("Which website depends on dashboards?"), {TRACK_MAPS}) == frozenset()
