"""Follow-up questions read against their conversation, without a model."""

from __future__ import annotations

from assistant.catalog.answers import catalog_facts
from assistant.catalog.focus import read_question
from assistant.catalog.linking import IN_THE_QUESTION, LINKED, ONE_OF
from tests.test_entity_linking import build, entity

CATALOG = [
    entity("component", "parcel-tracker", "service", "Parcel Tracker", owner="group:default/tracking-team"),
    entity("component", "route-planner", "service", "Route Planner", owner="user:default/tomas.silva"),
    entity("component", "billing-portal", "website", "Billing Portal", providesApis="api:default/invoice-api"),
    entity("api", "invoice-api", "openapi", "Invoice API", owner="group:default/billing-team"),
    entity("group", "tracking-team", "team", "Tracking Team"),
    entity("group", "billing-team", "team", "Billing Team"),
    entity("user", "tomas.silva", None, "Tomas Silva", memberOf="group:default/tracking-team"),
]
GRAPH, VOCABULARY, LINKER = build(CATALOG)


def turns(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"role": role, "content": content} for role, content in pairs]


def referents(question: str, history: list[dict[str, str]], catalog=(GRAPH, VOCABULARY, LINKER)) -> list[str]:
    graph, vocabulary, linker = catalog
    reading = read_question(question, history, linker, graph, vocabulary)
    return [link.entity for link in reading.links if link.strength >= LINKED]


def test_a_pronoun_means_what_the_user_asked_about():
    history = turns(("user", "What does the route planner do?"), ("assistant", "It plans courier routes [1]."))
    assert referents("Who owns it?", history) == ["component:default/route-planner"]
    reading = read_question("Who owns it?", history, LINKER, GRAPH, VOCABULARY)
    assert "Route Planner" in reading.query  # the follow-up is searched with what it refers to


def test_naming_a_new_entity_moves_the_focus():
    history = turns(("user", "What does the route planner do?"), ("assistant", "It plans routes [1]."))
    assert referents("And who owns the parcel tracker?", history) == ["component:default/parcel-tracker"]


def test_a_kind_word_after_a_determiner_means_the_latest_entity_of_that_kind():
    history = turns(
        ("user", "Tell me about the parcel tracker."),
        ("assistant", "Parcel Tracker is owned by group:default/tracking-team [1]."),
    )
    assert referents("Who else is in that team?", history) == ["group:default/tracking-team"]


def test_he_and_she_mean_a_person():
    history = turns(
        ("user", "Who owns the route planner?"), ("assistant", "Tomas Silva, user:default/tomas.silva [1].")
    )
    assert referents("Which team is he in?", history) == ["user:default/tomas.silva"]


def test_the_referent_is_the_one_the_relation_holds_for():
    history = turns(
        ("user", "Is there an invoice API?"),
        ("assistant", "Yes: the Invoice API, owned by the billing team [1]."),
    )
    # "provide" holds for the API, not for the team the answer also named
    assert referents("Which website provides it?", history) == ["api:default/invoice-api"]


def test_an_ordinal_means_that_place_among_the_names_the_user_wrote():
    history = turns(("user", "Compare the route planner and the parcel tracker"), ("assistant", "Both plan [1][2]."))
    assert referents("Who owns the second one?", history) == ["component:default/parcel-tracker"]
    assert referents("And the former?", history) == ["component:default/route-planner"]
    assert referents("What is the second step to deploy it?", history) == ["component:default/route-planner"]


def test_an_ordinal_after_a_list_answer_means_that_place_in_the_list():
    history = turns(
        ("user", "What does the tracking team own?"),
        ("assistant", "tracking-team owns parcel-tracker and route-planner [1][2]."),
    )
    assert referents("Who owns the last one?", history) == ["component:default/route-planner"]


