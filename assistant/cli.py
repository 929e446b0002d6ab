"""The `assistant` command: ingest, serve, ask. A composition root: builds everything from `Settings`.

Heavy imports (torch, Chroma, Gradio) happen inside the commands that need them, so `--help` stays fast.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.errors import AssistantError
from assistant.settings import Settings, load_settings

app = typer.Typer(
    help="Backchat Assistant: answers questions about your Backstage catalog and TechDocs on local LLMs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML config file (default: $ASSISTANT_CONFIG)", show_default=False),
]


class _State:
    config: Path | None = None


def _settings(**overrides: Any) -> Settings:
    return load_settings(_State.config, **overrides)


def _fail(message: str, code: int = 1) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@app.callback()
def main_options(
    config: ConfigOption = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more detail")] = False,
) -> None:
    _State.config = config
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("httpx", "chromadb", "sentence_transformers", "urllib3", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@app.command()
def ingest(
    source: Annotated[
        list[Path] | None,
        typer.Option(
            "--source",
            "-s",
            help="Catalog YAML file or folder (catalog files and mkdocs TechDocs); "
            "repeatable. Default: ASSISTANT_SOURCES",
        ),
    ] = None,
    backstage: Annotated[
        bool, typer.Option("--backstage", help="Read the catalog and TechDocs of ASSISTANT_BACKSTAGE_URL")
    ] = False,
    techdocs: Annotated[bool, typer.Option(help="With --backstage: also read published TechDocs")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object")] = False,
    wait: Annotated[float, typer.Option(help="Seconds to wait for another running ingest")] = 0,
    every: Annotated[
        str | None, typer.Option(help="Run forever on this schedule, e.g. 30m or 1h (runs never overlap)")
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Any failed file, entity or site changes nothing and exits 1")
    ] = False,
) -> None:
    """Read the sources and sync them into the knowledge base (unchanged documents are not re-embedded).

    Exit codes: 0 everything read; 4 synced with problems (some files, entities or TechDocs sites failed and
    kept what they had; the rest synced); 1 a source could not be read at all; 2 usage or configuration;
    3 another ingest holds the lock.
    """
    from assistant.core import open_knowledge_base
    from ingest.pipeline import IngestBusy
    from ingest.runner import ingest_once, parse_every

    settings = _settings()
    paths = list(source or ([] if backstage else settings.sources))
    if not paths and not backstage:
        _fail(
            "nothing to ingest: pass --source PATH (a catalog file or folder), --backstage, or set ASSISTANT_SOURCES", 2
        )
    try:
        interval = parse_every(every) if every is not None else None
    except ValueError as error:
        _fail(f"--every: {error}", 2)
        return
    kb = open_knowledge_base(settings)
    if interval is None:
        try:
            run = ingest_once(
                kb, settings, paths, backstage, techdocs, wait, show_progress=sys.stderr.isatty(), strict=strict
            )
        except IngestBusy as error:
            _fail(str(error), 3)
            return
        _print_report(run, as_json)
        raise typer.Exit(INGEST_EXIT_CODES[run.status])
    # Runs never overlap: the next one starts after this one ends, at the next multiple of the interval.
    while True:
        started = time.monotonic()
        try:
            run = ingest_once(kb, settings, paths, backstage, techdocs, wait, strict=strict)
            _print_report(run, as_json)
        except IngestBusy as error:
            logging.getLogger("assistant.ingest").warning("%s; skipping this run", error)
        elapsed = time.monotonic() - started
        time.sleep(interval - elapsed % interval)


INGEST_EXIT_CODES = {"ok": 0, "partial": 4, "failed": 1}
WARNINGS_SHOWN_PER_KIND = 10


def _print_report(run: Any, as_json: bool) -> None:
    report = run.to_dict()
    if as_json:
        typer.echo(json.dumps(report))
        return
    for item in report["sources"]:
        state = "FAILED" if item["failed"] else ("synced with problems" if item["failed_units"] else "ok")
        typer.echo(
            f"{item['source']}: {state}; added {item['added']}, updated {item['updated']}, "
            f"unchanged {item['unchanged']}, deleted {item['deleted']}, kept {item['kept']}, "
            f"skipped {item['skipped']}; {item['chunks_embedded']} chunks embedded in {item['seconds']:.1f} s"
        )
    kinds = ", ".join(f"{count} {kind}" for kind, count in report["entities_by_kind"].items())
    if kinds:
        typer.echo(f"entities: {kinds}")
    if report["chunks_embedded"] == 0 and report["deleted"] == 0 and run.ok:
        typer.echo("nothing changed: no chunks embedded")
    for error in report["errors"]:
        typer.secho(f"  error: {error}", fg=typer.colors.RED, err=True)
    shown: dict[str, int] = {}
    for warning in report["warnings"]:  # a few of each kind; --json lists them all
        shown[warning["kind"]] = shown.get(warning["kind"], 0) + 1
        if shown[warning["kind"]] > WARNINGS_SHOWN_PER_KIND:
            continue
        where = ":".join(str(warning[key]) for key in ("file", "line") if warning.get(key))
        typer.secho(f"  warning: {where + ': ' if where else ''}{warning['message']}", fg=typer.colors.YELLOW, err=True)
    for kind, count in shown.items():
        if count > WARNINGS_SHOWN_PER_KIND:
            more = count - WARNINGS_SHOWN_PER_KIND
            note = f"  ... and {more} more {kind} warnings (--json lists them all)"
            typer.secho(note, fg=typer.colors.YELLOW, err=True)
    if report["warnings"]:
        counts = ", ".join(f"{count} {kind}" for kind, count in report["warning_counts"].items())
        typer.echo(f"warnings: {counts}")
    if report["failed_units"]:
        typer.echo(f"{len(report['failed_units'])} part(s) failed and kept what they had; the rest synced")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: ASSISTANT_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: ASSISTANT_PORT)")] = None,
) -> None:
    """Serve the HTTP API and the chat page on one port."""
    import uvicorn

    from assistant.app import create_app

    overrides = {key: value for key, value in {"host": host, "port": port}.items() if value is not None}
    settings = _settings(**overrides)
    application = create_app(settings)
    typer.echo(f"chat page: http://{settings.host}:{settings.port}/   API docs: /schema", err=True)
    uvicorn.run(application, host=settings.host, port=settings.port, log_level="info", root_path=settings.root_path)


@app.command("mcp")
def mcp_stdio() -> None:
    """Serve the MCP tools (search, get_entity, ask) and prompts over stdio, for agents that start a process."""
    from assistant.core import build_core
    from assistant.mcp_server import mcp_for

    mcp_for(build_core(_settings())).run("stdio")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question")],
    as_json: Annotated[bool, typer.Option("--json", help="Print only the final record as JSON")] = False,
    prompt: Annotated[str | None, typer.Option(help="Prompt template name")] = None,
    backend: Annotated[str | None, typer.Option(help="Configured backend name")] = None,
    model: Annotated[str | None, typer.Option(help="Model name on that backend")] = None,
    entity: Annotated[str | None, typer.Option(help="Limit retrieval to this entity (kind:namespace/name)")] = None,
    k: Annotated[int | None, typer.Option(help="How many sources to retrieve")] = None,
) -> None:
    """Answer one question, streaming to the terminal."""
    from assistant.answerer import DoneEvent, ErrorEvent, Question, SourcesEvent, TokenEvent
    from assistant.core import build_core

    core = build_core(_settings())
    request = Question(question, prompt=prompt, backend=backend, model=model, entity=entity, k=k)

    async def run() -> dict[str, Any]:
        record: dict[str, Any] = {}
        async for event in core.answerer.answer(request):
            if isinstance(event, SourcesEvent) and not as_json:
                typer.secho("Sources:", bold=True, err=True)
                for number, source in enumerate(event.sources, 1):
                    typer.echo(f"  [{number}] {source.title} ({source.entity}) {source.url}", err=True)
            elif isinstance(event, TokenEvent) and not as_json:
                sys.stdout.write(event.text)
                sys.stdout.flush()
            elif isinstance(event, ErrorEvent):
                typer.secho(f"\nerror ({event.code}): {event.message}", fg=typer.colors.RED, err=True)
            elif isinstance(event, DoneEvent):
                record = event.record
        return record

    record = asyncio.run(run())
    if as_json:
        typer.echo(json.dumps(record, indent=2))
    else:
        typer.echo("")
    if not record.get("complete"):
        raise typer.Exit(1)


@app.command()
def backends(as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False) -> None:
    """Configured LLM backends: reachable or not, version and models. Exit 1 if the default one is down."""
    from assistant.llm.registry import BackendRegistry

    settings = _settings()
    registry = BackendRegistry.from_settings(settings)

    async def check() -> list[Any]:
        return list(await asyncio.gather(*(backend.health() for backend in registry.all())))

    healths = asyncio.run(check())
    rows = []
    for backend, health in zip(registry.all(), healths, strict=True):
        rows.append(
            {
                **health.to_dict(),
                "default": backend.name == registry.default,
                "base_url": backend.config.base_url,
                "model": backend.default_model,
                "style": backend.style,
            }
        )
    if as_json:
        typer.echo(json.dumps({"backends": rows}, indent=2))
    else:
        for row in rows:
            state = (
                typer.style("up  ", fg=typer.colors.GREEN) if row["ok"] else typer.style("DOWN", fg=typer.colors.RED)
            )
            mark = "*" if row["default"] else " "
            where = row["base_url"] or "in-process"
            typer.echo(
                f"{mark} {row['name']:<14} {state} {row['type']:<9} {where}  model {row['model']} ({row['style']})"
            )
            if row["version"]:
                typer.echo(f"    version: {row['version']}")
            if row["models"]:
                typer.echo(f"    models:  {', '.join(row['models'][:20])}")
            if row["detail"]:
                typer.echo(f"    {row['detail']}")
    if not next(row["ok"] for row in rows if row["default"]):
        raise typer.Exit(1)


@app.command("eval")
def evaluate_retrieval(
    questions: Annotated[Path, typer.Option("--questions", "-q", help="JSONL question set (question, expected)")],
    k: Annotated[int, typer.Option("--k", help="Sources considered per question")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    min_recall: Annotated[float | None, typer.Option(help="Exit 1 when recall@k is below this")] = None,
    min_mrr: Annotated[float | None, typer.Option(help="Exit 1 when MRR is below this")] = None,
) -> None:
    """Measure retrieval on a question set against the current knowledge base (no LLM): recall@k and MRR."""
    from assistant.core import open_knowledge_base
    from assistant.evaluation import evaluate, load_questions
    from assistant.retrieval import Retriever

    items = load_questions(questions)
    retriever = Retriever(open_knowledge_base(_settings()))
    report = evaluate(lambda text, n: retriever.retrieve(text, n), items, k)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        typer.echo(
            f"{report.questions} questions, k={k}: recall@{k} {report.recall_at_k:.3f}, "
            + (f"recall@1 {report.recall_at_1:.3f}, " if k > 1 else "")
            + f"MRR {report.mrr:.3f}"
        )
        for miss in report.misses:
            typer.echo(f"  missed: {miss['question']}")
            typer.echo(f"    expected {', '.join(json.dumps(e) for e in miss['expected'])}")
            typer.echo(
                f"    got      {', '.join(g['entity'] + ('#' + g['page'] if 'page' in g else '') for g in miss['got'])}"
            )
    below = (min_recall is not None and report.recall_at_k < min_recall) or (
        min_mrr is not None and report.mrr < min_mrr
    )
    if below:
        typer.secho(f"below target (recall@{k} >= {min_recall}, MRR >= {min_mrr})", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)


prompts_app = typer.Typer(help="List, show, check and render the prompt templates in prompts/.", no_args_is_help=True)
app.add_typer(prompts_app, name="prompts")


def _prompts_dir(directory: Path | None) -> Path:
    return directory or _settings().prompts_dir


DirOption = Annotated[Path | None, typer.Option("--dir", help="Templates folder (default: ASSISTANT_PROMPTS_DIR)")]


@prompts_app.command("list")
def prompts_list(directory: DirOption = None) -> None:
    """Name, version and description of every template; the default is marked with *."""
    from assistant.prompts import PromptLibrary

    settings = _settings()
    library = PromptLibrary(_prompts_dir(directory))
    for template in library.templates():
        mark = "*" if template.name == settings.default_prompt else " "
        typer.echo(f"{mark} {template.name:<22} v{template.version:<6} {template.description}")
    for problem in library.problems:
        typer.secho(f"  not loaded: {problem}", fg=typer.colors.YELLOW, err=True)


@prompts_app.command("show")
def prompts_show(name: str, directory: DirOption = None) -> None:
    """A template's metadata and its file as written."""
    from assistant.prompts import PromptLibrary

    library = PromptLibrary(_prompts_dir(directory))
    template = library.get(name)
    typer.echo(
        json.dumps(
            {
                **library.stamp(template),
                "file": str(template.file),
                "description": template.description,
                "variables": list(template.variables),
                "temperature": template.temperature,
                "max_tokens": template.max_tokens,
                "stop": list(template.stop),
                "retrieval": template.retrieval,
            },
            indent=2,
        )
    )
    typer.echo(template.file.read_text(encoding="utf-8"))


