"""The chat page in a real headless Chromium, inside an iframe exactly as Backchat renders it.

Needs Debian's chromium at /usr/bin/chromium (`make test` installs it). Screenshots land in tests/artifacts/.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from assistant.app import create_app
from tests.conftest import BIN, free_port, peer_settings, serve_in_thread
from tests.peers import ollama_server

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
HOST_DIR = Path(__file__).parent / "browser"
QUESTION = "Who owns the backchat-plugin component?"


@pytest.fixture(scope="module")
def host() -> Iterator[int]:
    """The Backstage-like host page, served on its own port."""
    port = free_port()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(HOST_DIR))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield port
    server.shutdown()


def backstage(host: int) -> str:
    """The host server stands in for Backstage, so a source link opens a real page (a 404 there is fine)."""
    return f"http://localhost:{host}"


@pytest.fixture(scope="module")
def feedback_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('feedback') / 'feedback.db'}"


@pytest.fixture(scope="module")
def app_port(fixture_data_dir: Path, host: int, feedback_url: str) -> Iterator[int]:
    with serve_in_thread(ollama_server.app) as model_url:
        settings = peer_settings(
            fixture_data_dir, model_url, backstage_url=backstage(host), feedback_database_url=feedback_url
        )
        with serve_in_thread(create_app(settings)) as url:
            yield int(url.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install chromium (make test does it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                # Nothing leaves this machine: every other host (backstage.test too) fails to resolve.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
            ],
        )
        yield browser
        browser.close()


def open_embedded(browser, host: int, src: str, width: int = 1280, height: int = 800):
    """A Backstage-like page with the assistant in Backchat's iframe; returns (page, frame)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(f"http://localhost:{host}/host.html?src={quote(src, safe='')}")
    frame = page.frame_locator("#assistant")
    frame.get_by_role("textbox").first.wait_for(timeout=60_000)
    return page, frame


def ask(page, frame, question: str) -> None:
    box = frame.get_by_role("textbox").first
    box.fill(question)
    box.press("Enter")


def overflow(page) -> int:
    """How far the frame's document reaches past the frame (0: no second scrollbar)."""
    return page.frames[1].evaluate("document.documentElement.scrollHeight - window.innerHeight")


def rate(frame, thumb: str, comment: str) -> None:
    """Click a thumb under the latest answer, then type a comment and send it."""
    frame.locator("#assistant-chat").get_by_role("button", name=thumb).last.click()
    box = frame.locator("#assistant-feedback-comment textarea")
    box.wait_for(timeout=10_000)
    box.fill(comment)
    frame.locator("#assistant-feedback-send").click()
    frame.locator("#assistant-feedback").wait_for(state="hidden", timeout=10_000)