def test_else_leaves_out_what_was_discussed():
    history = turns(
        ("user", "Who owns the parcel tracker?"),
        ("assistant", "Parcel Tracker is owned by group:default/tracking-team [1]."),
    )
    reading = read_question("What else does that team own?", history, LINKER, GRAPH, VOCABULARY)
    assert reading.discussed == ("component:default/parcel-tracker",)
    assert read_question("What does that team own?", history, LINKER, GRAPH, VOCABULARY).discussed == ()


def test_without_history_nothing_is_assumed():
    assert referents("Who owns it?", []) == []


def test_the_answer_settles_what_a_question_naming_nothing_in_full_was_about():
    asked = "Do we have a portal for delivery maps?"
    assert "component:default/billing-portal" in [link.entity for link in LINKER.link(asked) if link.strength >= LINKED]
    history = turns(("user", asked), ("assistant", "Yes: the Route Planner draws route maps [1]."))
    assert referents("What does it do?", history) == ["component:default/route-planner"]
    # an answer that names what the question matched keeps it as the subject
    confirmed = turns(("user", asked), ("assistant", "The Billing Portal has no maps; Route Planner does [1]."))
    assert referents("Which API does it provide?", confirmed) == ["component:default/billing-portal"]


def test_a_follow_up_of_only_a_name_asks_the_previous_question_of_it():
    history = turns(
        ("user", "Who owns the parcel tracker?"),
        ("assistant", "Parcel Tracker is owned by group:default/tracking-team [1]."),
    )
    for follow_up in ("And the route planner?", "what about route-planner"):
        reading = read_question(follow_up, history, LINKER, GRAPH, VOCABULARY)
        facts = catalog_facts(GRAPH, VOCABULARY, reading, reading.asked)
        assert [fact.sentence() for fact in facts] == [
            "component:default/route-planner is owned by user:default/tomas.silva."
        ]
    # carried on twice: "and the billing portal?" after "and the route planner?"
    longer = [*history, *turns(("user", "And the route planner?"), ("assistant", "Tomas Silva owns it [1]."))]
    reading = read_question("and the billing portal?", longer, LINKER, GRAPH, VOCABULARY)
    assert [fact.sentence() for fact in catalog_facts(GRAPH, VOCABULARY, reading, reading.asked)] == [
        "The catalog names no owner for component:default/billing-portal."
    ]


def test_a_follow_up_that_asks_something_of_its_own_is_not_carried_on():
    history = turns(
        ("user", "Who owns the parcel tracker?"),
        ("assistant", "Parcel Tracker is owned by group:default/tracking-team [1]."),
    )
    reading = read_question("And how do I deploy the route planner?", history, LINKER, GRAPH, VOCABULARY)
    assert catalog_facts(GRAPH, VOCABULARY, reading, reading.asked) == []
    # nor is a name after a question that asked no relation
    about = turns(("user", "What is the parcel tracker?"), ("assistant", "It tracks parcels [1]."))
    reading = read_question("And the route planner?", about, LINKER, GRAPH, VOCABULARY)
    assert reading.asked == "and the route planner"


def test_the_kind_it_provides_means_the_neighbour_not_the_subject():
    history = turns(
        ("user", "What does the billing portal do?"),
        ("assistant", "It lets customers see their bills [1]."),
    )
    # "it" only says which API is meant; the question is about the API
    assert referents("Tell me more about the API it provides", history) == ["api:default/invoice-api"]
    assert referents("Which API does it provide?", history) == ["component:default/billing-portal"]


def test_it_after_a_which_question_means_the_entity_that_answered_it():
    history = turns(
        ("user", "Which website provides the invoice API?"),
        ("assistant", "The billing portal provides it [1]."),
    )
    assert referents("What type is it?", history) == ["component:default/billing-portal"]


def test_it_after_a_who_question_still_means_the_entity_asked_about():
    history = turns(
        ("user", "Who owns the invoice API?"),
        ("assistant", "group:default/billing-team owns it [1]."),
    )
    # a team is "they", not "it"
    assert referents("What type is it?", history) == ["api:default/invoice-api"]
    assert referents("What else do they own?", history) == ["group:default/billing-team"]


