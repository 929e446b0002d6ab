"""Retrieval on real data no one here wrote (the Backchat demo) and on our own sample catalog."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from assistant.documents import Document, Hit
from assistant.embeddings import Embedder
from assistant.knowledge import KnowledgeBase, open_chroma
from assistant.retrieval import CatalogIndex, Retriever, tokenize
from ingest.pipeline import run_ingest
from ingest.sources.local_files import LocalFilesSource
from tests.conftest import BIN, EXAMPLES, REPO, SHARED

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def retriever(fixture_data_dir: Path, embedder: Embedder) -> Retriever:
    return Retriever(KnowledgeBase(open_chroma(fixture_data_dir, None), embedder, "assistant-test"))


@pytest.fixture(scope="module")
def sample_retriever(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Retriever:
    data_dir = tmp_path_factory.mktemp("sample")
    kb = KnowledgeBase(open_chroma(data_dir, None), embedder, "assistant-test")
    assert run_ingest(kb, [LocalFilesSource(EXAMPLES)], data_dir / "lock").ok
    return Retriever(kb)


def test_named_component_comes_first(retriever: Retriever):
    hits = retriever.retrieve("Who owns the backchat-plugin component?", k=5)
    assert hits[0].entity == "component:default/backchat-plugin"
    assert "named in the question" in hits[0].reason


def test_sources_are_distinct_and_scored(retriever: Retriever):
    hits = retriever.retrieve("How do I start the AI servers for Backchat?", k=8)
    keys = [hit.source_key for hit in hits]
    assert len(keys) == len(set(keys))
    assert all(0 <= hit.score <= 1 and hit.reason for hit in hits)
    # the score is the fused similarity; only what the question names or asks about is placed otherwise
    placed = ("named in the question", "linked by", "answers:", "catalog:", "referred to")
    unplaced = [hit.score for hit in hits if not any(marker in hit.reason for marker in placed)]
    assert unplaced == sorted(unplaced, reverse=True)


def test_user_names_with_dots_are_matched(retriever: Retriever):
    assert retriever.retrieve("Who is ben.wilcock?", k=5)[0].entity == "user:default/ben.wilcock"


def test_tags_are_matched(retriever: Retriever, sample_retriever: Retriever):
    assert retriever.retrieve("Which components are tagged chatbotui?", k=5)[0].entity == "component:default/chatbot-ui"
    assert sample_retriever.retrieve("Which services are tagged pci?", k=5)[0].entity == (
        "component:default/payment-gateway"
    )


def test_word_forms_match_through_stemming(sample_retriever: Retriever):
    assert tokenize("archived") == tokenize("archive")
    hits = sample_retriever.retrieve("Where are shipping labels archived?", k=3)
    assert hits[0].entity == "resource:default/label-archive"


def test_api_definition_keys_are_not_keywords(sample_retriever: Retriever):
    snapshot = sample_retriever.index.current()
    definitions = [n for n, m in enumerate(snapshot.metadatas) if m.get("chunk") == "definition"]
    assert definitions
    # `responses:` is in every OpenAPI document; its stem is the stem of "responsible"
    assert not snapshot.bm25_scores("responsible")[definitions].any()
    assert snapshot.bm25_scores("invoices line items")[definitions].any()  # what the values say still counts
    hits = sample_retriever.retrieve("Which team is responsible for invoicing?", k=5)
    assert hits[0].entity in {"group:default/billing-team", "component:default/invoice-service"}


def test_a_part_of_an_api_definition_comes_with_the_api_entry(sample_retriever: Retriever):
    [hit] = sample_retriever.retrieve("Which endpoint returns one invoice with its line items?", k=1)
    assert hit.metadata["chunk"] == "definition"
    # the reader (and the model) sees what the API is and who owns it before the part of the spec
    assert hit.text.startswith("API (openapi): Invoice API [api:default/invoice-api]")
    assert "Owner: group:default/billing-team" in hit.text and "/invoices/{invoiceId}" in hit.text


def test_techdocs_questions_find_the_page(retriever: Retriever):
    hits = retriever.retrieve("What is on the Backchat plugin roadmap?", k=3)
    assert hits[0].source_key == ("system:default/backchat", "the-backchat-plugin")


def test_entity_scope_covers_the_entity_and_its_neighbours(retriever: Retriever):
    hits = retriever.retrieve("Which model does it use?", k=10, entity="component:default/ollama")
    entities = {hit.entity for hit in hits}
    assert "component:default/ollama" in entities
    assert entities <= {
        "component:default/ollama",
        "component:default/ollama-web-ui",
        "resource:default/mistral-7b",
        "group:default/open-source",
        "system:default/backchat",
    }


def test_facts_include_reverse_relations(retriever: Retriever):
    [fact] = retriever.facts("What depends on ollama?")
    assert fact.startswith("component:default/ollama (Ollama):")
    assert "is a dependency of component:default/ollama-web-ui" in fact
    assert "depends on resource:default/mistral-7b" in fact
    assert "owned by group:default/open-source" in fact


def test_what_depends_on_an_entity_ranks_the_dependents_first(retriever: Retriever):
    hits = retriever.retrieve("Which frontend talks to the Ollama backend?", k=5)
    assert hits[0].entity == "component:default/ollama-web-ui"
    assert "answers: component:default/ollama-web-ui uses component:default/ollama" in hits[0].reason
    assert hits[1].entity == "component:default/ollama"  # what the answer names follows it
    assert "named by the answers" in hits[1].reason


def test_what_an_entity_depends_on_keeps_the_entity_first(retriever: Retriever):
    hits = retriever.retrieve("What does Ollama depend on?", k=5)
    assert [hit.entity for hit in hits[:2]] == ["component:default/ollama", "resource:default/mistral-7b"]
    assert "named by the answer: component:default/ollama uses resource:default/mistral-7b" in hits[1].reason
    hits = retriever.retrieve("Which language model does Ollama depend on?", k=5)
    assert hits[0].entity == "component:default/ollama"


def test_the_record_that_states_a_relation_comes_first(retriever: Retriever, sample_retriever: Retriever):
    hits = retriever.retrieve("Who is responsible for the backchat system?", k=3)
    assert hits[0].entity == "system:default/backchat"
    assert "answers: user:default/ben.wilcock owns system:default/backchat" in hits[0].reason
    assert hits[1].entity == "user:default/ben.wilcock"  # the other end follows the record that names it
    # more to the question than the relation: the page on computing status answers it, not the entity
    hits = sample_retriever.retrieve("What does the parcel tracker use to compute status?", k=3)
    assert hits[0].source_key == ("component:default/parcel-tracker", "index")


def test_incidental_relation_words_move_nothing(sample_retriever: Retriever):
    hits = sample_retriever.retrieve("Which Java version does the parcel tracker use locally?", k=5)
    assert hits[0].source_key == ("component:default/parcel-tracker", "running-locally")
    assert not [hit for hit in hits if "catalog:" in hit.reason]


def test_what_a_team_owns_comes_first_then_the_owner(retriever: Retriever, sample_retriever: Retriever):
    owned = {
        "system:default/backchat",
        "component:default/backchat-plugin",
        "resource:default/mistral-7b",
        "resource:default/openllama-7b-open-instruct",
    }
    hits = retriever.retrieve("What does Ben Wilcock own?", k=5)
    assert {hit.entity for hit in hits[:4]} == owned
    assert hits[4].entity == "user:default/ben.wilcock"  # the named entity follows the answers
    # the question word names the kind: systems first, though the team owns components too
    hits = sample_retriever.retrieve("Which systems does the tracking team own?", k=5)
    assert hits[0].entity == "system:default/parcel-tracking"
    members = [hit.entity for hit in sample_retriever.retrieve("Who is in the platform team?", k=3)]
    assert set(members[:2]) == {"user:default/amara.okafor", "user:default/jonas.berg"}
    assert members[2] == "group:default/platform-team"


def test_relations_of_the_wrong_kind_do_not_displace_the_answer(sample_retriever: Retriever):
    # the billing portal depends on the payment gateway, but "who" asks for a person: the docs answer it
    hits = sample_retriever.retrieve("Who needs to review changes to the payment gateway?", k=5)
    assert hits[0].source_key == ("system:default/billing", "index")


def test_relation_questions_stay_inside_the_entity_scope(retriever: Retriever):
    scope = retriever.scope("component:default/ollama-web-ui")
    hits = retriever.retrieve("What depends on mistral-7b?", k=10, entity="component:default/ollama-web-ui")
    assert hits and {hit.entity for hit in hits} <= scope
    assert hits[0].entity == "component:default/ollama"


def doc(name: str, text: str) -> Document:
    return Document(
        id=f"component:default/{name}",
        text=text,
        metadata={"entity": f"component:default/{name}", "name": name, "chunk": "entity", "kind": "component"},
    )


def test_keyword_index_follows_incremental_ingests(kb: KnowledgeBase, tmp_path: Path):
    retriever = Retriever(kb)
    retriever.index = CatalogIndex(kb, check_interval=0)
    kb.sync("s", [doc("alpha", "Alpha service renders invoices")])
    assert retriever.retrieve("zebra-sync", k=1)[0].entity == "component:default/alpha"  # the only one
    kb.sync("s", [doc("alpha", "Alpha service renders invoices"), doc("zebra-sync", "Copies data nightly")])
    assert retriever.retrieve("what is zebra-sync", k=1)[0].entity == "component:default/zebra-sync"
    kb.sync("s", [doc("zebra-sync", "Copies data nightly")])
    assert {h.entity for h in retriever.retrieve("alpha invoices", k=5)} == {"component:default/zebra-sync"}


def test_the_service_answers_from_the_last_index_while_it_rebuilds(kb: KnowledgeBase):
    index = CatalogIndex(kb, check_interval=0, refresh_in_background=True)
    not_yet_refreshed = Retriever(kb)
    not_yet_refreshed.index = CatalogIndex(kb, check_interval=3600)
    kb.sync("s", [doc("alpha", "Alpha service renders invoices")])
    first = index.current()  # the first index is built before answering: there is nothing else
    assert set(first.entities) == {"component:default/alpha"} == set(not_yet_refreshed.index.current().entities)
    kb.sync("s", [doc("alpha", "Alpha service renders invoices"), doc("zebra-sync", "Copies data nightly")])
    assert index.current() is first  # no question waits for the rebuild
    # a chunk newer than the index is still found by meaning, its text read from the store
    hits = not_yet_refreshed.retrieve("copies data every night", k=2)
    assert "component:default/zebra-sync" not in not_yet_refreshed.index.current().entities
    assert [hit.text for hit in hits if hit.entity == "component:default/zebra-sync"] == ["Copies data nightly"]
    deadline = time.monotonic() + 60
    while (latest := index.current()) is first and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(latest.entities) == {"component:default/alpha", "component:default/zebra-sync"}


def run_eval(data_dir: Path, questions: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update({"ASSISTANT_DATA_DIR": str(data_dir), "ASSISTANT_COLLECTION": "assistant-test"})
    return subprocess.run(
        [str(BIN / "assistant"), "eval", "--questions", str(questions), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


# The targets of the retrieval issue: the build fails below them. Follow-ups are retrieved with their history.
@pytest.mark.parametrize(
    ("questions", "count", "min_recall_at_1", "min_mrr"),
    [("backchat-dev.jsonl", 20, 0.95, 0.97), ("backchat-conversations-dev.jsonl", 6, 0.90, 0.0)],
)
def test_dev_question_sets_meet_the_targets(
    fixture_data_dir: Path, questions: str, count: int, min_recall_at_1: float, min_mrr: float
):
    targets = ["--min-recall", "1.0", "--min-recall-at-1", str(min_recall_at_1), "--min-mrr", str(min_mrr)]
    result = run_eval(fixture_data_dir, SHARED / "eval" / questions, "--k", "5", "--json", *targets)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["questions"] == count and report["k"] == 5
    assert {"recall_at_k", "recall_at_1", "mrr", "misses"} <= set(report)


@pytest.mark.parametrize(
    ("questions", "min_recall_at_1", "min_mrr"),
    [("lumen-freight.jsonl", 0.95, 0.97), ("lumen-freight-conversations.jsonl", 0.90, 0.0)],
)
def test_sample_question_sets_meet_the_targets(
    sample_retriever: Retriever, questions: str, min_recall_at_1: float, min_mrr: float
):
    from assistant.evaluation import evaluate, load_questions

    def retrieve(question: str, k: int, history: Sequence[dict[str, str]]) -> list[Hit]:
        return sample_retriever.retrieve(question, k, history=history)

    report = evaluate(retrieve, load_questions(REPO / "eval" / questions), 5)
    assert report.recall_at_k == 1.0, report.misses
    assert report.recall_at_1 >= min_recall_at_1 and report.mrr >= min_mrr, report.misses


def test_a_follow_up_is_retrieved_with_its_conversation(fixture_data_dir: Path, tmp_path: Path):
    """The same follow-up finds a different entity depending on what the conversation was about."""
    lines = []
    for asked, expected in (("What is LocalAI?", "localai"), ("Tell me about Ollama.", "ollama")):
        history = [{"role": "user", "content": asked}, {"role": "assistant", "content": "It is a component [1]."}]
        expected_ref = {"entity": f"component:default/{expected}"}
        lines.append(json.dumps({"history": history, "question": "Who owns it?", "expected": [expected_ref]}))
    questions = tmp_path / "follow-ups.jsonl"
    questions.write_text("\n".join(lines) + "\n")
    result = run_eval(fixture_data_dir, questions, "--k", "1", "--json", "--min-recall", "1.0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["recall_at_k"] == 1.0


def test_eval_below_target_fails_and_lists_misses(fixture_data_dir: Path, tmp_path: Path):
    questions = tmp_path / "hard.jsonl"
    questions.write_text(
        json.dumps(
            {
                "question": "Who owns the backchat-plugin component?",
                "expected": [{"entity": "component:default/does-not-exist"}],
            }
        )
        + "\n"
    )
    result = run_eval(fixture_data_dir, questions, "--k", "3", "--min-recall", "0.5")
    assert result.returncode == 1
    assert "missed: Who owns the backchat-plugin component?" in result.stdout
    assert "below target" in result.stderr


def test_malformed_question_file_names_the_line(fixture_data_dir: Path, tmp_path: Path):
    questions = tmp_path / "bad.jsonl"
    questions.write_text('{"question": "ok", "expected": [{"entity": "component:default/x"}]}\n{"question": \n')
    result = run_eval(fixture_data_dir, questions)
    assert result.returncode == 2 and "bad.jsonl:2" in result.stderr


def test_which_one_chooses_among_what_the_answer_listed(sample_retriever: Retriever):
    history = [
        {"role": "user", "content": "Which databases do we run?"},
        {"role": "assistant", "content": "tracking-db and billing-db, both PostgreSQL 16 [1][2]."},
    ]
    for question, chosen in (
        ("which one stores invoices?", "resource:default/billing-db"),
        ("Which of them keeps the scan history?", "resource:default/tracking-db"),
    ):
        hits = sample_retriever.retrieve(question, 5, history=history)
        assert hits[0].entity == chosen, question
        assert "one of those the conversation listed" in hits[0].reason
        assert "one of those the conversation listed" in hits[1].reason  # the other one


def test_sources_are_the_same_whether_the_question_was_embedded_before_or_meanwhile(sample_retriever: Retriever):
    # first asked: its vector is computed while the keyword side is worked out; asked again: it is known
    question = "Which services depend on the event bus, and how are they deployed? (asked once here)"
    first = sample_retriever.retrieve(question, 8)
    again = sample_retriever.retrieve(question, 8)
    assert [(hit.id, round(hit.score, 6), hit.reason) for hit in first] == [
        (hit.id, round(hit.score, 6), hit.reason) for hit in again
    ]
    assert any("answers" in hit.reason for hit in first)  # placed entities were scored on both paths


def test_identifiers_are_searched_by_their_words():
    # "min replicas" as a question says it finds `minReplicas` as a config file writes it
    assert {"min", "replica", "minreplicas"} <= set(tokenize("minReplicas: 3"))
    assert {"storag", "manag", "storagemanager"} <= set(tokenize("the StorageManager API"))


def test_a_question_set_may_write_refs_in_lower_case_as_backstage_compares_them():
    from assistant.evaluation import matches

    hit = Hit("api:tsg/sessionData", "text", {"entity": "api:tsg/sessionData"}, 0.5)
    assert matches(hit, [("api:tsg/sessiondata", None)])
    assert not matches(hit, [("api:tsg/session", None)])


def test_what_the_name_leaves_over_chooses_among_the_named_entitys_sources(tmp_path: Path, embedder: Embedder):
    # the record says what Renovate is; the page says when it runs: "it" names Renovate, "run" and "repo" ask
    # about the schedule, so the page comes first although the record matches the conversation better
    entity = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {
            "name": "renovate",
            "description": "Renovate, the dependency update bot of our repositories.",
            "annotations": {"backstage.io/techdocs-ref": "dir:."},
        },
        "spec": {"type": "service", "lifecycle": "production", "owner": "group:platform"},
    }
    folder = tmp_path / "catalog" / "renovate"
    (folder / "docs").mkdir(parents=True)
    (folder / "catalog-info.yaml").write_text(json.dumps(entity), encoding="utf-8")
    (folder / "mkdocs.yml").write_text("site_name: Renovate\n", encoding="utf-8")
    (folder / "docs" / "index.md").write_text(
        "# Renovate\n\nRenovate opens merge requests that bump the versions of our dependencies.\n\n## Schedule\n\n"
        "A Kubernetes CronJob runs it every night at 03:00 against the infrastructure repo only.\n",
        encoding="utf-8",
    )
    kb = KnowledgeBase(open_chroma(tmp_path / "data", None), embedder, "assistant-test")
    assert run_ingest(kb, [LocalFilesSource(tmp_path / "catalog")], tmp_path / "lock").ok
    history = [
        {"role": "user", "content": "what dependency update bot do we use?"},
        {"role": "assistant", "content": "Renovate, running as a Kubernetes CronJob [1]."},
    ]
    hits = Retriever(kb).retrieve("when does it run and against which repo?", k=2, history=history)
    assert [(hit.entity, hit.page) for hit in hits] == [
        ("component:default/renovate", "index"),
        ("component:default/renovate", None),
    ]
