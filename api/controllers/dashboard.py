"""The analytics dashboard page (issue 14): a static page and its script, served locally (no
CDN). It holds no data: the script asks the analyst for their bearer token (kept in the tab's
sessionStorage) and draws SVG charts from the /v1/analytics endpoints, which check it."""

from __future__ import annotations

from importlib.resources import files

from litestar import Response, get

DASHBOARD_PATH = "/dashboard"
_STATIC = files("api") / "static"
SECURITY = {
    # Scripts and requests only from this origin: nothing is loaded from elsewhere.
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
    ),
    "X-Content-Type-Options": "nosniff",
}


@get(DASHBOARD_PATH, include_in_schema=False, sync_to_thread=False)
def dashboard() -> Response[str]:
    page = (_STATIC / "dashboard.html").read_text(encoding="utf-8")
    return Response(page, media_type="text/html; charset=utf-8", headers=SECURITY)


@get(DASHBOARD_PATH + "/app.js", include_in_schema=False, sync_to_thread=False)
def dashboard_script() -> Response[str]:
    script = (_STATIC / "dashboard.js").read_text(encoding="utf-8")
    return Response(script, media_type="text/javascript; charset=utf-8", headers=SECURITY)
