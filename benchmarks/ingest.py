"""Ingest cost against embedding alone, measured in the same run on the same chunks.

    python benchmarks/ingest.py                      # 10,000 entities (about 10,900 chunks)
    python benchmarks/ingest.py --entities 1000      # a quick look

1. Generates a catalog on disk: catalog files of 50 entities each, some APIs with an inline definition.
2. Embedding alone: sentence-transformers encodes every chunk the ingest will store, in one call (the
   baseline: the least any ingest of these chunks can cost).
3. `assistant ingest --source` into an empty data dir, as a user runs it (process start, reading, hashing,
   embedding, Chroma writes), then the same command again with nothing changed.

Prints wall and CPU seconds and both ratios; the targets are a full ingest <= 1.15x embedding alone and an
unchanged re-run <= 3 % of the full ingest (in wall time; CPU time shows the same on a machine that is
busy with other work).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
# This file is named like the `ingest` package: keep its own folder off the path so `ingest` is the package.
sys.path[:] = [str(REPO)] + [p for p in sys.path if Path(p or ".").resolve() != REPO / "benchmarks"]

from assistant.embeddings import resolve_model_location  # noqa: E402
from ingest.sources.local_files import LocalFilesSource  # noqa: E402

_spec = importlib.util.spec_from_file_location("retrieval_benchmark", REPO / "benchmarks" / "retrieval.py")
_retrieval = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(_retrieval)  # type: ignore[union-attr]
WORDS, TOPICS = _retrieval.WORDS, _retrieval.TOPICS  # the word lists of the retrieval benchmark's catalog

ENTITIES_PER_FILE = 50


def _definition(rng: random.Random, name: str) -> str:
    paths = "\n".join(
        f"  /{rng.choice(TOPICS)}/{n}:\n    get:\n      summary: {' '.join(rng.sample(WORDS, 8))}\n"
        f"      description: {' '.join(rng.choice(WORDS + TOPICS) for _ in range(30))}"
        for n in range(3)
    )
    return f"openapi: 3.0.0\ninfo:\n  title: {name}\n  version: 1.0.0\npaths:\n{paths}\n"


def write_catalog(folder: Path, entities: int, seed: int) -> None:
    """`entities` entities in files of 50; one in twelve is an API with a definition of about two chunks."""
    rng = random.Random(seed)
    groups = [f"team-{word}" for word in WORDS[:40]]
    systems = [f"{word}-platform" for word in WORDS[40:80]]
    names = [f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{n}" for n in range(entities)]
    for start in range(0, entities, ENTITIES_PER_FILE):
        documents = []
        for name in names[start : start + ENTITIES_PER_FILE]:
            api = rng.random() < 1 / 12
            spec = {
                "type": "openapi" if api else rng.choice(["service", "website", "library"]),
                "lifecycle": "production",
                "owner": f"group:{rng.choice(groups)}",
                "system": rng.choice(systems),
            }
            if api:
                spec["definition"] = _definition(rng, name)
            else:
                spec["dependsOn"] = [f"component:{rng.choice(names)}"]
            documents.append(
                {
                    "apiVersion": "backstage.io/v1alpha1",
                    "kind": "API" if api else "Component",
                    "metadata": {
                        "name": name,
                        "description": f"Handles {' and '.join(rng.sample(TOPICS, 3))} for the {rng.choice(WORDS)} "
                        f"{rng.choice(TOPICS)}.",
                        "tags": rng.sample(TOPICS, 2),
                    },
                    "spec": spec,
                }
            )
        file = folder / f"team-{start // ENTITIES_PER_FILE:04d}" / "catalog-info.yaml"
        file.parent.mkdir()
        file.write_text(yaml.safe_dump_all(documents, sort_keys=False))


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def embedding_alone(texts: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of encoding `texts` with the model already loaded."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(resolve_model_location("all-MiniLM-L6-v2"), device="cpu", local_files_only=True)
    model.encode(texts[:64])  # warm
    started, cpu = time.perf_counter(), cpu_seconds(resource.RUSAGE_SELF)
    model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
    return time.perf_counter() - started, cpu_seconds(resource.RUSAGE_SELF) - cpu


def ingest_command(catalog: Path, data_dir: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one `assistant ingest` process, start to exit."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ASSISTANT_")}
    env["ASSISTANT_DATA_DIR"] = str(data_dir)
    command = [str(Path(sys.executable).parent / "assistant"), "ingest", "--source", str(catalog)]
    started, cpu = time.perf_counter(), cpu_seconds(resource.RUSAGE_CHILDREN)
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"ingest failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    print("   ", result.stdout.strip().splitlines()[0])
    return seconds, cpu_seconds(resource.RUSAGE_CHILDREN) - cpu


def row(label: str, seconds: tuple[float, float], ratio: str) -> None:
    print(f"  {label:<50} {seconds[0]:7.1f} s ({seconds[1]:6.1f} s CPU)   {ratio}")


def ratios(part: tuple[float, float], whole: tuple[float, float]) -> str:
    return f"{part[0] / whole[0]:.3f} ({part[1] / whole[1]:.3f} in CPU time)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        catalog, data_dir = Path(folder) / "catalog", Path(folder) / "data"
        catalog.mkdir()
        write_catalog(catalog, args.entities, args.seed)
        texts = [document.text for document in LocalFilesSource(catalog).documents()]
        print(f"== Ingest cost: {args.entities:,} entities, {len(texts):,} chunks, {os.cpu_count()} cores")
        alone = embedding_alone(texts)
        row("embedding alone (sentence-transformers, one call)", alone, "")
        full = ingest_command(catalog, data_dir)
        row("assistant ingest, empty store", full, "")
        rerun = ingest_command(catalog, data_dir)
        row("assistant ingest, nothing changed", rerun, "")
        print(f"  full ingest / embedding alone:   x{ratios(full, alone)}   target <= 1.15")
        print(f"  unchanged re-run / full ingest:  x{ratios(rerun, full)}   target <= 0.03")


if __name__ == "__main__":
    main()
