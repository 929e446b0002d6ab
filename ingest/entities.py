"""Backstage catalog entities as documents: the text a person would ask about, and metadata to filter on.

Shared by every catalog source (files now, the Backstage API later), so an entity reads the same whatever
the place it came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from langchain_text_splitters import RecursiveCharacterTextSplitter

from assistant.catalog.relations import RELATIONS
from assistant.documents import DEFINITION, ENTITY, Document, EntityRef, clean_metadata
from ingest.kind_details import kind_details

# spec field -> (label in the text, Backstage's default kind for a bare name), from the one relation table
RELATION_FIELDS: dict[str, tuple[str, str]] = {r.field: (r.label, r.default_kind) for r in RELATIONS}
MAX_DEFINITION_CHARS = 20_000
DEFINITION_CHUNK_CHARS = 1_200

_definition_splitter = RecursiveCharacterTextSplitter(
    chunk_size=DEFINITION_CHUNK_CHARS, chunk_overlap=100, separators=["\n\n", "\n", " ", ""]
)


def entity_ref(entity: dict[str, Any]) -> EntityRef:
    metadata = entity.get("metadata") or {}
    return EntityRef(
        kind=str(entity.get("kind", "")).lower(),
        namespace=str(metadata.get("namespace") or "default"),
        name=str(metadata.get("name", "")),
    )


# Backstage's own rules for names (KubernetesValidatorFunctions in @backstage/catalog-model).
_KIND = re.compile(r"^[a-zA-Z][a-z0-9A-Z]*$")
_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_NAMESPACE = re.compile(r"^[a-z0-9]+(?:-+[a-z0-9]+)*$")
_API_VERSION = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[a-z0-9A-Z]+$")


def validate_entity(entity: Any) -> str | None:
    """Why this is not a valid catalog entity, or None when it is one.

    Any `group/version` apiVersion is accepted: Templates are `scaffolder.backstage.io/...`, and catalog-model
    extensions bring kinds of their own.
    """
    if not isinstance(entity, dict):
        return "is not a mapping"
    api_version = str(entity.get("apiVersion") or "")
    if not _API_VERSION.match(api_version):
        return f"has no valid apiVersion (got {api_version or 'none'!r})"
    kind = entity.get("kind")
    if not kind:
        return "has no kind"
    if not isinstance(kind, str) or len(kind) > 63 or not _KIND.match(kind):
        return f"has an invalid kind {kind!r}"
    metadata = entity.get("metadata")
    if not isinstance(metadata, dict) or not metadata.get("name"):
        return "has no metadata.name"
    name = metadata["name"]
    if not isinstance(name, str) or len(name) > 63 or not _NAME.match(name):
        return f"has an invalid metadata.name {name!r}"
    namespace = metadata.get("namespace")
    if namespace is not None and (
        not isinstance(namespace, str) or len(namespace) > 63 or not _NAMESPACE.match(namespace)
    ):
        return f"has an invalid metadata.namespace {namespace!r}"
    return None


def relation_refs(entity: dict[str, Any], field_name: str) -> list[EntityRef]:
    """Refs of one relation field, with Backstage's default kind and the entity's namespace filled in."""
    spec = entity.get("spec") or {}
    value = spec.get(field_name)
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    namespace = entity_ref(entity).namespace
    default_kind = RELATION_FIELDS[field_name][1]
    refs = []
    for item in values:
        if isinstance(item, str) and item.strip():
            try:
                refs.append(EntityRef.parse(item, default_kind=default_kind, default_namespace=namespace))
            except ValueError:
                continue
    return refs


def _title(entity: dict[str, Any]) -> str:
    metadata = entity.get("metadata") or {}
    profile = (entity.get("spec") or {}).get("profile") or {}
    return str(metadata.get("title") or profile.get("displayName") or metadata.get("name"))


def relations_of(entity: dict[str, Any]) -> dict[str, list[EntityRef]]:
    """Every relation field's refs, parsed once per entity (the text and the metadata both list them)."""
    return {field_name: relation_refs(entity, field_name) for field_name in RELATION_FIELDS}


