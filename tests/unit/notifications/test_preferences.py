"""Contact preferences and consent: defaults that send reminders, the patient edits their own,
staff anyone's, to anyone else the patient does not exist; marketing needs its own consent."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from commands.directory.messages import PatientDetails, RegisterPatient
from commands.notifications.messages import (
    QuietHoursBody,
    RecordOptOut,
    RegisterPushDevice,
    RemovePushDevice,
    UpdateContactPreferences,
)
from commands.scheduling import Scheduling
from domain.actor import Role
from domain.contact_preferences import ContactPreferences, preferences_id
from domain.errors import ForbiddenError, NotFoundError
from domain.notification import Category, Channel, QuietHours
from tests.builders import (
    all_events,
    as_,
    as_patient,
    as_staff,
    as_system,
    in_memory_app,
    names,
    patient,
    provider,
)

ENDPOINT = "https://push.example/sub/abc"


@pytest.fixture
def app() -> Scheduling:
    return in_memory_app()


def consenting_patient(app: Scheduling, consent: bool = True) -> UUID:
    patient_id = uuid4()
    details = PatientDetails(
        name="Grace", time_zone="Europe/Berlin", phone="+4930123456", notification_consent=consent
    )
    app.register_patient(RegisterPatient(details=details), as_patient(patient_id))
    return patient_id


def test_defaults_send_reminders_by_sms_email_and_in_app_when_consent_was_given(
    app: Scheduling,
) -> None:
    patient_id = consenting_patient(app)
    effective = app.contact_preferences(patient_id, patient(patient_id))
    assert effective.allowed(Category.REMINDERS) == (Channel.SMS, Channel.EMAIL, Channel.IN_APP)
    assert effective.allowed(Category.MARKETING) == ()


def test_without_consent_only_in_app_is_allowed(app: Scheduling) -> None:
    patient_id = consenting_patient(app, consent=False)
    effective = app.contact_preferences(patient_id, as_staff().actor)
    assert effective.allowed(Category.APPOINTMENTS) == (Channel.IN_APP,)


def test_the_patient_changes_their_own_and_every_change_is_an_audited_event(
    app: Scheduling,
) -> None:
    patient_id = consenting_patient(app)
    command = UpdateContactPreferences(
        patient_id=patient_id,
        channels={"reminders": ["whatsapp", "in_app"]},
        quiet_hours=QuietHoursBody(start="22:00", end="07:00"),
        language="es",
        consent={"whatsapp": True},
    )
    app.update_contact_preferences(command, as_patient(patient_id))
    effective = app.contact_preferences(patient_id, patient(patient_id))
    assert effective.allowed(Category.REMINDERS) == (Channel.WHATSAPP, Channel.IN_APP)
    assert effective.quiet == QuietHours.parse("22:00", "07:00")
    assert effective.language == "es"
    prefs = app.load(ContactPreferences, preferences_id(patient_id), "p")
    events = names(all_events(app), prefs.id)
    assert events == [
        "ContactPreferences.Started",
        "ContactPreferences.ChannelsChosen",
        "ContactPreferences.QuietHoursSet",
        "ContactPreferences.LanguageSet",
        "ContactPreferences.ConsentRecorded",
    ]
    consent = next(e for e in all_events(app) if type(e).__name__ == "ConsentRecorded")
    assert (consent.meta.actor_id, consent.meta.actor_role, consent.source) == (
        patient_id,
        "patient",
        "patient",
    )


def test_marketing_needs_its_own_explicit_consent(app: Scheduling) -> None:
    patient_id = consenting_patient(app)
    channels = UpdateContactPreferences(
        patient_id=patient_id,
        channels={"marketing": ["email"]},
    )
    app.update_contact_preferences(channels, as_staff())
    effective = app.contact_preferences(patient_id, as_staff().actor)
    assert effective.allowed(Category.MARKETING) == ()
    consent = UpdateContactPreferences(
        patient_id=patient_id,
        consent={"marketing": True},
    )
    app.update_contact_preferences(consent, as_staff())
    effective = app.contact_preferences(patient_id, as_staff().actor)
    assert effective.allowed(Category.MARKETING) == (Channel.EMAIL,)


def test_someone_elses_preferences_do_not_exist_for_a_patient_or_provider(
    app: Scheduling,
) -> None:
    patient_id = consenting_patient(app)
    command = UpdateContactPreferences(patient_id=patient_id, language="es")
    for actor in (patient(uuid4()), provider(uuid4())):
        with pytest.raises((NotFoundError, ForbiddenError)):
            app.update_contact_preferences(command, as_(actor))
        with pytest.raises(NotFoundError):
            app.contact_preferences(patient_id, actor)


def test_a_provider_opt_out_is_recorded_by_the_system_only(app: Scheduling) -> None:
    patient_id = consenting_patient(app)
    stop = RecordOptOut(
        patient_id=patient_id,
        channel="sms",
        given=False,
        source="inbound_stop",
    )
    with pytest.raises(ForbiddenError):
        app.record_opt_out(stop, as_patient(patient_id))
    app.record_opt_out(stop, as_system())
    effective = app.contact_preferences(patient_id, as_staff().actor)
    assert Channel.SMS not in effective.allowed(Category.REMINDERS)
    assert as_system().actor.role is Role.SYSTEM


def test_a_device_registers_once_per_endpoint_and_can_be_removed(app: Scheduling) -> None:
    patient_id = consenting_patient(app)
    register = RegisterPushDevice(
        patient_id=patient_id,
        endpoint=ENDPOINT,
        p256dh="BKey",
        auth="auth",
    )
    first = app.register_push_device(register, as_patient(patient_id))
    again = app.register_push_device(register, as_patient(patient_id))
    assert first.ids["device_id"] == again.ids["device_id"]
    devices = app.push_devices(patient_id)
    assert [d.endpoint for d in devices.values()] == [ENDPOINT]
    remove = RemovePushDevice(
        patient_id=patient_id,
        device_id=first.ids["device_id"],
    )
    app.remove_push_device(remove, as_patient(patient_id))
    assert app.push_devices(patient_id) == {}
    with pytest.raises(NotFoundError):
        app.remove_push_device(remove, as_patient(patient_id))
