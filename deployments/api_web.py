"""The page people use: `GET /` is the tutor in a browser, its assets under `/static/`.

Plain HTML, CSS and JavaScript modules from `deployments/web/` (package data, so the Serve
ingress replica serves the same files as a development process). Nothing is built: the files
in git are the files served. The page talks to the same `/api/v1` as every client, with the
bearer token the person pastes (kept in the tab's sessionStorage, never in a URL).
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from starlette.responses import Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

WEB_DIR = Path(__file__).parent / "web"

# Only the page's own files run: no inline script or style, no other origin, no framing. An
# answer that smuggled markup past the page's escaping could still not run a script.
CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # A new release's page must not run against an older script from the cache.
    "Cache-Control": "no-cache",
}


class WebFiles(StaticFiles):
    """The page's assets, with the page's headers: `nosniff` keeps a script a script, and
    `no-cache` revalidates each (by ETag) so a new release is never half cached."""

    def file_response(
        self, full_path: PathLike, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(PAGE_HEADERS)
        return response


def add_web_routes(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html", headers=PAGE_HEADERS)

    app.mount("/static", WebFiles(directory=WEB_DIR / "static"), name="static")
