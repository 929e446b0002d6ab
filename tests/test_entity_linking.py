"""Linking a question to the catalog entities it means, on a catalog whose names all share a prefix."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.catalog.graph import CatalogGraph
from assistant.catalog.linking import LINKED, NAMED, EntityLinker, Link
from assistant.catalog.vocabulary import Vocabulary


def entity(kind: str, name: str, type_: str | None = None, title: str | None = None, **relations: str) -> dict:
    return {
        "entity": f"{kind}:default/{name}",
        "kind": kind,
        "name": name,
        "title": title or name,
        "type": type_,
        "relations": [f"{field}:{ref}" for field, ref in relations.items()],
    }


CATALOG = [
    entity("system", "nimbus"),
    entity("component", "nimbus-metadata-search-service", "service", owner="group:default/search-squad"),
    entity("component", "nimbus-datastore", "system-module", owner="group:default/storage-squad"),
    entity("api", "nimbus-datastore-storagemanager-api", "openapi", "StorageManager API"),
    entity("component", "nimbus-ingest-worker", "service"),
    entity("component", "nimbus-web", "website"),
    entity("api", "nimbus-web-api", "openapi"),
    entity("component", "text-generation-web-ui", "service"),
    entity("component", "queue-proxy", "service"),
    entity("component", "api", "service", "api"),  # a real catalog names its gateway just "api"
    entity("component", "dex-app", "app"),
    entity("api", "app-crd", "crd", "App CRD"),  # every word of its title is a type word of the catalog
    entity("group", "search-squad", "team"),
    entity("group", "storage-squad", "team"),
    entity("location", "nimbus-components"),
]


def build(entities: list[dict[str, Any]]) -> tuple[CatalogGraph, Vocabulary, EntityLinker]:
    graph = CatalogGraph()
    for metadata in entities:
        graph.add(metadata)
    vocabulary = Vocabulary.of_graph(graph)
    return graph, vocabulary, EntityLinker(vocabulary)


@pytest.fixture(scope="module")
def linker() -> EntityLinker:
    return build(CATALOG)[2]


def strongest(linker: EntityLinker, question: str) -> Link:
    return linker.link(question)[0]


def test_part_of_a_name_links_the_entity(linker: EntityLinker):
    link = strongest(linker, "How do I reindex the search service?")
    assert link.entity == "component:default/nimbus-metadata-search-service"
    assert link.strength >= LINKED and link.said == "search"


def test_a_word_every_name_shares_tells_nothing_but_a_whole_name_does(linker: EntityLinker):
    links = linker.link("Who is the owner of the Nimbus system as a whole?")
    assert links[0].entity == "system:default/nimbus" and links[0].strength == 1.0
    assert all(link.strength < LINKED for link in links[1:])


def test_a_type_word_picks_the_entity_it_fits(linker: EntityLinker):
    link = strongest(linker, "What does the datastore module do?")
    assert link.entity == "component:default/nimbus-datastore"
    others = {link.entity: link.strength for link in linker.link("What does the datastore module do?")}
    assert others.get("api:default/nimbus-datastore-storagemanager-api", 0.0) < link.strength


def test_a_type_word_that_does_not_fit_counts_against(linker: EntityLinker):
    links = {link.entity: link.strength for link in linker.link("Where is the nimbus web website deployed?")}
    assert links["component:default/nimbus-web"] > links.get("api:default/nimbus-web-api", 0.0)


def test_camel_case_titles_and_joined_names(linker: EntityLinker):
    assert (
        strongest(linker, "Who uses the StorageManager API?").entity
        == "api:default/nimbus-datastore-storagemanager-api"
    )
    assert strongest(linker, "what kind of component is queueproxy").entity == "component:default/queue-proxy"


def test_misspelled_names_are_linked(linker: EntityLinker):
    link = strongest(linker, "what does the datastroe module store?")
    assert link.entity == "component:default/nimbus-datastore" and link.strength >= LINKED


def test_one_wrong_or_swapped_letter_in_a_short_word_is_still_near(linker: EntityLinker):
    *_, short = build([entity("component", "ledger", "service"), entity("component", "router")])
    for typed in ("ledgar", "ldeger"):  # a wrong letter, two swapped: one slip each
        link = strongest(short, f"what does the {typed} service do?")
        assert link.entity == "component:default/ledger" and link.strength >= LINKED, typed
    assert all(link.entity != "component:default/ledger" for link in short.link("what does the lender do?"))


def test_two_words_of_a_name_written_as_one(linker: EntityLinker):
    *_, vaults = build(
        [entity("component", "orders-key-vault", "module"), entity("component", "orders-api-gateway", "module")]
    )
    link = strongest(vaults, "who owns the orders keyvault?")
    assert link.entity == "component:default/orders-key-vault" and link.strength >= LINKED


def test_acronyms_of_long_names(linker: EntityLinker):
    link = strongest(linker, "how do I restart tgwu?")
    assert link.entity == "component:default/text-generation-web-ui" and link.how == "linked by acronym"


def test_a_kind_word_alone_names_nothing(linker: EntityLinker):
    # "team" is every group's type and "components" is in a Location's name: neither names an entity
    assert [link for link in linker.link("Which team owns the most components?") if link.strength >= LINKED] == []


def test_a_kind_word_names_an_entity_called_so_only_when_written_as_its_name(linker: EntityLinker):
    linked = [link.entity for link in linker.link("Which APIs does the web consume?") if link.strength >= LINKED]
    assert "component:default/nimbus-web" in linked and "component:default/api" not in linked
    assert strongest(linker, "who owns the api component?").entity == "component:default/api"
    linked = [link.entity for link in linker.link("What type of API is queue-proxy?") if link.strength >= LINKED]
    assert linked == ["component:default/queue-proxy"]
    assert strongest(linker, "Which component provides the App CRD?").entity == "api:default/app-crd"


def test_an_entity_named_after_its_own_type_is_what_the_word_names():
    # a catalog that types its broker "kafka" and its topics "kafka-topic"
    linker = build(
        [
            entity("resource", "kafka", "kafka"),
            entity("api", "order-events", "kafka-topic"),
            entity("component", "order-service", "service"),
        ]
    )[2]
    linked = [link.entity for link in linker.linked("which services would be affected if kafka goes down")]
    assert linked == ["resource:default/kafka"]
    # a kind word beside it says which entities are meant: the topics, not the broker
    linked = [link.entity for link in linker.linked("which kafka topics does order-service provide?")]
    assert linked == ["component:default/order-service"]


def test_why_says_how_an_entity_was_linked(linker: EntityLinker):
    link = strongest(linker, "How do I reindex the search service?")
    assert link.describe().startswith("linked by name words 'search' (")


ENSEMBLES = [
    entity("component", "zookeeper-ensemble", "service", "ZooKeeper Ensemble"),
    entity("component", "kafka-ensemble", "service"),
    entity("resource", "zookeeper-storage", "storage"),
]


def test_a_camel_case_word_counts_once_whether_written_whole_or_in_pieces():
    linker = build(ENSEMBLES)[2]
    whole = {link.entity: link.strength for link in linker.link("Which ensemble runs zookeeper?")}
    pieces = {link.entity: link.strength for link in linker.link("Which ensemble runs zoo keeper?")}
    assert whole["component:default/zookeeper-ensemble"] >= LINKED
    assert pieces["component:default/zookeeper-ensemble"] == whole["component:default/zookeeper-ensemble"]


def test_the_entity_that_explains_more_of_the_words_wins():
    links = build(ENSEMBLES)[2].link("zookeper ensamble owner")
    assert links[0].entity == "component:default/zookeeper-ensemble" and links[0].strength >= LINKED
    assert all(link.strength < LINKED for link in links[1:])


def test_accented_names_are_found_typed_with_or_without_their_accents():
    _, _, linker = build([entity("user", "fdupond", None, "Frédérique Dupond"), entity("user", "jdoe", None, "Jo Doe")])
    for question in ("What does Frederique Dupond work on?", "what does frédérique dupond work on"):
        link = strongest(linker, question)
        assert (link.entity, link.strength, link.how) == ("user:default/fdupond", 1.0, NAMED)


def test_citation_marks_in_an_answer_name_nothing():
    # an answer in the history cites "[1]"; the 1 in these teams' names is not what it means
    _, _, linker = build([entity("group", "team-payments-1", "team"), entity("group", "team-orders-1", "team")])
    assert linker.link("Ana Lima and Bo Chen are its members [1].") == []
    assert [link.entity for link in linker.linked("who is in team-orders-1?")] == ["group:default/team-orders-1"]


def test_words_that_say_a_relation_are_not_name_words():
    _, _, linker = build([entity("component", "email-provider", "service"), entity("api", "smtp-api", "openapi")])
    assert [link.entity for link in linker.linked("who provides it?")] == []
    assert [link.entity for link in linker.linked("which email provider is it?")] == [
        "component:default/email-provider"
    ]
    assert [link.entity for link in linker.linked("what does email-provider provide?")] == [
        "component:default/email-provider"
    ]


def test_one_and_ones_stand_for_a_noun_and_name_nothing():
    _, _, linker = build([entity("system", "one-platform"), entity("resource", "apps-mongodb", "database")])
    assert [link.entity for link in linker.linked("and the mongodb ones?")] == ["resource:default/apps-mongodb"]
    assert [link.entity for link in linker.linked("what is in One Platform?")] == ["system:default/one-platform"]
