"""Templates: the patient's language and zone, and no more personal data than needed."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from commands.notifications.templates import TEMPLATES, MessageContext, render

START = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
CONTEXT = MessageContext("Clinica Sol", "Dr Ada", START, "https://app.example/a/1")


def test_english_in_the_patients_zone() -> None:
    message = render("reminder_1440m", "en", ZoneInfo("America/New_York"), CONTEXT)
    assert message.text == (
        "Reminder: your appointment with Dr Ada is on November 24, 2026 at 4:30\u202fAM. "
        "Details: https://app.example/a/1"
    )
    assert message.subject == "Clinica Sol: appointment reminder"


def test_spanish_in_the_patients_zone() -> None:
    message = render("confirmation", "es", ZoneInfo("Europe/Madrid"), CONTEXT)
    assert "24 de noviembre de 2026" in message.text
    assert "10:30" in message.text


def test_an_unknown_locale_falls_back_to_english() -> None:
    message = render("cancellation", "fr", ZoneInfo("UTC"), CONTEXT)
    assert message.text.startswith("Your appointment with Dr Ada")


def test_html_is_escaped() -> None:
    context = MessageContext("A & B <clinic>", "Dr <b>", START, "https://x.example")
    rendered = render("confirmation", "en", ZoneInfo("UTC"), context)
    assert "Dr &lt;b&gt;" in rendered.html
    assert "<b>" not in rendered.html


@pytest.mark.parametrize("kind", sorted(TEMPLATES))
def test_every_kind_has_both_locales_and_only_the_minimum_fields(kind: str) -> None:
    assert set(TEMPLATES[kind]) == {"en", "es"}
    for entry in TEMPLATES[kind].values():
        for placeholder in ("reason", "symptoms", "notes", "name"):
            assert f"${placeholder}" not in entry.subject + entry.body


def test_a_waitlist_offer_says_when_to_answer_by_in_the_patients_zone() -> None:
    answer_by = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
    context = MessageContext("Clinica Sol", "Dr Ada", START, "https://app.example/w", answer_by)
    english = render("waitlist_offer", "en", ZoneInfo("Europe/Berlin"), context).text
    assert "on November 24, 2026 at 10:30\u202fAM" in english
    assert "Reply by November 23, 2026 at 9:00\u202fPM" in english
    spanish = render("waitlist_offer", "es", ZoneInfo("Europe/Madrid"), context).text
    assert "antes del 23 de noviembre de 2026 a las 21:00" in spanish