@prompts_app.command("check")
def prompts_check(directory: DirOption = None) -> None:
    """Validate every template: front matter, variables, syntax, unique names. Exit 1 on any problem."""
    from assistant.prompts import PromptLibrary, check_directory

    folder = _prompts_dir(directory)
    problems = check_directory(folder)
    for problem in problems:
        typer.secho(f"{problem}", fg=typer.colors.RED, err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"{len(PromptLibrary(folder).names())} templates in {folder} are valid")


@prompts_app.command("render")
def prompts_render(
    name: str,
    question: Annotated[str, typer.Option("--question", "-q", help="The question to render")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the messages as JSON")] = False,
    retrieval: Annotated[bool, typer.Option(help="Retrieve sources from the knowledge base")] = True,
    entity: Annotated[str | None, typer.Option(help="Limit retrieval to this entity")] = None,
) -> None:
    """The exact messages (and base-model prompt) that would be sent for a question."""
    from assistant.answerer import Question
    from assistant.core import build_core

    settings = _settings()
    core = build_core(settings)
    template = core.prompts.get(name)
    request = Question(question, prompt=name, entity=entity)

    async def run() -> Any:
        sources = await core.answerer.sources_for(request, template) if retrieval else []
        return await core.answerer.render(request, template, sources)

    rendered = asyncio.run(run())
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "prompt": core.prompts.stamp(template),
                    "messages": rendered.messages,
                    "completion": rendered.completion,
                },
                indent=2,
            )
        )
        return
    for message in rendered.messages:
        typer.secho(f"--- {message['role']} ---", bold=True)
        typer.echo(message["content"])
    typer.secho("--- completion (for base models) ---", bold=True)
    typer.echo(rendered.completion)


