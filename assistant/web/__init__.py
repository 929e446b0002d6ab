"""The web layer under every front door: error shapes, guards, dependencies, OpenAPI, mounts, middleware."""