def test_its_and_a_kind_word_mean_that_neighbour_of_the_subject():
    history = turns(("user", "What does the billing portal do?"), ("assistant", "It shows customers their bills [1]."))
    assert referents("Who owns its API?", history) == ["api:default/invoice-api"]


def test_that_alone_means_what_the_last_answer_gave():
    history = turns(
        ("user", "Which website provides the invoice API?"),
        ("assistant", "The billing portal provides it [1]."),
    )
    assert referents("What is that exactly?", history) == ["component:default/billing-portal"]
    assert referents("is that documented anywhere", history) == ["component:default/billing-portal"]


def test_that_before_the_relation_words_is_their_subject():
    graph, vocabulary, linker = build(
        [
            entity("system", "payments"),
            entity("component", "payment-service", "service", system="system:default/payments"),
            entity("component", "payment-lib", "library", subcomponentOf="component:default/payment-service"),
        ]
    )
    history = turns(("user", "What is the payment service?"), ("assistant", "It takes card payments [1]."))
    reading = read_question("Which system is that in?", history, linker, graph, vocabulary)
    # the system the service is in, not what is in the service
    assert [fact.sentence() for fact in catalog_facts(graph, vocabulary, reading, reading.asked)] == [
        "component:default/payment-service is part of system:default/payments."
    ]


def test_a_question_that_points_back_at_nothing_carries_on_only_what_the_user_asked_about():
    # the user named nothing; the answer happened to name the billing portal
    history = turns(
        ("user", "My catalog shows no users, what do I do?"),
        ("assistant", "Allow the User kind in catalog.rules, as the Billing Portal's config does [1]."),
    )
    assert referents("And what if the docs do not render?", history) == []
    assert referents("Who owns it?", history) == ["component:default/billing-portal"]
    # after a user turn that named something, the same question carries that on
    asked = turns(("user", "How do I deploy the billing portal?"), ("assistant", "Run the pipeline [1]."))
    assert referents("And what if the docs do not render?", asked) == ["component:default/billing-portal"]


def test_which_one_means_each_of_those_listed_until_the_rest_of_the_question_decides():
    history = turns(
        ("user", "What does the tracking team look after?"),
        ("assistant", "The parcel tracker and the route planner [1][2]."),
    )
    for question in ("Which one is older?", "which of them has the smallest footprint?"):
        reading = read_question(question, history, LINKER, GRAPH, VOCABULARY)
        chosen = [(link.entity, link.how) for link in reading.links if link.strength >= LINKED]
        assert sorted(chosen) == [
            ("component:default/parcel-tracker", ONE_OF),
            ("component:default/route-planner", ONE_OF),
        ], question


SYSTEMS = build(
    [
        entity("system", "payments", None, "Payments"),
        entity("system", "logistics", None, "Logistics"),
        entity("component", "billing-portal", "website", "Billing Portal", system="system:default/payments"),
        entity("component", "parcel-tracker", "service", "Parcel Tracker", system="system:default/logistics"),
    ]
)


def test_a_kind_word_means_the_one_the_subject_relates_to_among_those_named():
    graph, vocabulary, linker = SYSTEMS
    history = turns(
        ("user", "What is the billing portal?"),
        ("assistant", "A website like those in Logistics; it is part of the Payments system [1]."),
    )
    reading = read_question("describe that system", history, linker, graph, vocabulary)
    assert [link.entity for link in reading.links if link.strength >= LINKED] == ["system:default/payments"]
    # another subject: its previous question says nothing about that system
    assert "billing portal" not in reading.query.lower()