feedback_app = typer.Typer(
    help="Users' ratings of answers: list, stats per prompt version, export.", no_args_is_help=True
)
app.add_typer(feedback_app, name="feedback")


def _feedback_store() -> Any:
    from assistant.feedback import FeedbackStore

    settings = _settings()
    return FeedbackStore(
        settings.feedback_url, settings.feedback_max_comment_chars, settings.feedback_keep_unrated_days
    )


@feedback_app.command("list")
def feedback_list(
    rating: Annotated[str | None, typer.Option(help="Only 'up' or only 'down'")] = None,
    limit: Annotated[int, typer.Option(help="Newest ratings shown")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """The newest ratings: when, up or down, the prompt version, the question and the comment."""
    if rating not in (None, "up", "down"):
        _fail("--rating must be up or down", 2)
    entries = _feedback_store().entries(limit=limit, rating=rating)
    if as_json:
        typer.echo(json.dumps({"feedback": entries}, indent=2))
        return
    for entry in entries:
        prompt = f"{entry['prompt']['name']} v{entry['prompt']['version']}"
        when = str(entry["rated_at"])[:19].replace("T", " ")
        typer.echo(f"{when}  {entry['rating']:<4}  {prompt:<24} {entry['question'][:70]}")
        if entry["comment"]:
            typer.echo(f"    {entry['comment']}")


@feedback_app.command("stats")
def feedback_stats(as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False) -> None:
    """Up and down counts and the share of ups per prompt name and version."""
    rows = _feedback_store().stats()
    if as_json:
        typer.echo(json.dumps({"prompts": rows}, indent=2))
        return
    typer.echo(f"{'prompt':<24} {'version':<8} {'up':>5} {'down':>5} {'up share':>9}")
    for row in rows:
        typer.echo(f"{row['prompt']:<24} {row['version']:<8} {row['up']:>5} {row['down']:>5} {row['up_share']:>9.0%}")


@feedback_app.command("export")
def feedback_export(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array instead of one JSON object per line")] = False,
) -> None:
    """Every rating with its answer as given: question, answer, sources, prompt stamp, backend, model."""
    entries = _feedback_store().entries()
    if as_json:
        typer.echo(json.dumps(entries, indent=2))
        return
    for entry in entries:
        typer.echo(json.dumps(entry))


def main() -> None:
    """Console entry point: user errors become one clear line and exit code 2, not a traceback."""
    try:
        app()
    except AssistantError as error:
        typer.secho(f"error: {error.message}", fg=typer.colors.RED, err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
