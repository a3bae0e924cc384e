"""The browser page as the ingress serves it: the page and its files, the policy that keeps
any script but its own from running, and no code path that turns data into markup."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from deployments.api_web import WEB_DIR
from graphs.single_process import local_api, local_router
from tests.conftest import keyword_shard
from tests.fakes.hashing_embedder import HashingEmbedder
from tests.fakes.llm import EchoSourceBackend

# What would parse a string as HTML (or run it) in the page's scripts.
MARKUP_SINKS = re.compile(
    r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|createContextualFragment"
    r"|DOMParser|\beval\(|new Function|setTimeout\(\s*['\"`]"
)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    shards = {"chemistry": keyword_shard("chemistry")}
    app, _ = local_api(local_router(HashingEmbedder(), shards, {"local": EchoSourceBackend()}))
    with TestClient(app) as http:
        yield http


def test_the_page_is_served_at_the_root_with_a_policy_that_forbids_inline_script(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/static/app.js">' in page.text
    policy = dict(
        part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";")
    )
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'none'"
    assert "unsafe" not in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "/" not in client.get("/openapi.json").json()["paths"]  # not part of the API


def test_every_file_the_page_loads_is_served_with_its_type(client):
    page = client.get("/").text
    for path in re.findall(r'(?:src|href)="(/static/[^"]+)"', page):
        served = client.get(path)
        assert served.status_code == 200, path
        assert served.headers["x-content-type-options"] == "nosniff"
    modules = {p.name for p in (WEB_DIR / "static").glob("*.js")}
    for name in modules:
        served = client.get(f"/static/{name}")
        assert served.headers["content-type"].startswith(("text/javascript", "application/js"))
        for imported in re.findall(r'from "\./([^"]+)"', served.text):
            assert imported in modules, f"{name} imports a missing {imported}"
    missing = client.get("/static/nothing.js")
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found"


def test_the_page_has_no_inline_script_or_handler():
    html = (WEB_DIR / "index.html").read_text()
    assert all('src="' in tag for tag in re.findall(r"<script[^>]*>", html))
    assert not re.search(r"\son[a-z]+\s*=", html), "an inline event handler"
    assert "style=" not in html


@pytest.mark.parametrize("script", sorted((WEB_DIR / "static").glob("*.js")), ids=lambda p: p.name)
def test_no_script_turns_data_into_markup(script):
    found = MARKUP_SINKS.findall(script.read_text())
    assert not found, f"{script.name} uses {found}: build nodes and set textContent instead"
