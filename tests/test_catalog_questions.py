"""Reading which catalog relation a question asks about, in which direction, and for what kind of entity."""

from __future__ import annotations

from assistant.catalog.questions import OBJECT, SUBJECT, Mention, RelationAsk, asked_relations, matching_edges
from assistant.catalog.relations import BELONGS, OWNS, PROVIDES, USES, Edge, edges_of
from assistant.catalog.vocabulary import Vocabulary
from assistant.catalog.words import normalise, stem

OLLAMA = "component:default/ollama"
ENTITIES = {
    OLLAMA: {"kind": "component", "name": "ollama", "type": "service"},
    "component:default/web": {"kind": "component", "name": "web", "type": "website"},
    "group:default/platform-team": {"kind": "group", "name": "platform-team", "type": "team"},
    "user:default/tomas.silva": {"kind": "user", "name": "tomas.silva", "title": "Tomas Silva"},
    "resource:default/billing-db": {"kind": "resource", "name": "billing-db", "type": "database"},
    "system:default/backchat": {"kind": "system", "name": "backchat"},
}
VOCABULARY = Vocabulary.build(ENTITIES)


def asks(question: str, **names: str) -> list[RelationAsk]:
    """asked_relations for a question whose mentioned entities are given as label=ref."""
    text = normalise(question)
    mentions = []
    for label, ref in names.items():
        label = label.replace("_", " ")
        start = text.index(label)
        mentions.append(Mention(ref, start, start + len(label)))
    return asked_relations(text, mentions, VOCABULARY)


def test_an_entity_after_an_active_verb_is_its_object_and_the_kind_word_says_what_is_wanted():
    [ask] = asks("Which services talk to the Ollama backend?", ollama=OLLAMA)
    assert (ask.relation, ask.role) == (USES, OBJECT)
    assert ask.direct and ask.wants == {stem("services")}


def test_the_relation_may_stand_anywhere_in_the_sentence():
    [ask] = asks("If I change billing-db, which services depend on it?", it="resource:default/billing-db")
    assert (ask.relation, ask.role, ask.direct) == (USES, OBJECT, True)
    [ask] = asks("Can you tell me who owns Ollama?", ollama=OLLAMA)
    assert (ask.relation, ask.role, ask.direct, ask.complete) == (OWNS, OBJECT, True, True)


def test_what_would_break_or_be_affected_is_what_uses_the_entity():
    for question in ("What breaks if billing-db goes down?", "which services are affected if billing-db is down"):
        [ask] = asks(question, billing_db="resource:default/billing-db")
        assert (ask.relation, ask.role, ask.direct) == (USES, OBJECT, True), question


def test_an_entity_before_the_verb_is_its_subject():
    [ask] = asks("What does Ollama depend on?", ollama=OLLAMA)
    assert (ask.relation, ask.role, ask.direct) == (USES, SUBJECT, True)
    [ask] = asks("Which language model does Ollama depend on?", ollama=OLLAMA)
    assert (ask.relation, ask.role) == (USES, SUBJECT)
    assert not ask.direct  # "language model" says more than a kind: the relation words are incidental


def test_the_passive_voice_swaps_the_roles():
    [ask] = asks("Which websites are owned by Tomas Silva?", tomas_silva="user:default/tomas.silva")
    assert (ask.relation, ask.role) == (OWNS, SUBJECT)
    assert ask.direct and ask.wants == {stem("website")}


def test_noun_forms_name_the_asked_end_themselves():
    [ask] = asks("Tell me the owner of billing-db", billing_db="resource:default/billing-db")
    assert (ask.relation, ask.role, ask.direct) == (OWNS, OBJECT, True)
    [ask] = asks("List the consumers of the Ollama API", ollama=OLLAMA)
    assert (ask.relation, ask.role, ask.direct) == (USES, OBJECT, True)


def test_a_question_is_complete_when_nothing_but_the_relation_and_entity_is_asked():
    [ask] = asks("Who is responsible for the backchat system?", backchat="system:default/backchat")
    assert ask.complete and (ask.relation, ask.role) == (OWNS, OBJECT)
    [ask] = asks("What does Ollama use to compute status?", ollama=OLLAMA)
    assert ask.direct and not ask.complete


