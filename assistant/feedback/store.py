"""Answers and their ratings in a real database: SQLite under the data dir, or a shared server by URL.

Every final answer record is kept when it is produced (`record_answer`), so a rating given later, on any
replica, finds the answer exactly as the user saw it, with its sources and its prompt stamp.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    MetaData,
    String,
    Table,
    Text,
    case,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, SQLAlchemyError

from assistant.errors import AssistantError, ConfigError, InvalidRequest, NotFound

RATINGS = ("up", "down")
PRUNE_EVERY_SECONDS = 3600

metadata = MetaData()

answers = Table(
    "answers",
    metadata,
    Column("answer_id", String(64), primary_key=True),
    Column("answered_at", DateTime(timezone=True), nullable=False, index=True),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("complete", Boolean, nullable=False),
    Column("error_code", String(64)),
    Column("sources", JSON, nullable=False),
    Column("prompt_name", String(200), nullable=False),
    Column("prompt_version", String(64), nullable=False),
    Column("prompt_hash", String(128), nullable=False),
    Column("prompt_commit", String(64)),
    Column("backend", String(200), nullable=False),
    Column("backend_type", String(32), nullable=False),
    Column("model", String(300)),
    Column("entity_scope", String(500)),
)

feedback = Table(
    "feedback",
    metadata,
    Column("answer_id", String(64), ForeignKey("answers.answer_id", ondelete="CASCADE"), primary_key=True),
    Column("rating", String(8), nullable=False),
    Column("comment", Text),
    Column("rated_at", DateTime(timezone=True), nullable=False, index=True),
)


class FeedbackUnavailable(AssistantError):
    code = "feedback_unavailable"
    status = 503


@dataclass(frozen=True)
class Rated:
    """What a rating was given to: enough for the metrics' labels."""

    answer_id: str
    rating: str
    prompt: str
    prompt_version: str


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite keeps no offset: everything stored here is UTC
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"ASSISTANT_FEEDBACK_DATABASE_URL: {url!r} is not a database URL") from None
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        # pool_pre_ping: a shared server that restarted does not fail the next request.
        engine = create_engine(parsed, pool_pre_ping=not sqlite, connect_args={"timeout": 30} if sqlite else {})
    except (NoSuchModuleError, ImportError) as error:
        raise ConfigError(
            f"ASSISTANT_FEEDBACK_DATABASE_URL: no driver for {parsed.drivername} ({error}); "
            "install it, e.g. pip install 'psycopg[binary]' for postgresql+psycopg://"
        ) from None
    if sqlite:

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: Any, _: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer (several workers)
            cursor.close()

    return engine


