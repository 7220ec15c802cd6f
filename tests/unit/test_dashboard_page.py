"""The analytics dashboard page (issue 14) at the HTTP edge: served without a token (it holds no
data), with a policy that loads nothing from elsewhere, and its script calls only our own
analytics endpoints with the analyst's bearer token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.unit.test_api_edges import make_client


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Any]]:
    with make_client() as c:
        yield c


def test_the_page_and_its_script_are_served_locally(client: TestClient[Any]) -> None:
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert '<script src="/dashboard/app.js">' in page.text
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text)  # no CDN, nothing remote
    script = client.get("/dashboard/app.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    called = set(re.findall(r'"(/v1/[a-z/]+)"', script.text))
    assert called == {"/v1/analytics/appointments", "/v1/analytics/revenue", "/v1/analytics/access"}
    assert '"Bearer "' in script.text


def test_the_page_names_its_units_and_links_the_definitions(client: TestClient[Any]) -> None:
    text = client.get("/dashboard").text
    for label in ("count", "%", "per currency", "days to the third free seat", 'id="definitions"'):
        assert label in text