def entity_text(entity: dict[str, Any], relations: dict[str, list[EntityRef]] | None = None) -> str:
    """What a person asks about, most telling first (the embedder reads only the first ~256 tokens)."""
    ref = entity_ref(entity)
    metadata = entity.get("metadata") or {}
    spec = entity.get("spec") or {}
    profile = spec.get("profile") or {}
    kind_label = entity.get("kind", ref.kind)
    type_label = f" ({spec['type']})" if spec.get("type") else ""
    lines = [f"{kind_label}{type_label}: {_title(entity)} [{ref}]"]
    if metadata.get("description"):
        lines.append(f"Description: {str(metadata['description']).strip()}")
    relations = relations or relations_of(entity)
    for field_name, (label, _) in RELATION_FIELDS.items():
        refs = relations[field_name]
        if refs:
            lines.append(f"{label}: {', '.join(str(r) for r in refs)}")
    if spec.get("lifecycle"):
        lines.append(f"Lifecycle: {spec['lifecycle']}")
    tags = metadata.get("tags") or []
    if tags:
        lines.append(f"Tags: {', '.join(str(t) for t in tags)}")
    if profile.get("email"):
        lines.append(f"Email: {profile['email']}")
    for link in metadata.get("links") or []:
        if isinstance(link, dict) and link.get("url"):
            lines.append(f"Link: {link.get('title') or link['url']} - {link['url']}")
    if spec.get("targets") or spec.get("target"):
        targets = spec.get("targets") or [spec.get("target")]
        lines.append(f"Targets: {', '.join(str(t) for t in targets)}")
    lines += kind_details(entity, {*RELATION_FIELDS, "type", "lifecycle", "targets", "target", "profile"})
    return "\n".join(lines)


def entity_metadata(entity: dict[str, Any], relations: dict[str, list[EntityRef]] | None = None) -> dict[str, Any]:
    ref = entity_ref(entity)
    metadata = entity.get("metadata") or {}
    spec = entity.get("spec") or {}
    relations_by_field = relations or relations_of(entity)
    owner = relations_by_field["owner"]
    system = relations_by_field["system"]
    relations: list[str] = []
    for field_name in RELATION_FIELDS:
        relations += [f"{field_name}:{r}" for r in relations_by_field[field_name]]
    return {
        "entity": str(ref),
        "kind": ref.kind,
        "namespace": ref.namespace,
        "name": ref.name,
        "title": _title(entity),
        "description": str(metadata.get("description") or "").strip()[:500],
        "owner": str(owner[0]) if owner else None,
        "system": str(system[0]) if system else None,
        "lifecycle": spec.get("lifecycle"),
        "type": spec.get("type"),
        "tags": [str(tag) for tag in metadata.get("tags") or []],
        "relations": relations,
    }


def definition_text(entity: dict[str, Any]) -> str:
    """An API's definition as text, trimmed: long specs are mostly schema detail nobody asks about."""
    definition = (entity.get("spec") or {}).get("definition")
    if not isinstance(definition, str):
        return ""
    return definition.strip()[:MAX_DEFINITION_CHARS]


def entity_documents(
    entity: dict[str, Any],
    extra: dict[str, Any] | None = None,
    unit: str = "",
    origin: tuple[str, int | None] | None = None,
) -> Iterator[Document]:
    """The entity's own document, then its API definition split into chunks."""
    ref = entity_ref(entity)
    relations = relations_of(entity)
    base = {**entity_metadata(entity, relations), **(extra or {})}
    yield Document(
        id=str(ref),
        text=entity_text(entity, relations),
        metadata=clean_metadata({**base, "chunk": ENTITY}),
        unit=unit,
        origin=origin,
    )
    definition = definition_text(entity)
    if not definition:
        return
    heading = f"Definition of {entity.get('kind', 'API')} {_title(entity)} [{ref}]"
    for index, part in enumerate(_definition_splitter.split_text(definition)):
        yield Document(
            id=f"{ref}#definition/{index}",
            text=f"{heading}, part {index + 1}:\n{part}",
            metadata=clean_metadata({**base, "chunk": DEFINITION, "part": index}),
            unit=unit,
        )