class FeedbackStore:
    def __init__(self, url: str, max_comment_chars: int = 2000, keep_unrated_days: int = 30) -> None:
        self.url = url
        self.max_comment_chars = max_comment_chars
        self.keep_unrated = dt.timedelta(days=keep_unrated_days) if keep_unrated_days else None
        self.engine = _engine(url)
        try:
            metadata.create_all(self.engine)
        except SQLAlchemyError as error:
            raise ConfigError(f"ASSISTANT_FEEDBACK_DATABASE_URL: cannot open the feedback database: {error}") from None
        self._pruned_at = 0.0
        self._prune_now_and_then()

    def close(self) -> None:
        self.engine.dispose()

    def record_answer(self, record: dict[str, Any]) -> None:
        """Keep a final answer record (the `done` event) so that it can be rated later."""
        prompt = record.get("prompt") or {}
        error = record.get("error") or {}
        row = {
            "answer_id": record["answer_id"],
            "answered_at": _now(),
            "question": record.get("question", ""),
            "answer": record.get("answer", ""),
            "complete": bool(record.get("complete")),
            "error_code": error.get("code"),
            "sources": record.get("sources", []),
            "prompt_name": str(prompt.get("name", "")),
            "prompt_version": str(prompt.get("version", "")),
            "prompt_hash": str(prompt.get("hash", "")),
            "prompt_commit": prompt.get("commit"),
            "backend": record.get("backend", ""),
            "backend_type": record.get("backend_type", ""),
            "model": record.get("model"),
            "entity_scope": record.get("entity_scope"),
        }
        with self._begin() as connection:
            connection.execute(insert(answers).values(**row))
        self._prune_now_and_then()

    def prune_unrated(self) -> int:
        """Delete the answers nobody rated within ASSISTANT_FEEDBACK_KEEP_UNRATED_DAYS; rated ones stay."""
        if self.keep_unrated is None:
            return 0
        rated = select(feedback.c.answer_id).where(feedback.c.answer_id == answers.c.answer_id)
        old = answers.c.answered_at < _now() - self.keep_unrated
        with self._begin() as connection:
            return connection.execute(delete(answers).where(old, ~rated.exists())).rowcount

    def _prune_now_and_then(self) -> None:
        """At start, then at most hourly: every replica may do it, deleting twice is harmless."""
        if self._pruned_at and time.monotonic() - self._pruned_at < PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = time.monotonic()
        self.prune_unrated()

    def rate(self, answer_id: str, rating: str, comment: str | None = None) -> Rated:
        """Rate an answer; rating again replaces the rating. A comment of None keeps an earlier comment."""
        if rating not in RATINGS:
            raise InvalidRequest(f"rating must be 'up' or 'down', not {rating!r}")
        if comment is not None and len(comment) > self.max_comment_chars:
            raise InvalidRequest(
                f"the comment has {len(comment)} characters; the limit is {self.max_comment_chars} "
                "(ASSISTANT_FEEDBACK_MAX_COMMENT_CHARS)"
            )
        values: dict[str, Any] = {"rating": rating, "rated_at": _now()}
        if comment is not None:
            values["comment"] = comment.strip() or None
        with self._begin() as connection:
            rated = connection.execute(
                select(answers.c.prompt_name, answers.c.prompt_version).where(answers.c.answer_id == answer_id)
            ).first()
            if rated is None:
                raise NotFound(f"no answer with answer_id {answer_id!r}: rate the answer_id of a done record")
            changed = connection.execute(update(feedback).where(feedback.c.answer_id == answer_id).values(**values))
            if changed.rowcount == 0:
                try:
                    with connection.begin_nested():
                        connection.execute(insert(feedback).values(answer_id=answer_id, **values))
                except IntegrityError:  # another replica rated it in between: this rating replaces that one
                    connection.execute(update(feedback).where(feedback.c.answer_id == answer_id).values(**values))
        return Rated(answer_id, rating, rated.prompt_name, rated.prompt_version)

    def withdraw(self, answer_id: str) -> None:
        """Remove the rating of an answer (the user clicked the same thumb again); the answer stays."""
        with self._begin() as connection:
            connection.execute(delete(feedback).where(feedback.c.answer_id == answer_id))

    def entries(self, limit: int | None = None, rating: str | None = None) -> list[dict[str, Any]]:
        """Rated answers, newest rating first, each with the answer as it was given."""
        query = (
            select(feedback.c.rating, feedback.c.comment, feedback.c.rated_at, *answers.c)
            .join(answers, feedback.c.answer_id == answers.c.answer_id)
            .order_by(feedback.c.rated_at.desc())
        )
        if rating is not None:
            query = query.where(feedback.c.rating == rating)
        if limit is not None:
            query = query.limit(limit)
        with self._begin() as connection:
            return [_entry(row._mapping) for row in connection.execute(query)]

    def stats(self) -> list[dict[str, Any]]:
        """Up and down counts and the share of ups per prompt name and version."""
        up = func.sum(case((feedback.c.rating == "up", 1), else_=0))
        down = func.sum(case((feedback.c.rating == "down", 1), else_=0))
        query = (
            select(answers.c.prompt_name, answers.c.prompt_version, up.label("up"), down.label("down"))
            .join(feedback, feedback.c.answer_id == answers.c.answer_id)
            .group_by(answers.c.prompt_name, answers.c.prompt_version)
            .order_by(answers.c.prompt_name, answers.c.prompt_version)
        )
        with self._begin() as connection:
            rows = connection.execute(query).all()
        return [
            {
                "prompt": row.prompt_name,
                "version": row.prompt_version,
                "up": int(row.up),
                "down": int(row.down),
                "rated": int(row.up) + int(row.down),
                "up_share": round(int(row.up) / (int(row.up) + int(row.down)), 3),
            }
            for row in rows
        ]

    @contextlib.contextmanager
    def _begin(self) -> Iterator[Connection]:
        """A transaction whose database failures become one clear error instead of a driver traceback."""
        try:
            with self.engine.begin() as connection:
                yield connection
        except SQLAlchemyError as error:
            raise FeedbackUnavailable(f"the feedback database failed: {_short(error)}") from None


def _short(error: BaseException) -> str:
    return str(error).splitlines()[0]


def _entry(row: Any) -> dict[str, Any]:
    return {
        "answer_id": row["answer_id"],
        "rating": row["rating"],
        "comment": row["comment"],
        "rated_at": _iso(row["rated_at"]),
        "question": row["question"],
        "answer": row["answer"],
        "complete": row["complete"],
        "error_code": row["error_code"],
        "sources": row["sources"],
        "prompt": {
            "name": row["prompt_name"],
            "version": row["prompt_version"],
            "hash": row["prompt_hash"],
            **({"commit": row["prompt_commit"]} if row["prompt_commit"] else {}),
        },
        "backend": row["backend"],
        "backend_type": row["backend_type"],
        "model": row["model"],
        "entity_scope": row["entity_scope"],
        "answered_at": _iso(row["answered_at"]),
    }
