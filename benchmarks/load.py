"""The assistant under load: N concurrent streamed chats through `/v1` against an instant local model server,
so every millisecond measured is the assistant's own (retrieval, prompt, streaming).

    python benchmarks/load.py [--streams 64] [--warm-rounds 3]

`assistant serve` runs as its own process on the sample catalog. The cold burst is sent the moment
`/readyz` first answers 200; the warm rounds follow. Reported per round: errors, time to first token
p50/p95, total time p95; then the service's peak RSS. Targets (2 cores): 0 errors, TTFT p95 <= 0.5 s warm
and <= 1.0 s cold.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from litestar import Litestar, Request, get, post
from litestar.response import Stream

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WORDS = ["The", "parcel-tracker", "component", "is", "owned", "by", "the", "tracking", "team", "[1]."]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def instant_model_app() -> Litestar:
    """An OpenAI-compatible server that answers at once: a few streamed words, no model behind it."""

    @get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": "instant", "object": "model", "owned_by": "bench"}]}

    @post("/v1/chat/completions")
    async def chat(request: Request[Any, Any, Any]) -> Stream:
        await request.json()

        async def events() -> Any:
            for word in WORDS:
                choice = {"index": 0, "delta": {"content": word + " "}, "finish_reason": None}
                yield f"data: {json.dumps({'id': 'x', 'object': 'chat.completion.chunk', 'choices': [choice]})}\n\n"
            done = {"index": 0, "delta": {}, "finish_reason": "stop"}
            yield f"data: {json.dumps({'id': 'x', 'object': 'chat.completion.chunk', 'choices': [done]})}\n\n"
            yield "data: [DONE]\n\n"

        return Stream(events(), media_type="text/event-stream")

    return Litestar([models, chat])


def serve_model(port: int) -> None:
    import uvicorn

    uvicorn.run(instant_model_app(), host="127.0.0.1", port=port, log_level="warning", timeout_keep_alive=300)


def wait_for(url: str, status: int | None = None, seconds: float = 300, process: Any = None) -> float:
    """Poll `url` until it answers (with `status`, when given); returns when that happened."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}")
        try:
            answer = httpx.get(url, timeout=5).status_code
            if (status is None and answer < 500) or answer == status:
                return time.monotonic()
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise TimeoutError(url)


async def one_chat(session: aiohttp.ClientSession, question: str) -> tuple[float | None, float, str | None]:
    """Time to the first content chunk and to the end of one streamed chat; the error, if any."""
    body = {"model": "backstage-assistant", "stream": True, "messages": [{"role": "user", "content": question}]}
    started = time.perf_counter()
    first = None
    try:
        async with session.post("/v1/chat/completions", json=body) as response:
            if response.status != 200:
                return None, time.perf_counter() - started, f"HTTP {response.status}"
            async for raw in response.content:
                line = raw.decode().strip()
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                delta = json.loads(line[6:])["choices"][0]["delta"]
                if first is None and delta.get("content"):
                    first = time.perf_counter() - started
    except (aiohttp.ClientError, TimeoutError) as error:
        return first, time.perf_counter() - started, type(error).__name__
    return first, time.perf_counter() - started, None if first is not None else "no content"


async def burst(url: str, questions: list[str]) -> dict[str, Any]:
    # The load generator shares the machine's cores with the service: its client must cost little (httpx's
    # pool spends 16-18 ms of CPU per stream with 64 in flight, aiohttp's under 1 ms).
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(base_url=url, connector=connector, timeout=timeout) as session:
        results = await asyncio.gather(*(one_chat(session, question) for question in questions))
    ttft = sorted(first for first, _, error in results if first is not None and error is None)
    total = sorted(end for _, end, error in results if error is None)
    errors = [error for _, _, error in results if error is not None]

    def pct(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else float("nan")

    return {
        "errors": len(errors),
        "ttft_p50_ms": pct(ttft, 0.5),
        "ttft_p95_ms": pct(ttft, 0.95),
        "total_p95_ms": pct(total, 0.95),
        "error_kinds": sorted(set(errors)),
    }


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=64)
    parser.add_argument("--warm-rounds", type=int, default=3)
    parser.add_argument("--serve-model", type=int, help=argparse.SUPPRESS)  # internal: be the model server
    args = parser.parse_args()
    if args.serve_model:
        serve_model(args.serve_model)
        return
    lines = (REPO / "eval" / "lumen-freight.jsonl").read_text().splitlines()
    asked = [json.loads(line)["question"] for line in lines if line.strip()]
    # Distinct questions: repeating one would be answered from the vectors remembered for it.
    questions = [asked[n % len(asked)] + f" ({n // len(asked)})" * (n >= len(asked)) for n in range(args.streams)]
    data_dir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    model_port, port = free_port(), free_port()
    env = {
        **os.environ,
        "ASSISTANT_DATA_DIR": str(data_dir),
        "ASSISTANT_LLM_TYPE": "openai",
        "ASSISTANT_LLM_BASE_URL": f"http://127.0.0.1:{model_port}/v1",
        "ASSISTANT_LLM_MODEL": "instant",
        "ASSISTANT_LLM_CONTEXT_SIZE": "8192",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    env.pop("ASSISTANT_CONFIG", None)
    subprocess.run(
        [str(BIN / "assistant"), "ingest", "--source", str(REPO / "examples")],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    model = subprocess.Popen([sys.executable, __file__, "--serve-model", str(model_port)], **quiet)  # type: ignore[call-overload]
    service = None
    try:
        wait_for(f"http://127.0.0.1:{model_port}/v1/models", seconds=60, process=model)
        started = time.monotonic()
        service = subprocess.Popen([str(BIN / "assistant"), "serve", "--port", str(port)], env=env, **quiet)  # type: ignore[call-overload]
        url = f"http://127.0.0.1:{port}"
        answering = wait_for(f"{url}/healthz", process=service)
        ready = wait_for(f"{url}/readyz", status=200, process=service)
        rounds = [("cold (as /readyz turns 200)", asyncio.run(burst(url, questions)))]
        used = cpu_seconds(service.pid)
        for n in range(args.warm_rounds):
            # New words each round: the service remembers the vectors of questions it has seen.
            again = [f"{question} (round {n + 1})" for question in questions]
            rounds.append((f"warm {n + 1}", asyncio.run(burst(url, again))))
        warm_cpu_ms = (cpu_seconds(service.pid) - used) * 1000 / max(1, args.warm_rounds * args.streams)
        print(f"{args.streams} concurrent streams through /v1, instant model server, {os.cpu_count()} cores")
        print(f"  service answering after {answering - started:.1f} s, ready after {ready - started:.1f} s")
        for label, figures in rounds:
            kinds = f" ({', '.join(figures['error_kinds'])})" if figures["errors"] else ""
            print(
                f"  {label:<28} errors {figures['errors']}{kinds}   TTFT p50 {figures['ttft_p50_ms']:6.0f} ms"
                f"   p95 {figures['ttft_p95_ms']:6.0f} ms   total p95 {figures['total_p95_ms']:6.0f} ms"
            )
        warm = [figures["ttft_p95_ms"] for label, figures in rounds[1:]]
        if warm:
            print(f"  warm TTFT p95, median of {len(warm)} rounds: {statistics.median(warm):.0f} ms (target <= 500)")
        print(f"  service CPU per warm answer: {warm_cpu_ms:.1f} ms")
        print(f"  peak RSS of the service: {peak_rss_mb(service.pid):.0f} MB")
    finally:
        for process in (service, model):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)


if __name__ == "__main__":
    main()
