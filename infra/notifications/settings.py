"""Notification settings (issue 10), read once from the environment with the rest."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class NotificationSettings:
    """`channels`: `recording` (dev and test default: every message goes to the outbox table)
    or `real` (the Twilio, SMTP and web push adapters). `public_base_url`: the address Twilio
    signs webhooks against (the service sits behind a proxy). `redis_url`: the broker of the
    send jobs (None: 127.0.0.1:6379 if it answers, else a local server)."""

    channels: str = "recording"
    redis_url: str | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    twilio_auth_token: str | None = field(default=None, repr=False)
    clinic_name: str = "Slotwise clinic"
    patient_app_url: str = "http://127.0.0.1:8000"
    max_retries: int = 5
    min_backoff_ms: int = 1000
    max_backoff_ms: int = 60_000
    max_age_ms: int = 6 * 3600 * 1000  # a job older than this is dropped (deadlines are sooner)
    bulk_notices_per_hour: int = 5  # per provider
    redis_namespace: str = "slotwise"  # dramatiq's keys in Redis
    lease_seconds: float = 30.0  # a send job holds its delivery this long
    stuck_seconds: float = 120.0  # a row handed out this long ago is handed out again

    @classmethod
    def from_env(cls, env: Mapping[str, str], mode: str) -> NotificationSettings:
        default_channels = "recording" if mode in ("dev", "test") else "real"
        channels = env.get("SLOTWISE_NOTIFICATION_CHANNELS") or default_channels
        if channels not in ("recording", "real"):
            from infra.settings import SettingsError

            raise SettingsError("SLOTWISE_NOTIFICATION_CHANNELS must be recording or real")
        return cls(
            channels=channels,
            redis_url=env.get("REDIS_URL") or None,
            public_base_url=env.get("SLOTWISE_PUBLIC_BASE_URL", cls.public_base_url).rstrip("/"),
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
            clinic_name=env.get("SLOTWISE_CLINIC_NAME", cls.clinic_name),
            patient_app_url=env.get("SLOTWISE_PATIENT_APP_URL", cls.patient_app_url),
            max_retries=int(env.get("SLOTWISE_NOTIFICATION_MAX_RETRIES", "5")),
            bulk_notices_per_hour=int(env.get("SLOTWISE_BULK_NOTICES_PER_HOUR", "5")),
            redis_namespace=env.get("SLOTWISE_REDIS_NAMESPACE", "slotwise"),
            lease_seconds=float(env.get("SLOTWISE_NOTIFICATION_LEASE_SECONDS", "30")),
            stuck_seconds=float(env.get("SLOTWISE_NOTIFICATION_STUCK_SECONDS", "120")),
        )
