"""Retrieval benchmark: quality against a vector-only baseline, and latency at catalog scale.

    python benchmarks/retrieval.py                  # full run: 10,000 entities, 50,000 TechDocs chunks
    python benchmarks/retrieval.py --entities 1000 --chunks 5000   # a quick look

1. For each question set (../shared/eval/*.jsonl over ../shared/fixtures/<name>, and eval/*.jsonl over
   examples/), conversations included: recall@1, recall@5 and MRR of vector-only top-k over the same
   chunks (the baseline, which sees only the last question) and of the full retriever (which reads the
   conversation), and their ratio. `--catalog DIR --questions FILE...` measures a catalog of your own.
2. A synthetic catalog generated here and ingested through the real ingest code: recall@5 on generated
   name-lookup questions, and retrieval latency p50/p95 (query embedding included).

The synthetic store is cached in benchmarks/.cache (embedding 60,000 chunks on two cores takes a while);
delete that folder to rebuild it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assistant.documents import Document, Hit  # noqa: E402
from assistant.embeddings import Embedder  # noqa: E402
from assistant.evaluation import EvalQuestion, evaluate, load_questions  # noqa: E402
from assistant.knowledge import KnowledgeBase, open_chroma  # noqa: E402
from assistant.retrieval import Retriever, best_per_source  # noqa: E402
from ingest.entities import entity_documents, entity_metadata  # noqa: E402
from ingest.pipeline import run_ingest  # noqa: E402
from ingest.sources.local_files import LocalFilesSource  # noqa: E402
from ingest.techdocs import page_documents  # noqa: E402

SHARED = REPO.parent / "shared"
Retrieve = Callable[[str, int, Sequence[dict[str, str]]], list[Hit]]


def is_retrieval_set(file: Path) -> bool:
    """Retrieval sets have `expected`; answer sets (`must_mention`) are measured by `assistant eval --answers`."""
    first = next((line for line in file.read_text(encoding="utf-8").splitlines() if line.strip()), "{}")
    return "expected" in json.loads(first)


def question_sets() -> Iterator[tuple[str, Path, Path]]:
    for questions in sorted((SHARED / "eval").glob("*.jsonl")):
        catalog = SHARED / "fixtures" / questions.stem.split("-")[0]
        if catalog.is_dir() and is_retrieval_set(questions):
            yield questions.name, questions, catalog
    for questions in sorted((REPO / "eval").glob("*.jsonl")):
        if is_retrieval_set(questions):
            yield questions.name, questions, REPO / "examples"


def vector_only(kb: KnowledgeBase) -> Retrieve:
    return lambda question, k, history: best_per_source(kb.search(question, 50), k)


def full_retriever(retriever: Retriever) -> Retrieve:
    return lambda question, k, history: retriever.retrieve(question, k, history=history)


def quality_row(name: str, retrieve: Retrieve, questions: list[EvalQuestion]) -> tuple[float, float, float]:
    at_5 = evaluate(retrieve, questions, 5)
    print(f"  {name:<24} recall@1 {at_5.recall_at_1:.3f}   recall@5 {at_5.recall_at_k:.3f}   MRR {at_5.mrr:.3f}")
    return at_5.recall_at_1, at_5.recall_at_k, at_5.mrr


def quality(embedder: Embedder, sets: list[tuple[str, Path, Path]]) -> None:
    print("== Quality on the question sets (k=5)")
    for name, questions_file, catalog in sets:
        with tempfile.TemporaryDirectory() as folder:
            kb = KnowledgeBase(open_chroma(Path(folder), None), embedder, "bench-quality")
            run_ingest(kb, [LocalFilesSource(catalog)], Path(folder) / "lock")
            questions = load_questions(questions_file)
            print(f"{name} over {os.path.relpath(catalog, REPO)} ({len(questions)} questions)")
            base = quality_row("vector-only (baseline)", vector_only(kb), questions)
            full = quality_row("full retriever", full_retriever(Retriever(kb)), questions)
            ratios = "   ".join(
                f"{label} x{f / b:.2f}"
                for label, f, b in zip(("recall@1", "recall@5", "MRR"), full, base, strict=True)
                if b
            )
            print(f"  {'ratio full/baseline':<24} {ratios}")


WORDS = (  # noqa: SIM905 - a word list reads better as text
    "amber atlas beacon cedar comet delta ember falcon fjord garnet harbor helix indigo jasper kestrel "
    "lagoon lumen maple meadow nebula onyx orchid pioneer quartz raven sable sierra summit talon tundra "
    "umber vector willow zephyr anchor bramble cobalt dune eclipse fern glacier hollow iris juniper kelp "
    "lotus mosaic nimbus opal prism quill ridge spruce thistle vale wren yarrow zinc badger canyon dahlia "
    "egret flint grove heron ivy jade kiln larch mantis nectar oriel pebble quiver rook saffron tansy "
    "upland violet walnut"
).split()
TOPICS = (  # noqa: SIM905 - a word list reads better as text
    "deployment rollback canary metrics alerting dashboards retries timeouts caching sharding backups "
    "restores migrations schemas tokens secrets certificates quotas throttling pagination webhooks "
    "batching indexing replication failover tracing logging profiling onboarding runbooks releases "
    "feature-flags"
).split()


def synthetic_catalog(entities: int, chunks: int, seed: int) -> tuple[list[Document], list[tuple[str, str]]]:
    """Documents of a generated catalog (through the real entity and TechDocs code) and name lookups."""
    rng = random.Random(seed)
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < entities:
        name = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{rng.randint(1, 999)}"
        if name not in seen:
            seen.add(name)
            names.append(name)
    groups = [f"team-{word}" for word in WORDS[:40]]
    systems = [f"{word}-platform" for word in WORDS[40:80]]
    kinds = ["Component"] * 6 + ["API"] * 2 + ["Resource"]
    documents: list[Document] = []
    entity_dicts = []
    for name in names:
        kind = rng.choice(kinds)
        topic_words = rng.sample(TOPICS, 3)
        entity = {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": kind,
            "metadata": {
                "name": name,
                "description": f"Handles {' and '.join(topic_words)} for {rng.choice(WORDS)} {rng.choice(TOPICS)}.",
                "tags": rng.sample(TOPICS, 2),
            },
            "spec": {
                "type": "service",
                "lifecycle": "production",
                "owner": f"group:{rng.choice(groups)}",
                "system": rng.choice(systems),
                "dependsOn": [f"component:{rng.choice(names)}"],
            },
        }
        entity_dicts.append(entity)
        documents += list(entity_documents(entity))
    sections_per_page = 5
    pages_needed = chunks // sections_per_page
    for page_number in range(pages_needed):
        entity = entity_dicts[page_number % len(entity_dicts)]
        metadata = entity_metadata(entity)
        title = f"{rng.choice(TOPICS).title()} guide {page_number}"
        markdown = f"# {title}\n\n" + "\n\n".join(
            f"## {rng.choice(TOPICS).title()} {n}\n\n" + " ".join(rng.choice(WORDS + TOPICS) for _ in range(60))
            for n in range(sections_per_page)
        )
        documents += list(page_documents(metadata, f"guides/page-{page_number}", title, markdown))
    lookups = []
    for entity in rng.sample(entity_dicts, 200):
        name = entity["metadata"]["name"]
        ref = f"{entity['kind'].lower()}:default/{name}"
        template = rng.choice(["Who owns {}?", "What does {} do?", "Which system is {} part of?", "Tell me about {}"])
        lookups.append((template.format(name), ref))
    return documents, lookups


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def scale(embedder: Embedder, entities: int, chunks: int, seed: int) -> None:
    print(f"\n== Scale: {entities:,} entities, {chunks:,} TechDocs chunks (seed {seed})")
    documents, lookups = synthetic_catalog(entities, chunks, seed)
    cache = REPO / "benchmarks" / ".cache" / f"synthetic-{entities}-{chunks}-{seed}"
    kb = KnowledgeBase(open_chroma(cache, None), embedder, "bench-scale")
    started = time.perf_counter()
    report = kb.sync("synthetic", documents)
    print(
        f"  store: {kb.count():,} chunks ({report.chunks_embedded:,} embedded now, "
        f"{time.perf_counter() - started:.0f} s)"
    )
    retriever = Retriever(kb)
    started = time.perf_counter()
    retriever.retrieve("warm up", 5)
    print(f"  keyword index built in {time.perf_counter() - started:.1f} s")
    questions = [EvalQuestion(question, ((ref, None),)) for question, ref in lookups]
    base = evaluate(vector_only(kb), questions, 5)
    full = evaluate(full_retriever(retriever), questions, 5)
    print(
        f"  name lookups ({len(questions)}): recall@5 vector-only {base.recall_at_k:.3f}, "
        f"hybrid {full.recall_at_k:.3f}; MRR {base.mrr:.3f} -> {full.mrr:.3f}"
    )
    rng = random.Random(seed + 1)
    # relation questions are the costly kind: a team here owns ~250 entities, each a candidate to score
    relations = [f"What depends on {ref.split('/')[-1]}?" for _, ref in lookups[:50]] + [
        f"What does team-{word} own?" for word in WORDS[:25]
    ]
    probes = (
        [question for question, _ in lookups]
        + [f"How do we handle {rng.choice(TOPICS)} and {rng.choice(TOPICS)}?" for _ in range(100)]
        + relations
    )
    timings = {}
    for question in probes:
        started = time.perf_counter()
        retriever.retrieve(question, 5)
        timings[question] = (time.perf_counter() - started) * 1000
    overall = list(timings.values())
    relation_timings = [timings[question] for question in relations]
    print(
        f"  retrieval latency over {len(overall)} questions: p50 {statistics.median(overall):.1f} ms, "
        f"p95 {percentile(overall, 0.95):.1f} ms (target p95 <= 40 ms); the {len(relations)} relation "
        f"questions alone: p50 {statistics.median(relation_timings):.1f} ms, "
        f"p95 {percentile(relation_timings, 0.95):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--chunks", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-scale", action="store_true", help="only the question sets")
    parser.add_argument("--catalog", type=Path, help="a catalog folder of your own (with --questions)")
    parser.add_argument("--questions", type=Path, nargs="*", default=[], help="question sets over --catalog")
    args = parser.parse_args()
    embedder = Embedder("all-MiniLM-L6-v2")
    sets = [(f.name, f, args.catalog) for f in args.questions] if args.catalog else list(question_sets())
    quality(embedder, sets)
    if not args.skip_scale:
        scale(embedder, args.entities, args.chunks, args.seed)


if __name__ == "__main__":
    main()