def test_a_second_relation_asked_of_the_same_entity_is_not_something_else_asked():
    [ask] = asks("ollama owner and dependencies", ollama=OLLAMA)
    assert ask.relation == OWNS and ask.complete
    [ask] = asks("ollama owner and release notes", ollama=OLLAMA)
    assert ask.relation == OWNS and not ask.complete


def test_who_asks_for_people_and_teams():
    [ask] = asks("Who is in the platform team?", platform_team="group:default/platform-team")
    assert (ask.relation, ask.role) == (BELONGS, OBJECT)
    assert ask.wants == {"user", "group"}


def test_belonging_to_a_team_reads_as_membership_or_ownership():
    found = asks("Which services belong to the platform team?", platform_team="group:default/platform-team")
    assert {(a.relation, a.role) for a in found} == {(BELONGS, OBJECT), (OWNS, SUBJECT)}


def test_the_group_hierarchy_is_read_in_both_directions():
    [ask] = asks("What is the parent group of the platform team?", platform_team="group:default/platform-team")
    assert (ask.relation, ask.role, ask.direct) == (BELONGS, SUBJECT, True)
    [ask] = asks("What child groups does platform-team have?", platform_team="group:default/platform-team")
    assert (ask.relation, ask.role, ask.direct) == (BELONGS, OBJECT, True)
    [ask] = asks("Which group has platform-team as a child?", platform_team="group:default/platform-team")
    assert (ask.relation, ask.role, ask.direct) == (BELONGS, SUBJECT, True)


def test_how_to_questions_ask_for_no_relation():
    assert not any(a.direct for a in asks("How do I point the web app at Ollama?", ollama=OLLAMA))


def test_a_question_without_relation_words_asks_for_none():
    assert asks("What is the email address of the platform team?", platform_team="group:default/platform-team") == []


def test_edges_read_each_field_in_the_active_voice():
    web = "component:default/web"
    edges = edges_of(
        web, ["owner:group:default/web-team", "dependsOn:component:default/api", "providesApis:api:default/w"]
    )
    assert [(e.subject, e.relation, e.object, e.stated_by) for e in edges] == [
        ("group:default/web-team", OWNS, web, web),
        (web, USES, "component:default/api", web),
        (web, PROVIDES, "api:default/w", web),
    ]
    [members] = edges_of("group:default/web-team", ["members:user:default/ana"])
    assert (members.subject, members.relation, members.object) == (
        "user:default/ana",
        BELONGS,
        "group:default/web-team",
    )


def test_matching_edges_follow_the_asked_direction():
    web_uses_api = Edge("component:default/web", USES, "component:default/api", "component:default/web")
    api_uses_db = Edge("component:default/api", USES, "resource:default/db", "component:default/api")
    edges = [web_uses_api, api_uses_db]
    assert matching_edges(RelationAsk("component:default/api", USES, OBJECT), edges) == [web_uses_api]
    assert matching_edges(RelationAsk("component:default/api", USES, SUBJECT), edges) == [api_uses_db]
    assert matching_edges(RelationAsk("component:default/api", OWNS, SUBJECT), edges) == []


def test_a_named_entitys_dependencies_are_what_it_uses_and_its_dependents_what_uses_it():
    for question in ("What are ollama's dependencies?", "ollama dependencies", "the dependencies of ollama"):
        [ask] = asks(question, ollama=OLLAMA)
        assert (ask.relation, ask.role, ask.direct) == (USES, SUBJECT, True), question
    for question in ("What are ollama's dependents?", "list the dependents of ollama"):
        [ask] = asks(question, ollama=OLLAMA)
        assert (ask.relation, ask.role, ask.direct) == (USES, OBJECT, True), question


def test_an_adverb_between_the_question_word_and_the_verb_changes_nothing():
    [ask] = asks("Who actually owns Ollama currently?", ollama=OLLAMA)
    assert (ask.relation, ask.role, ask.direct, ask.complete) == (OWNS, OBJECT, True, True)
    [ask] = asks("Which services really depend on billing-db?", billing_db="resource:default/billing-db")
    assert (ask.relation, ask.direct, ask.wants) == (USES, True, {stem("services")})
    # a verb there is no adverb: "what happens in X" does not ask what X contains
    [ask] = asks("What happens in backchat?", backchat="system:default/backchat")
    assert not ask.direct
