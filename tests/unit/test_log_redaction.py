"""The logging setup keeps personal data out of every line: structured fields by key, personal
values by subject, exception messages by class and place, e-mail addresses in free text."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
import threading
import uuid
from collections.abc import Iterator, MutableMapping
from datetime import date
from typing import Any

import pytest
import structlog

from commands.appointments.messages import BookAppointment
from commands.directory.messages import PatientDetails, RegisterPatient
from domain.errors import SlotFullError
from domain.personal import PersonalData
from infra.observability.access import AccessLog
from infra.observability.logs import LogSettings, LogSettingsError, configure_logging
from infra.observability.redaction import MASK, redact_value, render_exception
from projections.delivery import failure_summary

NAME, PHONE, EMAIL = "Ada Lovelace", "+44 20 7946 0958", "ada@example.org"
REASON, NOTES = "persistent migraine", "prescribed rest"
SECRETS = (NAME, "Lovelace", PHONE, EMAIL, REASON, NOTES)
PATIENT = uuid.UUID("0b6f3c2e-8f5d-4c59-9a55-0a1d5e2f6b11")


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, sys.excepthook, threading.excepthook)
    stream = io.StringIO()
    configure_logging(LogSettings("json", "INFO"), stream)
    try:
        yield stream
    finally:
        root.handlers, level, sys.excepthook, threading.excepthook = saved
        root.setLevel(level)
        structlog.reset_defaults()


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    parsed: list[dict[str, Any]] = [json.loads(line) for line in stream.getvalue().splitlines()]
    return parsed


def assert_clean(text: str) -> None:
    leaked = [s for s in SECRETS if s in text]
    assert not leaked, f"{leaked} in {text}"


def details() -> PatientDetails:
    return PatientDetails(
        name=NAME, phone=PHONE, email=EMAIL, birth_date=date(1815, 12, 10), time_zone="UTC"
    )


def test_personal_fields_are_masked_at_any_depth_and_ids_kept(captured: io.StringIO) -> None:
    log = structlog.stdlib.get_logger("slotwise.test")
    log.info(
        "patient registered",
        patient_id=PATIENT,
        name=NAME,
        contact_email=EMAIL,
        command=RegisterPatient(patient_id=PATIENT, details=details()),
        booking=BookAppointment(slot_id=PATIENT, reason=REASON, symptoms=["aura"]),
        nested={"rows": [{"notes": NOTES, "id": 7}]},
    )

    [line] = lines(captured)
    assert_clean(captured.getvalue())
    assert line["patient_id"] == str(PATIENT)
    assert line["name"] == MASK
    assert line["contact_email"] == MASK
    assert line["command"]["details"] == MASK
    assert line["command"]["patient_id"] == str(PATIENT)
    assert line["booking"]["reason"] == MASK
    assert line["booking"]["symptoms"] == MASK
    assert line["booking"]["type"] == "BookAppointment"
    assert line["nested"] == {"rows": [{"notes": MASK, "id": 7}]}
    assert (line["level"], line["logger"]) == ("info", "slotwise.test")


def test_personal_data_values_show_their_subject_only(captured: io.StringIO) -> None:
    structlog.stdlib.get_logger("t").warning("odd value", value=PersonalData(PATIENT, NAME))

    assert_clean(captured.getvalue())
    assert lines(captured)[0]["value"] == f"<personal data of {PATIENT}>"


def test_standard_library_records_and_their_extras_pass_the_same_redaction(
    captured: io.StringIO,
) -> None:
    logging.getLogger("uvicorn.error").warning(
        "mail to %s bounced", EMAIL, extra={"reason": REASON, "appointment_id": str(PATIENT)}
    )

    [line] = lines(captured)
    assert_clean(captured.getvalue())
    assert line["event"] == f"mail to {MASK} bounced"
    assert line["reason"] == MASK
    assert line["appointment_id"] == str(PATIENT)


def test_exceptions_keep_class_place_and_frames_but_not_messages(captured: io.StringIO) -> None:
    def decode_row() -> None:
        raise ValueError(f"invalid input: {NAME!r}, {PHONE}")

    try:
        try:
            decode_row()
        except ValueError as error:
            raise RuntimeError(f"projection failed on {EMAIL}") from error
    except RuntimeError:
        logging.getLogger("slotwise.worker").exception("projection stopped")

    [line] = lines(captured)
    assert_clean(captured.getvalue())
    assert "in decode_row" in line["exception"]
    assert "ValueError at " in line["exception"]
    assert "which led to" in line["exception"]
    assert line["error"].startswith("RuntimeError at ")


def test_a_domain_error_keeps_its_message_which_names_ids_only() -> None:
    summary = failure_summary(SlotFullError(f"slot {PATIENT} is full"))

    assert summary == f"domain.errors.SlotFullError: slot {PATIENT} is full"


def test_a_database_error_is_summarised_by_sqlstate_and_names_not_row_values() -> None:
    class Diag:
        table_name = "rm_patients"
        constraint_name = "rm_patients_pkey"
        column_name = None
        schema_name = "public"

    class UniqueViolationError(Exception):
        sqlstate = "23505"
        diag = Diag()

    error = UniqueViolationError(f"duplicate key: Key (name)=({NAME}) already exists")
    summary = failure_summary(error)

    assert_clean(summary + render_exception(error))
    assert "(sqlstate 23505, schema_name=public, table_name=rm_patients" in summary
    assert "constraint_name=rm_patients_pkey)" in summary


def test_an_uncaught_exception_in_a_thread_is_logged_redacted(captured: io.StringIO) -> None:
    def fail() -> None:
        raise KeyError(EMAIL)

    thread = threading.Thread(target=fail, name="projection-scheduling")
    thread.start()
    thread.join()

    [line] = lines(captured)
    assert_clean(captured.getvalue())
    assert (line["level"], line["thread"]) == ("critical", "projection-scheduling")
    assert line["error"].startswith("KeyError at ")


def test_the_console_format_redacts_the_same() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, sys.excepthook, threading.excepthook)
    try:
        configure_logging(LogSettings("console", "INFO"), stream)
        structlog.stdlib.get_logger("t").info("booked", reason=REASON, patient_id=PATIENT)
    finally:
        root.handlers, level, sys.excepthook, threading.excepthook = saved
        root.setLevel(level)
        structlog.reset_defaults()
    assert_clean(stream.getvalue())
    assert f"patient_id={PATIENT}" in stream.getvalue()


def test_unknown_objects_render_as_their_type_not_their_repr() -> None:
    class Row:
        def __repr__(self) -> str:
            return NAME

    assert redact_value(Row()) == "<Row>"


def test_log_settings_default_by_mode_and_refuse_unknown_values() -> None:
    assert LogSettings.from_env({"SLOTWISE_MODE": "dev"}).format == "console"
    assert LogSettings.from_env({"SLOTWISE_MODE": "production"}).format == "json"
    assert LogSettings.from_env({"SLOTWISE_LOG_FORMAT": "console"}).format == "console"
    with pytest.raises(LogSettingsError):
        LogSettings.from_env({"SLOTWISE_LOG_FORMAT": "xml"})


def test_the_access_log_names_the_route_not_the_query_and_shares_the_correlation_id(
    captured: io.StringIO,
) -> None:
    seen: dict[str, Any] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen["headers"] = dict(scope["headers"])
        scope["path_template"] = "/v1/search/notes"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/v1/search/notes",
        "query_string": f"q={NAME}".encode(),
        "headers": [(b"host", b"api")],
    }
    asyncio.run(AccessLog(app)(scope, receive, send))

    [line] = lines(captured)
    assert_clean(captured.getvalue())
    assert (line["method"], line["route"], line["status"]) == ("GET", "/v1/search/notes", 200)
    correlation = line["correlation_id"].encode()
    assert seen["headers"][b"x-correlation-id"] == correlation  # the command context reads it
    assert (b"x-correlation-id", correlation) in sent[0]["headers"]