def exported_feedback(feedback_url: str) -> list[dict]:
    """What `assistant feedback export --json` holds, as a platform team would read it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_FEEDBACK_DATABASE_URL"] = feedback_url
    result = subprocess.run(
        [str(BIN / "assistant"), "feedback", "export", "--json"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# The answer's last line of text, the Sources heading, and what stands between them.
ANSWER_TO_SOURCES = """() => {
  const md = [...document.querySelectorAll('#assistant-chat [data-testid=bot] .md')].pop();
  const blocks = [...md.children];
  const heading = blocks.findIndex(e => e.textContent.trim() === 'Sources');
  const text = blocks.slice(0, heading).findLastIndex(e => e.textContent.trim());
  const between = blocks.slice(text + 1, heading);
  return {
    gap: blocks[heading].getBoundingClientRect().top - blocks[text].getBoundingClientRect().bottom,
    empty: between.filter(e => e.tagName !== 'HR' || e.getBoundingClientRect().height > 2).map(e => e.tagName),
  };
}"""


def test_same_site_page_streams_an_answer_and_opens_sources_in_a_new_tab(browser, host, app_port):
    ARTIFACTS.mkdir(exist_ok=True)
    page, frame = open_embedded(browser, host, f"http://localhost:{app_port}/?theme=light")
    assert frame.locator("#assistant-chat").is_visible()
    ask(page, frame, QUESTION)
    link = frame.get_by_role("link", name="Backchat Plugin").first
    link.wait_for(timeout=60_000)
    frame.get_by_text("component:default/backchat-plugin [1]").first.wait_for(timeout=60_000)
    assert link.get_attribute("href") == f"{backstage(host)}/catalog/default/component/backchat-plugin"
    assert link.get_attribute("target") == "_blank"
    page.screenshot(path=str(ARTIFACTS / "chat-light.png"))
    with page.context.expect_page() as opened:
        link.click()
    assert opened.value.url.startswith(f"{backstage(host)}/catalog/default/component/backchat-plugin")
    # The chat is still in the frame: links never navigate the iframe or the top window.
    assert page.frames[1].url.startswith(f"http://localhost:{app_port}/")
    assert frame.get_by_text("component:default/backchat-plugin [1]").first.is_visible()
    # Fits the frame: no second scrollbar inside the iframe.
    height = page.frames[1].evaluate("[document.documentElement.scrollHeight, window.innerHeight]")
    assert height[0] <= height[1] + 2, height
    page.context.close()


def test_dark_theme_and_prompt_switch(browser, host, app_port):
    page, frame = open_embedded(browser, host, f"http://localhost:{app_port}/?theme=dark")
    background = page.frames[1].evaluate(
        "getComputedStyle(document.querySelector('.gradio-container')).backgroundColor"
    )
    assert background in ("rgb(51, 51, 51)", "rgba(0, 0, 0, 0)") and page.frames[1].evaluate(
        "document.body.classList.contains('dark') || document.documentElement.classList.contains('dark')"
        " || !!document.querySelector('.dark')"
    )
    frame.get_by_text("Prompt, backend and model").click()
    frame.locator("#assistant-prompt input").click()
    frame.get_by_role("option", name="general: The plain").click()
    frame.get_by_text("Prompt, backend and model").click()  # close the settings again
    ask(page, frame, "What is a good name for a Kafka topic?")
    frame.get_by_text("According to the catalog").first.wait_for(timeout=60_000)
    page.wait_for_timeout(500)
    assert frame.locator("#assistant-chat").get_by_text("Sources", exact=True).count() == 0  # no lookup
    page.screenshot(path=str(ARTIFACTS / "chat-dark.png"))
    page.context.close()


def test_cross_site_iframe_with_blocked_storage_still_works_says_why_and_takes_feedback(
    browser, host, app_port, feedback_url
):
    # Host on localhost, assistant on 127.0.0.1: another site, so Chromium blocks the iframe's storage.
    page, frame = open_embedded(browser, host, f"http://127.0.0.1:{app_port}/", width=360, height=720)
    note = frame.locator("#assistant-storage-note")
    note.wait_for(timeout=30_000)
    assert "blocks storage" in note.inner_text()
    # The note pushes the page down instead of covering its heading, and the page still fits the frame.
    heading = frame.get_by_role("heading", name="Backstage Assistant").bounding_box()
    assert heading is not None and heading["y"] >= note.bounding_box()["y"] + note.bounding_box()["height"]
    assert overflow(page) <= 0
    ask(page, frame, QUESTION)
    frame.get_by_role("link", name="Backchat Plugin").first.wait_for(timeout=60_000)
    assert overflow(page) <= 0
    page.screenshot(path=str(ARTIFACTS / "chat-cross-site-360.png"))
    rate(frame, "Like", "Found the owner at once (cross-site).")
    entries = exported_feedback(feedback_url)
    assert any(e["rating"] == "up" and e["comment"] == "Found the owner at once (cross-site)." for e in entries)
    note.click()  # dismissed: the page takes the room back
    page.wait_for_timeout(300)
    assert note.count() == 0 and overflow(page) <= 0
    page.context.close()


def test_entity_scope_is_shown_and_used(browser, host, app_port):
    page, frame = open_embedded(browser, host, f"http://localhost:{app_port}/?entity=component:default/ollama")
    frame.get_by_text("component:default/ollama").first.wait_for(timeout=30_000)
    assert "Answering about" in frame.locator("#assistant-scope").inner_text()
    ask(page, frame, "Which language model does it depend on?")
    frame.get_by_role("link", name="Ollama").first.wait_for(timeout=60_000)
    shown = set(frame.locator("#assistant-chat li code").all_inner_texts())  # each source's entity ref
    neighbours = {
        "component:default/ollama",
        "component:default/ollama-web-ui",
        "resource:default/mistral-7b",
        "group:default/open-source",
        "system:default/backchat",
    }
    assert "component:default/ollama" in shown and shown <= neighbours, shown
    frame.locator("#assistant-new-chat").click()
    page.wait_for_timeout(500)
    assert frame.locator("#assistant-chat a").count() == 0
    page.context.close()


def test_page_works_through_backstages_proxy_at_a_path_prefix(browser, host, fixture_data_dir):
    from tests.peers import backstage_proxy

    with serve_in_thread(ollama_server.app) as model_url:
        settings = peer_settings(fixture_data_dir, model_url, root_path=backstage_proxy.PREFIX)
        with (
            serve_in_thread(create_app(settings)) as app_url,
            serve_in_thread(backstage_proxy.create_app(app_url)) as proxy_url,
        ):
            public = proxy_url.replace("127.0.0.1", "localhost") + backstage_proxy.PREFIX + "/"
            page, frame = open_embedded(browser, host, public)
            assert page.frames[1].evaluate("window.gradio_config.root").endswith(backstage_proxy.PREFIX)
            ask(page, frame, QUESTION)
            frame.get_by_text("component:default/backchat-plugin [1]").first.wait_for(timeout=60_000)
            assert frame.locator("#assistant-storage-note").count() == 0  # same site: storage works
            page.context.close()


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (400, 800), (360, 720)])
def test_page_fits_the_frame_at_every_width_also_with_the_settings_open(browser, host, app_port, width, height):
    page, frame = open_embedded(browser, host, f"http://localhost:{app_port}/", width=width, height=height)
    page.wait_for_timeout(500)
    assert overflow(page) <= 0
    frame.get_by_text("Prompt, backend and model").click()
    frame.locator("#assistant-model").wait_for(timeout=10_000)
    page.wait_for_timeout(500)
    assert overflow(page) <= 0
    assert frame.get_by_role("textbox").first.is_visible()  # the chat's input stays on screen
    page.context.close()


def test_thumbs_down_with_a_comment_is_kept_with_the_answer_and_its_prompt(browser, host, app_port, feedback_url):
    ARTIFACTS.mkdir(exist_ok=True)
    page, frame = open_embedded(browser, host, f"http://localhost:{app_port}/?theme=light")
    ask(page, frame, QUESTION)
    frame.get_by_text("component:default/backchat-plugin [1]").first.wait_for(timeout=60_000)
    frame.get_by_text("· cited").first.wait_for(timeout=60_000)  # once answered, the cited source is marked
    page.wait_for_timeout(500)
    between = page.frames[1].evaluate(ANSWER_TO_SOURCES)
    assert between["empty"] == [] and between["gap"] < 20, between  # a thin rule, no blank band
    frame.locator("#assistant-chat").get_by_role("button", name="Dislike").last.click()
    box = frame.locator("#assistant-feedback-comment textarea")
    box.wait_for(timeout=10_000)
    assert "wrong" in (box.get_attribute("placeholder") or "")
    box.fill("It should name the owner, not just the component.")
    assert overflow(page) <= 0  # the comment row takes its room from the chat
    page.screenshot(path=str(ARTIFACTS / "chat-feedback.png"))
    frame.locator("#assistant-feedback-send").click()
    frame.locator("#assistant-feedback").wait_for(state="hidden", timeout=10_000)
    [entry] = [e for e in exported_feedback(feedback_url) if e["question"] == QUESTION and e["rating"] == "down"]
    assert entry["comment"] == "It should name the owner, not just the component."
    # the catalog's own answer first, then what the model added
    assert entry["answer"].startswith("**component:default/backchat-plugin** is owned by")
    assert "According to the catalog" in entry["answer"] and entry["sources"][0]["entity"].endswith("backchat-plugin")
    assert entry["prompt"]["name"] == "catalog-qa" and entry["prompt"]["version"] and entry["prompt"]["hash"]
    assert (entry["backend"], entry["model"]) == ("default", ollama_server.MODEL)
    page.context.close()
