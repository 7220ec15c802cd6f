"""The analytics dashboard in a real headless browser (issue 14): Debian's Chromium driven by
Playwright against the real API and projection worker. Seeded history → the page loads with an
analyst's token → the charts show the seeded numbers → a filter change updates them → no
console errors. The screenshot is kept in .state/test-artifacts/dashboard.png."""

from __future__ import annotations

import re
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from domain.actor import Role
from tests.conftest import Stack, auth, token
from tests.scenario import ok, patient, provider, slot

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACT = Path(".state/test-artifacts/dashboard.png")
STAFF = auth(Role.STAFF)
DAY = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=30)

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium package")


def seed(client: httpx.Client) -> tuple[uuid.UUID, int]:
    """Three visits of one UTC provider on three days (two on the first), a card payment."""
    provider_id = provider(client, zone="UTC")
    starts = [DAY, DAY + timedelta(hours=2), DAY + timedelta(days=1), DAY + timedelta(days=2)]
    booked = []
    for start in starts:
        _, me = patient(client)
        slot_id = slot(client, provider_id, start)
        booked.append(
            ok(client.post("/v1/appointments", json={"slot_id": str(slot_id)}, headers=me), 201)
        )
    payment = {"amount": "40.00", "currency": "EUR", "method": "card", "external_reference": "ch_1"}
    paid = ok(
        client.post(f"/v1/appointments/{booked[0]['id']}/payments", json=payment, headers=STAFF),
        201,
    )
    return provider_id, paid["position"]


def test_the_dashboard_draws_the_seeded_numbers_and_follows_its_filters(
    client: httpx.Client, stack: Stack
) -> None:
    provider_id, position = seed(client)
    analyst = auth(Role.ANALYST)
    wait = {
        "from": DAY.isoformat(),
        "to": (DAY + timedelta(days=3)).isoformat(),
        "min_position": str(position),
    }
    ok(client.get("/v1/analytics/appointments", params=wait, headers=analyst), 200)

    first, last = DAY.date(), (DAY + timedelta(days=3)).date()
    url = f"{stack.base_url}/dashboard?from={first}&to={last}&provider={provider_id}"
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(url)
        page.fill("#token", token(Role.ANALYST, uuid.uuid4()))
        page.click("button[type=submit]")
        expect(page.locator("#status")).to_have_text(re.compile(r"^4 appointments"))
        by_day = page.eval_on_selector_all(
            "#by-day text[data-value]", "n => n.map(x => x.textContent)"
        )
        assert by_day == ["2", "1", "1"]
        # money counts when it moves: today's payment is not in next month's period
        assert page.locator("#revenue text").first.text_content() == "no data in this period"
        hours = page.eval_on_selector_all(
            "#by-hour text[data-value]", "n => n.map(x => x.textContent)"
        )
        assert sorted(hours) == ["1", "3"]  # 09:00 three times, 11:00 once

        page.fill("#from", str(datetime.now(UTC).date()))  # today, when the payment was made
        page.fill("#to", str(first + timedelta(days=1)))  # ... to the first visit day only
        page.click("button[type=submit]")
        expect(page.locator("#status")).to_have_text(re.compile(r"^2 appointments"))
        by_day = page.eval_on_selector_all(
            "#by-day text[data-value]", "n => n.map(x => x.textContent)"
        )
        assert by_day == ["2"]
        assert page.locator("#revenue title").first.text_content() == "card EUR: 40 net"
        ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACT), full_page=True)
        browser.close()
    assert problems == []
    assert ARTIFACT.stat().st_size > 0
