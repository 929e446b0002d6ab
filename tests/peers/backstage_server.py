"""A server speaking Backstage's catalog and TechDocs wire format, for fault tests a real backend cannot stage.

`GET /api/catalog/entities/by-query` pages with opaque cursors (`{items, totalItems, pageInfo.nextCursor}`),
ANDs nothing and ORs repeated `filter` params as Backstage does (`kind=x`, or a key alone for "exists").
`GET /api/techdocs/static/docs/{namespace}/{kind}/{name}/search/search_index.json` serves an mkdocs search index:
each page whole and by sections, headings carrying the `¶` permalink mark.
Knobs on `app.state.faults`: `status_on_page` {page: status}, `slow_seconds`, `malformed`,
`site_status` {"namespace/kind/name": status} for one TechDocs site.
"""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response, get

from ingest.sources.catalog_files import CatalogFiles
from ingest.sources.mkdocs_site import find_config, read_site
from ingest.techdocs import slugify


def search_index(folder: Path) -> dict[str, Any]:
    """What mkdocs' search plugin writes for a site folder."""
    docs = []
    for page, title, markdown in read_site(find_config(folder)).pages():  # type: ignore[arg-type]
        location = "" if page == "index" else f"{page}/"
        body = re.sub(r"^#+ .*$", "", markdown, flags=re.M).strip()
        docs.append({"location": location, "title": title, "text": body})
        for heading, text in re.findall(r"^##+ (.+)\n((?:(?!^#).*\n?)*)", markdown, flags=re.M):
            docs.append({"location": f"{location}#{slugify(heading)}", "title": f"{heading}¶", "text": text.strip()})
    return {"config": {"lang": ["en"]}, "docs": docs}


def create_app(catalog: Path, token: str | None = "s3cret-token") -> Litestar:
    entities = [loaded.entity for loaded in CatalogFiles(catalog).load().values()]
    sites: dict[str, dict[str, Any]] = {}
    for loaded in CatalogFiles(catalog).load().values():
        ref = (loaded.entity.get("metadata") or {}).get("annotations", {}).get("backstage.io/techdocs-ref", "")
        if ref.startswith("dir:"):
            folder = (loaded.file.parent / ref.removeprefix("dir:")).resolve()
            key = f"default/{loaded.entity['kind'].lower()}/{loaded.entity['metadata']['name']}"
            sites[key] = search_index(folder)
    faults: dict[str, Any] = {"status_on_page": {}, "slow_seconds": 0.0, "malformed": False, "site_status": {}}
    requests: list[str] = []

    def authorised(request: Request[Any, Any, Any]) -> bool:
        return token is None or request.headers.get("authorization") == f"Bearer {token}"

    def matches(entity: dict[str, Any], filters: list[str]) -> bool:
        if not filters:
            return True
        for condition in filters:
            key, _, value = condition.partition("=")
            if key == "kind" and entity["kind"].lower() == value.lower():
                return True
            annotations = entity["metadata"].get("annotations") or {}
            if key.startswith("metadata.annotations.") and not value and key[21:] in annotations:
                return True
        return False

    @get("/api/catalog/entities/by-query", sync_to_thread=True)
    def by_query(request: Request[Any, Any, Any]) -> Response[Any]:
        requests.append(str(request.url))
        if not authorised(request):
            return Response(
                {"error": {"name": "AuthenticationError", "message": "Missing credentials"}}, status_code=401
            )
        params = request.query_params
        if params.get("cursor"):
            state = json.loads(base64.b64decode(params["cursor"]))
        else:
            state = {"offset": 0, "filters": params.getall("filter", []), "page": 1}
        page = state["page"]
        if page in faults["status_on_page"]:
            return Response({"error": {"message": "boom"}}, status_code=faults["status_on_page"][page])
        time.sleep(faults["slow_seconds"])
        if faults["malformed"]:
            return Response(content='{"items": [', media_type="application/json")
        limit = int(params.get("limit", "20"))
        selected = [e for e in entities if matches(e, state["filters"])]
        items = selected[state["offset"] : state["offset"] + limit]
        info: dict[str, Any] = {}
        if state["offset"] + limit < len(selected):
            following = {**state, "offset": state["offset"] + limit, "page": page + 1}
            info["nextCursor"] = base64.b64encode(json.dumps(following).encode()).decode()
        return Response({"items": items, "totalItems": len(selected), "pageInfo": info})

    @get("/api/techdocs/static/docs/{namespace:str}/{kind:str}/{name:str}/search/search_index.json")
    async def techdocs(request: Request[Any, Any, Any], namespace: str, kind: str, name: str) -> Response[Any]:
        if not authorised(request):
            return Response({"error": {"message": "Missing credentials"}}, status_code=401)
        key = f"{namespace}/{kind}/{name}"
        if key in faults["site_status"]:
            return Response({"error": {"message": "boom"}}, status_code=faults["site_status"][key])
        site = sites.get(key)
        return Response(site) if site else Response({"error": {"message": "not found"}}, status_code=404)

    app = Litestar([by_query, techdocs])
    app.state.entities = entities
    app.state.faults = faults
    app.state.requests = requests
    app.state.sites = sites
    return app
