"""What the assistant adds to time-to-first-token: the same prompt straight to llama.cpp's server and through
the assistant's `POST /api/chat`, interleaved, 20 requests each.

    python benchmarks/stream_overhead.py [--requests 20] [--max-tokens 32]

Retrieval is timed separately (it is work the direct call does not do); the overhead is
`assistant TTFT - retrieval - direct TTFT`. Target: at most 50 ms. For questions the catalog answers (the
stated facts stream before any model text), the time from the end of retrieval to that first token is printed
too. Target: at most 100 ms. llama.cpp's server caches the prompt it
last evaluated, so each pair is measured from the same warm cache (a discarded direct call primes it): the
figures are the assistant's own cost, not prompt evaluation.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assistant.answerer import Question  # noqa: E402
from assistant.app import create_app  # noqa: E402
from assistant.core import build_core  # noqa: E402
from assistant.llm.base import GenerationOptions  # noqa: E402
from assistant.llm.llamacpp import bundled_model_path  # noqa: E402
from assistant.settings import load_settings  # noqa: E402
from ingest.pipeline import run_ingest  # noqa: E402
from ingest.sources.local_files import LocalFilesSource  # noqa: E402

QUESTIONS = [
    "Who owns the parcel-tracker component?",
    "How do I run the parcel tracker locally?",
    "Which team is responsible for invoicing?",
    "What does the route planner do?",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise TimeoutError(url)


def direct(base_url: str, prompt: str, max_tokens: int, stop: list[str]) -> tuple[float, float]:
    body = {"prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "stop": stop, "stream": True}
    started = time.perf_counter()
    first = None
    with httpx.stream("POST", f"{base_url}/v1/completions", json=body, timeout=120) as response:
        for line in response.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                text = json.loads(line[6:])["choices"][0].get("text")
                if text and first is None:
                    first = time.perf_counter() - started
    return (first or 0) * 1000, (time.perf_counter() - started) * 1000


def through_assistant(url: str, question: str) -> tuple[float, float, float, bool]:
    """(TTFT, total, retrieval ms, whether the answer led with catalog facts)."""
    started = time.perf_counter()
    first = None
    event = ""
    retrieval_ms = 0.0
    from_catalog = False
    with httpx.stream("POST", f"{url}/api/chat", json={"question": question}, timeout=120) as response:
        for line in response.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                if event == "token" and first is None:
                    first = time.perf_counter() - started
                elif event == "done":
                    record = json.loads(line.split(":", 1)[1])
                    retrieval_ms = record["timings"]["retrieval_ms"]
                    from_catalog = bool(record.get("catalog_facts"))
    return (first or 0) * 1000, (time.perf_counter() - started) * 1000, retrieval_ms, from_catalog


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=32)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-stream-"))
    model = bundled_model_path(data_dir)
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "4096",
            "--n_threads",
            "2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    llama_url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{llama_url}/v1/models")
        # The same base model and decoding both ways: completion endpoint, greedy, same stops and length.
        backend_config = {
            "name": "default",
            "type": "openai",
            "base_url": f"{llama_url}/v1",
            "model": "gemma",
            "style": "completion",
            "temperature": 0,
            "max_tokens": args.max_tokens,
        }
        settings = load_settings(data_dir=data_dir, backends=[backend_config])
        core = build_core(settings)
        run_ingest(core.kb, [LocalFilesSource(REPO / "examples")], data_dir / "lock")
        app_port = free_port()
        server_app = uvicorn.Server(
            uvicorn.Config(
                create_app(settings, core, chat_page=False), host="127.0.0.1", port=app_port, log_level="warning"
            )
        )
        threading.Thread(target=server_app.run, daemon=True).start()
        assistant_url = f"http://127.0.0.1:{app_port}"
        wait_for(f"{assistant_url}/healthz")
        stop = list(core.backends.get().resolve_options(GenerationOptions()).stop)

        async def prompt_for(question: str) -> str:
            template = core.prompts.get(settings.default_prompt)
            request = Question(question)
            sources = await core.answerer.sources_for(request, template)
            return (await core.answerer.render(request, template, sources)).completion

        prompts = {q: asyncio.run(prompt_for(q)) for q in QUESTIONS}
        for question in QUESTIONS:  # warm both paths (model load, caches)
            direct(llama_url, prompts[question], args.max_tokens, stop)
            through_assistant(assistant_url, question)
        direct_ttft, direct_total, via_ttft, via_total, retrieval = [], [], [], [], []
        after_retrieval: list[float] = []  # catalog answers: end of retrieval to the first stated token
        led_by_catalog: list[bool] = []
        for n in range(args.requests):
            question = QUESTIONS[n % len(QUESTIONS)]
            # llama.cpp's server reuses the KV cache of an identical prompt: prime it, so that both
            # measured calls below start from the same cache state and only the assistant's own work differs.
            direct(llama_url, prompts[question], args.max_tokens, stop)
            ttft, total = direct(llama_url, prompts[question], args.max_tokens, stop)
            direct_ttft.append(ttft)
            direct_total.append(total)
            ttft, total, retrieval_ms, from_catalog = through_assistant(assistant_url, question)
            led_by_catalog.append(from_catalog)
            if from_catalog:
                after_retrieval.append(ttft - retrieval_ms)
            via_ttft.append(ttft)
            via_total.append(total)
            retrieval.append(retrieval_ms)
        med = statistics.median
        # a catalog answer's first token is the stated fact, before the model's: not a like-for-like pair
        overhead = med(
            [
                v - r - d
                for v, r, d, catalog in zip(via_ttft, retrieval, direct_ttft, led_by_catalog, strict=True)
                if not catalog
            ]
        )
        rows = [("direct to llama.cpp", direct_ttft, direct_total), ("through the assistant", via_ttft, via_total)]
        print(f"{args.requests} requests each, max_tokens {args.max_tokens}, llama.cpp server with Gemma 3 270M")
        for label, ttft, total in rows:
            print(f"  {label:<24} TTFT median {med(ttft):7.1f} ms   total median {med(total):7.1f} ms")
        print(f"  {'of which retrieval':<24} median {med(retrieval):7.1f} ms")
        print(
            f"  {'ratio assistant/direct':<24} TTFT x{med(via_ttft) / med(direct_ttft):.2f}   "
            f"total x{med(via_total) / med(direct_total):.2f}"
        )
        print(
            f"  added to TTFT beyond retrieval, questions the model answers first: median {overhead:.1f} ms "
            "(target <= 50 ms)"
        )
        if after_retrieval:
            print(
                f"  catalog answers ({len(after_retrieval)}): first token after retrieval median "
                f"{med(after_retrieval):.1f} ms, max {max(after_retrieval):.1f} ms (target <= 100 ms)"
            )
    finally:
        server.terminate()
        server.wait(timeout=15)


if __name__ == "__main__":
    main()
