"""A patient's contact preferences and consent (issue 10), event-sourced beside the Patient:
which channels each category of message may use, quiet hours, language, consent per channel
(marketing has its own, explicit, consent), and the push subscriptions of their devices.

A patient with no preferences recorded gets the defaults: SMS, email and in-app for
appointments and reminders, email and in-app for payments, nothing for marketing; consent per
channel follows the consent given at registration until one is recorded here. Opt-outs from a
provider (an inbound STOP, Twilio error 21610) are consent withdrawals with their source."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actor import EventMeta
from domain.errors import NotFoundError, ValidationError
from domain.notification import (
    DEFAULT_CHANNELS,
    OUTBOUND,
    Category,
    Channel,
    QuietHours,
)
from domain.personal import PersonalData

LANGUAGES = ("en", "es")
CONSENT_SOURCES = ("patient", "staff", "inbound_stop", "inbound_start", "provider_opt_out")
MAX_DEVICES = 20


def preferences_id(patient_id: UUID) -> UUID:
    return uuid5(NAMESPACE_URL, f"slotwise:contact-preferences:{patient_id}")


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValidationError(f"language must be one of {', '.join(LANGUAGES)}")
    return language


@dataclass(frozen=True)
class Effective:
    """What applies to one patient now: their choices over the defaults."""

    channels: dict[Category, tuple[Channel, ...]]
    consent: dict[Channel, bool]
    marketing_consent: bool
    quiet: QuietHours | None
    language: str | None
    opted_out: frozenset[Channel] = frozenset()

    def allowed(self, category: Category) -> tuple[Channel, ...]:
        """The channels a message of `category` goes to: chosen, and consented to."""
        if category is Category.MARKETING:
            if not self.marketing_consent:
                return ()
            chosen = self.channels.get(category, ())
        else:
            # The in-app copy is always written, whatever else was chosen.
            chosen = (*self.channels.get(category, ()), Channel.IN_APP)
        return tuple(
            c for c in dict.fromkeys(chosen) if c is Channel.IN_APP or self.consent.get(c, False)
        )


def defaults(registration_consent: bool) -> Effective:
    return Effective(
        dict(DEFAULT_CHANNELS),
        dict.fromkeys(OUTBOUND, registration_consent),
        False,
        None,
        None,
    )


class ContactPreferences(Aggregate):
    class Started(Aggregate.Created):
        patient_id: UUID
        meta: EventMeta

    @staticmethod
    def create_id(patient_id: UUID, **_: object) -> UUID:
        return preferences_id(patient_id)

    @event(Started)
    def __init__(self, patient_id: UUID, meta: EventMeta) -> None:
        self.patient_id = patient_id
        self.channels: dict[str, list[str]] = {}
        self.consent: dict[str, bool] = {}
        self.marketing_consent = False
        self.quiet: tuple[str, str] | None = None
        self.language: str | None = None
        self.devices: dict[UUID, PersonalData | dict[str, Any]] = {}
        self.opted_out: set[str] = set()  # channels withdrawn through the provider (STOP)

    def effective(self, registration_consent: bool) -> Effective:
        base = defaults(registration_consent)
        channels = dict(base.channels)
        for name, chosen in self.channels.items():
            channels[Category(name)] = tuple(Channel(c) for c in chosen)
        consent = dict(base.consent)
        consent.update({Channel(c): given for c, given in self.consent.items()})
        quiet = None if self.quiet is None else QuietHours.parse(*self.quiet)
        opted_out = frozenset(Channel(c) for c in self.opted_out)
        return Effective(channels, consent, self.marketing_consent, quiet, self.language, opted_out)

    def choose_channels(self, category: str, channels: list[str], meta: EventMeta) -> None:
        Category(category)  # validated by the command's schema; a bad one is a bug
        chosen = list(dict.fromkeys(Channel(c).value for c in channels))
        if self.channels.get(category) != chosen:
            self._channels_chosen(category, chosen, meta)

    class ChannelsChosen(Aggregate.Event):
        category: str
        channels: list[str]
        meta: EventMeta

    @event(ChannelsChosen)
    def _channels_chosen(self, category: str, channels: list[str], meta: EventMeta) -> None:
        self.channels[category] = channels

    def set_quiet_hours(self, start: str | None, end: str | None, meta: EventMeta) -> None:
        if (start is None) != (end is None):
            raise ValidationError("quiet_hours needs both start and end, or neither")
        if start is not None and end is not None:
            QuietHours.parse(start, end)
        wanted = None if start is None or end is None else (start, end)
        if wanted != self.quiet:
            self._quiet_hours_set(start, end, meta)

    class QuietHoursSet(Aggregate.Event):
        start: str | None
        end: str | None
        meta: EventMeta

    @event(QuietHoursSet)
    def _quiet_hours_set(self, start: str | None, end: str | None, meta: EventMeta) -> None:
        self.quiet = None if start is None or end is None else (start, end)

    def set_language(self, language: str, meta: EventMeta) -> None:
        if check_language(language) != self.language:
            self._language_set(language, meta)

    class LanguageSet(Aggregate.Event):
        language: str
        meta: EventMeta

    @event(LanguageSet)
    def _language_set(self, language: str, meta: EventMeta) -> None:
        self.language = language

    def record_consent(self, channel: str, given: bool, source: str, meta: EventMeta) -> bool:
        """Record consent for `channel` ("marketing" for marketing's own); False when it is
        already so (nothing recorded)."""
        if source not in CONSENT_SOURCES:
            raise ValidationError(f"consent source must be one of {', '.join(CONSENT_SOURCES)}")
        current = self.marketing_consent if channel == "marketing" else self.consent.get(channel)
        if channel != "marketing" and Channel(channel) not in OUTBOUND:
            raise ValidationError("consent is recorded for sms, whatsapp, email, push, marketing")
        if current == given:
            return False
        self._consent_recorded(channel, given, source, meta)
        return True

    class ConsentRecorded(Aggregate.Event):
        channel: str  # a channel, or "marketing"
        given: bool
        source: str
        meta: EventMeta

    @event(ConsentRecorded)
    def _consent_recorded(self, channel: str, given: bool, source: str, meta: EventMeta) -> None:
        if channel == "marketing":
            self.marketing_consent = given
        else:
            self.consent[channel] = given
        if given:
            self.opted_out.discard(channel)
        elif source in ("inbound_stop", "provider_opt_out"):
            self.opted_out.add(channel)

    def register_device(self, device_id: UUID, subscription: PersonalData, meta: EventMeta) -> None:
        if device_id not in self.devices and len(self.devices) >= MAX_DEVICES:
            raise ValidationError(f"at most {MAX_DEVICES} devices may receive push messages")
        self._device_registered(device_id, subscription, meta)

    class DeviceRegistered(Aggregate.Event):
        device_id: UUID
        subscription: PersonalData | dict[str, Any]  # endpoint, p256dh, auth
        meta: EventMeta

    @event(DeviceRegistered)
    def _device_registered(
        self, device_id: UUID, subscription: PersonalData | dict[str, Any], meta: EventMeta
    ) -> None:
        self.devices[device_id] = subscription

    def remove_device(self, device_id: UUID, reason: str, meta: EventMeta) -> bool:
        if device_id not in self.devices:
            return False
        self._device_removed(device_id, reason, meta)
        return True

    def require_device(self, device_id: UUID) -> None:
        if device_id not in self.devices:
            raise NotFoundError(f"device {device_id} not found")

    class DeviceRemoved(Aggregate.Event):
        device_id: UUID
        reason: str  # removed, gone (the push service answered 404/410)
        meta: EventMeta

    @event(DeviceRemoved)
    def _device_removed(self, device_id: UUID, reason: str, meta: EventMeta) -> None:
        self.devices.pop(device_id, None)