def test_a_follow_up_about_the_same_subject_is_searched_with_its_own_topic_and_the_subjects_name():
    history = turns(("user", "How is the route planner deployed?"), ("assistant", "With the pipeline [1]."))
    reading = read_question("how many replicas does it run?", history, LINKER, GRAPH, VOCABULARY)
    assert referents("how many replicas does it run?", history) == ["component:default/route-planner"]
    assert "Route Planner" in reading.query and "deployed" not in reading.query  # the old topic pulls its page


def test_a_new_question_naming_nothing_makes_its_answer_the_subject():
    history = turns(
        ("user", "What does the route planner do?"),
        ("assistant", "It plans courier routes [1]."),
        ("user", "do we have a website for payments?"),
        ("assistant", "Yes, the Billing Portal [1]."),
    )
    assert referents("who owns it?", history) == ["component:default/billing-portal"]
    # a turn that points back goes on about the subject, whatever its answer names
    pointing_back = [
        *history[:2],
        *turns(("user", "how do I pay for it?"), ("assistant", "Via the Billing Portal [1].")),
    ]
    assert referents("who owns it?", pointing_back) == ["component:default/route-planner"]


def test_other_leaves_out_what_only_an_answer_named():
    history = turns(("user", "What is UGER?"), ("assistant", "UGER is the Parcel Tracker's old name [1]."))
    reading = read_question("are there other clusters?", history, LINKER, GRAPH, VOCABULARY)
    assert reading.discussed == ("component:default/parcel-tracker",)
    assert read_question("are there clusters?", history, LINKER, GRAPH, VOCABULARY).discussed == ()


def test_a_name_given_as_an_exception_is_set_aside_not_asked_about():
    reading = read_question("which service is there besides the parcel tracker?", [], LINKER, GRAPH, VOCABULARY)
    assert reading.discussed == ("component:default/parcel-tracker",)
    assert "component:default/parcel-tracker" not in [link.entity for link in reading.links]
    # the question was about the one the answer gave, so "it" means that one
    history = turns(
        ("user", "Which service do we run apart from the parcel tracker?"),
        ("assistant", "The Route Planner, which plans courier routes [1]."),
    )
    assert referents("who owns it?", history) == ["component:default/route-planner"]


def with_relations(metadata: dict, *relations: str) -> dict:
    """An entity with several relations of one field, as `entity()` gives one a field."""
    return {**metadata, "relations": [*metadata["relations"], *relations]}


DISPATCH = build(
    [
        entity("system", "routing", None, "Routing"),
        entity("group", "operations", "department", "Operations"),
        entity("group", "dispatch-team", "team", "Dispatch Team", parent="group:default/operations"),
        with_relations(
            entity("component", "courier-hub", "service", owner="group:default/dispatch-team"),
            "system:system:default/routing",
            "providesApis:api:default/courier-hub",
            "providesApis:api:default/tracking-events",
            "providesApis:api:default/rate-quotes",
            "consumesApis:api:default/address-lookup",
        ),
        entity("api", "courier-hub", "openapi", owner="group:default/dispatch-team"),
        entity("api", "tracking-events", "asyncapi", owner="group:default/dispatch-team"),
        entity("api", "rate-quotes", "openapi", owner="group:default/operations"),
        entity("api", "address-lookup", "openapi"),
        with_relations(
            entity("component", "label-printer", "service"),
            "consumesApis:api:default/address-lookup",
            "providesApis:api:default/print-jobs",
        ),
        entity("api", "print-jobs", "openapi"),
    ]
)


def test_an_ordinal_counts_over_the_list_the_answer_wrote_even_when_a_name_is_also_the_subjects():
    # the first API shares the component's name: it is still the first of the three listed
    history = turns(
        ("user", "What does the courier-hub component provide?"),
        ("assistant", "It provides the courier-hub, tracking-events and rate-quotes APIs [1]."),
    )
    assert referents("who owns the first one?", history, DISPATCH) == ["api:default/courier-hub"]
    assert referents("who owns the third one?", history, DISPATCH) == ["api:default/rate-quotes"]
    # the subject of the answer's sentence is not one of its list
    stated = turns(
        ("user", "What does the courier-hub component provide?"),
        ("assistant", "courier-hub provides tracking-events and rate-quotes [1]."),
    )
    assert referents("who owns the first one?", stated, DISPATCH) == ["api:default/tracking-events"]


