"""Example questions for the greeting, drawn from what is actually in the knowledge base."""

from __future__ import annotations

from typing import Any

from assistant.retrieval import Retriever

FALLBACK = [
    "Which components does a system contain?",
    "Who owns a given service, and how do I reach them?",
    "Write a catalog-info.yaml for a new service.",
]


def _most_connected(entities: dict[str, dict[str, Any]], related: dict[str, list], kind: str) -> dict[str, Any] | None:
    candidates = [m for ref, m in entities.items() if m.get("kind") == kind]
    if not candidates:
        return None
    return max(candidates, key=lambda m: (len(related.get(str(m.get("entity")), [])), str(m.get("entity"))))


def suggested_questions(retriever: Retriever, limit: int = 4) -> list[str]:
    """Up to four questions about the best-connected entities and a TechDocs page of this catalog."""
    snapshot = retriever.index.current()
    questions: list[str] = []
    component = _most_connected(snapshot.entities, snapshot.related, "component")
    if component:
        questions.append(f"Who owns {component.get('name')} and what does it depend on?")
    api = _most_connected(snapshot.entities, snapshot.related, "api")
    if api:
        title = str(api.get("title") or api.get("name"))
        questions.append(f"What does the {title if title.lower().endswith('api') else title + ' API'} offer?")
    page = next((m for m in snapshot.metadatas if m.get("chunk") == "techdocs" and m.get("page") != "index"), None)
    if page:
        questions.append(f'What do the {page.get("title")} docs say in "{page.get("page_title")}"?')
    system = _most_connected(snapshot.entities, snapshot.related, "system")
    if system:
        questions.append(f"Which components are part of the {system.get('title') or system.get('name')} system?")
    return (questions or FALLBACK)[:limit]
