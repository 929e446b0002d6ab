"""How text is rid of entities a reader may not read (the Backstage round trip is in test_permissions_backstage)."""

from assistant.permissions import mentioned_refs, redact

GATEWAY = """Component (service): Payments Gateway [component:default/payments-gateway]
Description: Takes card payments; see component:default/fraud-scorer for the scores.
Owner: group:default/payments
Depends on: component:default/fraud-scorer, component:default/ledger
Consumes APIs: api:default/fraud-api
Lifecycle: production"""
HIDDEN = {"component:default/fraud-scorer", "api:default/fraud-api"}


def test_hidden_refs_leave_lists_and_lines_that_name_them_go():
    shown = redact(GATEWAY, HIDDEN)
    assert "fraud" not in shown
    assert "Depends on: component:default/ledger" in shown  # the list keeps what may be read
    assert "Consumes APIs" not in shown  # nothing left in it: the line goes
    assert "Description" not in shown  # prose naming it cannot be cut cleanly: the line goes
    assert shown.startswith("Component (service): Payments Gateway") and shown.endswith("Lifecycle: production")


def test_text_naming_nothing_hidden_is_left_as_it_is():
    assert redact(GATEWAY, set()) == GATEWAY
    assert redact(GATEWAY, {"component:default/elsewhere"}) == GATEWAY
    assert redact(GATEWAY, {"component:default/fraud", "component:default/led"}) == GATEWAY  # whole refs only


def test_refs_are_found_by_kind_and_not_confused_with_urls_or_images():
    text = "See https://example.com/x, image:docker.io/library/x and user:default/ben.wilcock. Also group:ops/sre-a."
    assert mentioned_refs(text) == {"user:default/ben.wilcock", "group:ops/sre-a"}
    assert mentioned_refs("custom:default/thing") == set()
    assert mentioned_refs("custom:default/thing", {"custom"}) == {"custom:default/thing"}