def test_a_pronoun_means_the_one_whose_relation_reaches_the_kind_asked_for():
    # the component the answer gave is in a system, but only the team is under a department
    history = turns(("user", "what does the dispatch team own"), ("assistant", "Dispatch Team owns courier-hub [1]."))
    assert referents("which department is it under?", history, DISPATCH) == ["group:default/dispatch-team"]
    assert referents("which system is it in?", history, DISPATCH) == ["component:default/courier-hub"]


def test_its_api_is_one_the_subject_provides_rather_than_one_it_calls():
    history = turns(("user", "Tell me about the label-printer component"), ("assistant", "It prints labels [1]."))
    assert referents("who owns its API?", history, DISPATCH) == ["api:default/print-jobs"]


PORTALS = build(
    [
        entity("component", "tracking-portal", "website", "Tracking Portal", owner="group:default/tracking-team"),
        entity("component", "billing-portal", "website", "Billing Portal", owner="group:default/billing-team"),
        entity("api", "billing-api", "openapi", "Billing API"),
        entity("group", "tracking-team", "team", "Tracking Team"),
        entity("group", "billing-team", "team", "Billing Team"),
    ]
)


def test_the_x_one_is_the_name_asked_about_with_x_in_place_of_one_of_its_words():
    graph, vocabulary, linker = PORTALS
    history = turns(("user", "Who owns the tracking portal?"), ("assistant", "The tracking team [1]."))
    reading = read_question("what about the billing one?", history, linker, graph, vocabulary)
    assert [fact.sentence() for fact in catalog_facts(graph, vocabulary, reading, reading.asked)] == [
        "component:default/billing-portal is owned by group:default/billing-team."
    ]
    # no name is made of it: the question stays as it was
    for question in ("what about the second one?", "what about the new one?"):
        reading = read_question(question, history, linker, graph, vocabulary)
        assert "billing" not in reading.query and "component:default/billing-portal" not in [
            link.entity for link in reading.links
        ], question


def test_it_after_a_name_two_entities_share_means_the_one_its_relation_holds_for():
    graph, vocabulary, linker = DISPATCH
    reading = read_question("who owns courier-hub, and which APIs does it provide?", [], linker, graph, vocabulary)
    [back] = [link for link in reading.links if link.how == IN_THE_QUESTION]
    assert back.entity == "component:default/courier-hub"  # the API of that name provides nothing
    facts = [fact.sentence() for fact in catalog_facts(graph, vocabulary, reading, reading.asked)]
    assert any("provides" in fact and "api:default/tracking-events" in fact for fact in facts), facts


def test_a_word_of_a_name_in_an_answer_does_not_bring_that_entity_into_focus():
    # "parcel events" is not the parcel tracker, though its record is the one that mentions a runbook
    history = turns(
        ("user", "What does the route planner do?"), ("assistant", "It plans routes from parcel events [1].")
    )

    def has_runbook(entity: str, word: str) -> bool:
        return entity == "component:default/parcel-tracker" and word == "runbook"

    reading = read_question("and where is the runbook?", history, LINKER, GRAPH, VOCABULARY, has_runbook)
    assert [link.entity for link in reading.links] == ["component:default/route-planner"]
    named = turns(("user", "What does the route planner do?"), ("assistant", "It reads the Parcel Tracker [1]."))
    reading = read_question("and where is the runbook?", named, LINKER, GRAPH, VOCABULARY, has_runbook)
    assert [link.entity for link in reading.links] == ["component:default/parcel-tracker"]
