"""Response headers that let Backstage frame the page, and only Backstage."""

from pathlib import Path

from litestar.testing import TestClient

from assistant.app import create_app
from tests.conftest import make_settings


def test_every_response_names_the_allowed_frame_ancestors(fixture_data_dir: Path):
    settings = make_settings(fixture_data_dir, frame_ancestors=["'self'", "https://backstage.example.com"])
    with TestClient(create_app(settings)) as client:
        for path in ("/", "/healthz", "/schema/openapi.json"):
            response = client.get(path)
            assert response.headers["content-security-policy"] == "frame-ancestors 'self' https://backstage.example.com"
            assert "x-frame-options" not in response.headers


def test_default_allows_self_and_localhost(fixture_data_dir: Path):
    with TestClient(create_app(make_settings(fixture_data_dir))) as client:
        policy = client.get("/").headers["content-security-policy"]
    assert policy == "frame-ancestors 'self' http://localhost:* http://127.0.0.1:*"


def test_page_at_a_public_root_path_builds_its_urls_under_it(fixture_data_dir: Path):
    settings = make_settings(fixture_data_dir, root_path="/api/proxy/assistant")
    with TestClient(create_app(settings)) as client:
        page = client.get("/")
    assert page.status_code == 200
    assert '"root":"http://testserver.local/api/proxy/assistant"' in page.text
    assert page.text.index("assistantStorageBlocked") < page.text.index("window.gradio_config")
