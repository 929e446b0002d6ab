"""Reading which catalog relation a question asks about, and in which direction."""

from __future__ import annotations

from assistant.relations import (
    BELONGS,
    OBJECT,
    OWNS,
    SUBJECT,
    USES,
    Edge,
    RelationAsk,
    asked_relations,
    edges_of,
    matching_edges,
)
from assistant.retrieval import normalise_label

OLLAMA = "component:default/ollama"


def asks(question: str, **names: str) -> list[RelationAsk]:
    """asked_relations for a question whose named entities are given as label=ref."""
    text = normalise_label(question)
    spans = []
    for label, ref in names.items():
        label = label.replace("_", " ")
        start = text.index(label)
        spans.append((ref, start, start + len(label)))
    return asked_relations(text, spans)


def test_an_entity_after_an_active_verb_is_its_object():
    [ask] = asks("Which frontend talks to the Ollama backend?", ollama=OLLAMA)
    assert (ask.relation, ask.role) == (USES, OBJECT)
    assert ask.direct and ask.kinds == {"component"}


def test_listing_requests_ask_like_questions():
    [ask] = asks("Show me the services that depend on billing-db", billing_db="resource:default/billing-db")
    assert (ask.relation, ask.role, ask.direct, ask.kinds) == (USES, OBJECT, True, {"component"})


def test_an_entity_before_the_verb_is_its_subject():
    [ask] = asks("Which language model does Ollama depend on?", ollama=OLLAMA)
    assert (ask.relation, ask.role) == (USES, SUBJECT)
    assert not ask.direct  # "language model" is not the kind of an entity the catalog knows


def test_the_passive_voice_swaps_the_roles():
    [ask] = asks("Which components are owned by Tomas Silva?", tomas_silva="user:default/tomas.silva")
    assert (ask.relation, ask.role) == (OWNS, SUBJECT)
    assert ask.direct and ask.kinds == {"component"}


def test_a_question_is_complete_when_nothing_but_the_relation_and_entity_is_asked():
    [ask] = asks("Who is responsible for the backchat system?", backchat="system:default/backchat")
    assert ask.complete and (ask.relation, ask.role) == (OWNS, OBJECT)
    tracker = "component:default/parcel-tracker"
    [ask] = asks("What does the parcel tracker use to compute status?", parcel_tracker=tracker)
    assert ask.direct and not ask.complete
    [ask] = asks("Which team does the parcel tracker quietly depend on?", parcel_tracker=tracker)
    assert not ask.complete  # words between the entity and the relation count too


def test_a_passive_phrase_is_read_whole_wherever_the_entity_stands():
    [ask] = asks("What is the parcel tracker used by?", parcel_tracker="component:default/parcel-tracker")
    assert (ask.relation, ask.role) == (USES, OBJECT)


def test_who_asks_for_people_and_teams():
    [ask] = asks("Who is in the platform team?", platform_team="group:default/platform-team")
    assert (ask.relation, ask.role) == (BELONGS, OBJECT)
    assert ask.kinds == {"user", "group"}


def test_belonging_to_a_team_reads_as_membership_or_ownership():
    found = asks("Which components belong to the open-source group?", open_source="group:default/open-source")
    assert {(a.relation, a.role) for a in found} == {(BELONGS, OBJECT), (OWNS, SUBJECT)}


def test_how_to_questions_ask_for_no_relation():
    assert asks("How do I point Chatbot UI at the LocalAI server?", localai="component:default/localai") == []
    assert asks("How do I configure webhooks in the billing system?", billing="system:default/billing") == []


def test_a_question_without_relation_words_asks_for_none():
    assert asks("What is the email address of Team A?", team_a="group:default/team-a") == []


def test_edges_read_each_field_in_the_active_voice():
    edges = edges_of(
        "component:default/web",
        ["owner:group:default/web-team", "dependsOn:component:default/api", "providesApis:api:default/web-api"],
    )
    assert edges == [
        Edge("group:default/web-team", OWNS, "component:default/web", "component:default/web"),
        Edge("component:default/web", USES, "component:default/api", "component:default/web"),
        Edge("component:default/web", "provides", "api:default/web-api", "component:default/web"),
    ]
    [members] = edges_of("group:default/web-team", ["members:user:default/ana"])
    assert members == Edge("user:default/ana", BELONGS, "group:default/web-team", "group:default/web-team")


def test_matching_edges_follow_the_asked_direction():
    web_uses_api = Edge("component:default/web", USES, "component:default/api", "component:default/web")
    api_uses_db = Edge("component:default/api", USES, "resource:default/db", "component:default/api")
    edges = [web_uses_api, api_uses_db]
    assert matching_edges(RelationAsk("component:default/api", USES, OBJECT), edges) == [web_uses_api]
    assert matching_edges(RelationAsk("component:default/api", USES, SUBJECT), edges) == [api_uses_db]
    assert matching_edges(RelationAsk("component:default/api", OWNS, SUBJECT), edges) == []
