"""Settings: one frozen struct, built once from the environment in an entry point."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from domain.waitlist_rules import OfferTiming
from infra.notifications.settings import NotificationSettings
from infra.waitlist_settings import WaitlistSettingsError, offer_timing

DEV_SIGNING_KEY = "slotwise-dev-only-signing-key-change-me-0123456789"
# The key-encryption key used when SLOTWISE_KEK is unset in dev and test mode; refused otherwise.
DEV_KEK = hashlib.sha256(b"slotwise-dev-only-key-encryption-key").digest()
KEK_BYTES = 32
# The development checkpoint-signing key's material (base64 of 0x01 || seed), refused outside
# dev and test mode; infra/crypto/note.py derives the same key from the same seed.
DEV_AUDIT_KEY = base64.b64encode(
    b"\x01" + hashlib.sha256(b"slotwise-dev-only-audit-signing-key").digest()
).decode()
SearchBackendName = Literal["postgres", "opensearch"]
SEARCH_BACKENDS: tuple[SearchBackendName, ...] = ("postgres", "opensearch")


def redacted(url: str) -> str:
    """`url` without credentials, for logs."""
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


class SettingsError(RuntimeError):
    """The environment does not describe a runnable configuration."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None


ROLE_NAMES = ("patient", "provider", "staff", "auditor", "analyst", "system")


def _role_counts(env: Mapping[str, str], name: str) -> tuple[tuple[str, int], ...]:
    """`role=N,role=N` (e.g. `staff=200,provider=80`): a whole number of at least 0 per role."""
    found: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in env.get(name, "").split(","))):
        role, _, raw = item.partition("=")
        role = role.strip()
        if role not in ROLE_NAMES or not raw.strip().isdigit():
            msg = (
                f"{name} must be role=N pairs separated by commas (roles: {', '.join(ROLE_NAMES)})"
            )
            raise SettingsError(msg)
        found[role] = int(raw)
    return tuple(found.items())


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = env.get(name) or default
    if value not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _search_backend(env: Mapping[str, str]) -> SearchBackendName:
    chosen = _choice(env, "SEARCH_BACKEND", SEARCH_BACKENDS, "postgres")
    backend = next(name for name in SEARCH_BACKENDS if name == chosen)
    if backend == "opensearch" and not env.get("OPENSEARCH_URL"):
        raise SettingsError("SEARCH_BACKEND=opensearch needs OPENSEARCH_URL (http://host:9200)")
    return backend


def _kek_bytes(name: str, raw: str) -> bytes:
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise SettingsError(f"{name} must be base64") from None
    if len(key) != KEK_BYTES:
        raise SettingsError(f"{name} must be {KEK_BYTES} random bytes in base64")
    return key


def _keks(
    env: Mapping[str, str], mode: str
) -> tuple[bytes | None, int, tuple[tuple[int, bytes], ...]]:
    """The current KEK (None when unset outside dev/test: whatever needs it refuses to start),
    its version, and the retired ones (`version:base64,...`) a rotation still has to re-wrap."""
    raw = env.get("SLOTWISE_KEK", "")
    kek = _kek_bytes("SLOTWISE_KEK", raw) if raw else None
    if kek is None and mode in ("dev", "test"):
        kek = DEV_KEK
    if kek == DEV_KEK and mode not in ("dev", "test"):
        raise SettingsError("SLOTWISE_KEK is the development key: set a random one of its own")
    version = _int(env, "SLOTWISE_KEK_VERSION", 1)
    retired: list[tuple[int, bytes]] = []
    for item in filter(None, env.get("SLOTWISE_KEK_RETIRED", "").split(",")):
        number, sep, encoded = item.strip().partition(":")
        if not sep or not number.isdigit():
            raise SettingsError("SLOTWISE_KEK_RETIRED is a list of version:base64 pairs")
        retired.append((int(number), _kek_bytes("SLOTWISE_KEK_RETIRED", encoded)))
    return kek, version, tuple(retired)


def _name(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name) or default
    if "+" in value or any(c.isspace() for c in value):
        raise SettingsError(f"{name} must have no spaces and no '+' (it names a signing key)")
    return value


def _audit_signing_key(env: Mapping[str, str], mode: str) -> str | None:
    """The checkpoint signing key (a C2SP signer key). None when unset: dev and test mode then
    use the well-known development key, and anything else that signs refuses to start."""
    raw = env.get("SLOTWISE_AUDIT_SIGNING_KEY", "").strip()
    if not raw:
        return None
    parts = raw.split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        msg = "SLOTWISE_AUDIT_SIGNING_KEY reads PRIVATE+KEY+<name>+<id>+<key> "
        raise SettingsError(msg + "(`slotwise audit keygen NAME` makes one)")
    if parts[4] == DEV_AUDIT_KEY and mode not in ("dev", "test"):
        raise SettingsError("SLOTWISE_AUDIT_SIGNING_KEY is the development key: make your own")
    return raw


VideoProviderName = Literal["livekit", "twilio", "loopback"]
VIDEO_PROVIDERS: tuple[VideoProviderName, ...] = ("livekit", "twilio", "loopback")


def _minutes(env: Mapping[str, str], name: str, default: int) -> timedelta:
    return timedelta(minutes=_int(env, name, default))


@dataclass(frozen=True)
class VideoSettings:
    """Video visits (issue 13). The provider's credentials are checked when its adapter is built
    (infra/video/wiring.py), so a process that opens no room needs none."""

    provider: VideoProviderName = "loopback"
    lead: timedelta = timedelta(minutes=10)  # a room opens this long before the start
    token_lifetime: timedelta = timedelta(minutes=10)
    join_grace: timedelta = timedelta(minutes=15)  # joins allowed until the end plus this
    empty_timeout: timedelta = timedelta(minutes=20)
    departure_timeout: timedelta = timedelta(minutes=2)
    max_participants: int = 4  # patient, provider, and an interpreter or a caregiver
    livekit_url: str | None = None
    livekit_api_key: str | None = None
    livekit_api_secret: str | None = field(default=None, repr=False)
    twilio_account_sid: str | None = None
    twilio_api_key_sid: str | None = None
    twilio_api_key_secret: str | None = field(default=None, repr=False)
    twilio_auth_token: str | None = field(default=None, repr=False)
    public_base_url: str | None = None  # what Twilio signs its status callbacks' URL with

    @classmethod
    def from_env(cls, env: Mapping[str, str], mode: str) -> VideoSettings:
        default = "loopback" if mode in ("dev", "test") else "livekit"
        chosen = _choice(env, "SLOTWISE_VIDEO_PROVIDER", VIDEO_PROVIDERS, default)
        return cls(
            provider=next(name for name in VIDEO_PROVIDERS if name == chosen),
            lead=_minutes(env, "SLOTWISE_VIDEO_LEAD_MINUTES", 10),
            token_lifetime=_minutes(env, "SLOTWISE_VIDEO_TOKEN_MINUTES", 10),
            join_grace=_minutes(env, "SLOTWISE_VIDEO_JOIN_GRACE_MINUTES", 15),
            empty_timeout=_minutes(env, "SLOTWISE_VIDEO_EMPTY_TIMEOUT_MINUTES", 20),
            departure_timeout=_minutes(env, "SLOTWISE_VIDEO_DEPARTURE_TIMEOUT_MINUTES", 2),
            max_participants=_int(env, "SLOTWISE_VIDEO_MAX_PARTICIPANTS", 4),
            livekit_url=env.get("LIVEKIT_URL") or None,
            livekit_api_key=env.get("LIVEKIT_API_KEY") or None,
            livekit_api_secret=env.get("LIVEKIT_API_SECRET") or None,
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
            twilio_api_key_sid=env.get("TWILIO_API_KEY_SID") or None,
            twilio_api_key_secret=env.get("TWILIO_API_KEY_SECRET") or None,
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
            public_base_url=env.get("SLOTWISE_PUBLIC_BASE_URL") or None,
        )


# --- Notification channels (issue 10): the real adapters' settings. ----------------------------
SmtpSecurity = Literal["starttls", "tls", "plain"]
SMTP_SECURITIES: tuple[SmtpSecurity, ...] = ("starttls", "tls", "plain")
SENDING_CHANNELS = frozenset({"sms", "whatsapp", "email", "push"})
SMTP_PORTS: dict[SmtpSecurity, int] = {"starttls": 587, "tls": 465, "plain": 25}


@dataclass(frozen=True)
class ChannelSettings:
    """What the real SMS/WhatsApp, email and push adapters need. Checked when they are built
    (`infra/bootstrap/channels.py`), so a process that sends nothing needs none of it; the
    Twilio account and the public base URL are the video provider's variables too."""

    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = field(default=None, repr=False)
    twilio_api_key_sid: str | None = None
    twilio_api_key_secret: str | None = field(default=None, repr=False)
    twilio_sms_from: str | None = None  # an E.164 number of the account
    twilio_whatsapp_from: str | None = None  # the WhatsApp sender's E.164 number
    twilio_messaging_service_sid: str | None = None  # MG...: picks senders from its pool
    public_base_url: str | None = None  # where Twilio posts status callbacks
    twilio_api_base_url: str | None = None  # a regional endpoint, or a local stand-in in tests
    smtp_host: str | None = None
    smtp_security: SmtpSecurity = "starttls"
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_ca_file: str | None = None  # a private CA to trust besides the system's
    email_from: str | None = None  # `Clinic <no-reply@clinic.example>`
    vapid_private_key: str | None = field(default=None, repr=False)
    vapid_subject: str | None = None  # mailto: or https: contact for push services
    push_ttl_seconds: int = 4 * 3600
    timeout_seconds: float = 10.0  # per request to Twilio, the SMTP server or a push service
    # The channels the clinic uses (SLOTWISE_CHANNELS_ENABLED, comma-separated); in-app always.
    enabled: frozenset[str] = SENDING_CHANNELS

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ChannelSettings:
        chosen = _choice(env, "SLOTWISE_SMTP_SECURITY", SMTP_SECURITIES, "starttls")
        security = next(name for name in SMTP_SECURITIES if name == chosen)
        return cls(
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
            twilio_api_key_sid=env.get("TWILIO_API_KEY_SID") or None,
            twilio_api_key_secret=env.get("TWILIO_API_KEY_SECRET") or None,
            twilio_sms_from=env.get("TWILIO_SMS_FROM") or None,
            twilio_whatsapp_from=env.get("TWILIO_WHATSAPP_FROM") or None,
            twilio_messaging_service_sid=env.get("TWILIO_MESSAGING_SERVICE_SID") or None,
            public_base_url=env.get("SLOTWISE_PUBLIC_BASE_URL") or None,
            twilio_api_base_url=env.get("TWILIO_API_BASE_URL") or None,
            smtp_host=env.get("SLOTWISE_SMTP_HOST") or None,
            smtp_security=security,
            smtp_port=_int(env, "SLOTWISE_SMTP_PORT", SMTP_PORTS[security]),
            smtp_username=env.get("SLOTWISE_SMTP_USERNAME") or None,
            smtp_password=env.get("SLOTWISE_SMTP_PASSWORD") or None,
            smtp_ca_file=env.get("SLOTWISE_SMTP_CA_FILE") or None,
            email_from=env.get("SLOTWISE_EMAIL_FROM") or None,
            vapid_private_key=env.get("SLOTWISE_VAPID_PRIVATE_KEY") or None,
            vapid_subject=env.get("SLOTWISE_VAPID_SUBJECT") or None,
            push_ttl_seconds=_int(env, "SLOTWISE_PUSH_TTL_SECONDS", 4 * 3600),
            timeout_seconds=float(env.get("SLOTWISE_CHANNEL_TIMEOUT_SECONDS") or "10"),
            enabled=_enabled_channels(env),
        )


def _enabled_channels(env: Mapping[str, str]) -> frozenset[str]:
    text = env.get("SLOTWISE_CHANNELS_ENABLED")
    if text is None or not text.strip():
        return SENDING_CHANNELS
    names = frozenset(name.strip() for name in text.split(",") if name.strip())
    if not names <= SENDING_CHANNELS:
        known = ", ".join(sorted(SENDING_CHANNELS))
        raise SettingsError(f"SLOTWISE_CHANNELS_ENABLED takes a comma-separated list of {known}")
    return names


@dataclass(frozen=True)
class Settings:
    mode: str
    database_url: str | None
    database_name: str
    state_dir: Path
    jwt_secret: str
    jwt_issuer: str
    host: str
    port: int
    pool_size: int
    read_wait_seconds: float
    max_body_bytes: int
    max_page_size: int
    rate_limit_per_minute: int
    hold_minutes: int
    kafka_bootstrap: str | None
    fanout: str
    search_backend: SearchBackendName = "postgres"
    opensearch_url: str | None = None
    kek: bytes | None = field(default=None, repr=False)
    kek_version: int = 1
    retired_keks: tuple[tuple[int, bytes], ...] = field(default=(), repr=False)
    max_read_waiters: int = 256  # reads waiting for a position at once, per API process
    key_cache_seconds: float = 60.0
    audit_origin: str = "slotwise/event-log"
    audit_signing_key: str | None = field(default=None, repr=False)
    audit_trusted_keys: tuple[str, ...] = ()
    audit_checkpoint_every: int = 1000
    audit_checkpoint_seconds: float = 60.0
    audit_checkpoint_dir: Path | None = None  # default: <state dir>/checkpoints
    audit_access_origin: str = "slotwise/access-log"  # the access records' sealed log
    # Anomaly report: an actor reading more distinct patients than this in the period asked.
    audit_distinct_patients: int = 50
    # The same per role where a role's normal differs (staff at a front desk read many).
    audit_distinct_patients_by_role: tuple[tuple[str, int], ...] = ()
    video: VideoSettings = field(default_factory=VideoSettings)
    channels: ChannelSettings = field(default_factory=ChannelSettings)  # notification channels
    waitlist: OfferTiming = field(default_factory=OfferTiming)  # infra/waitlist_settings.py
    # Notifications and reminders (issue 10).
    notifications: NotificationSettings = field(default_factory=NotificationSettings)

    @property
    def dev(self) -> bool:
        return self.mode == "dev"

    @property
    def dev_kek_allowed(self) -> bool:
        return self.mode in ("dev", "test")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        mode = env.get("SLOTWISE_MODE", "production")
        if mode not in ("dev", "test", "production"):
            raise SettingsError("SLOTWISE_MODE must be dev, test or production")
        secret = env.get("SLOTWISE_JWT_SECRET", "")
        if not secret:
            if mode == "production":
                msg = (
                    "SLOTWISE_JWT_SECRET is not set: set it to a random string of 32+ bytes, "
                    "or run with SLOTWISE_MODE=dev to use the development key"
                )
                raise SettingsError(msg)
            secret = DEV_SIGNING_KEY
        if mode == "production" and (secret == DEV_SIGNING_KEY or len(secret) < 32):
            raise SettingsError("SLOTWISE_JWT_SECRET must be 32+ bytes and not the dev key")
        kek, kek_version, retired_keks = _keks(env, mode)
        return cls(
            mode=mode,
            database_url=env.get("DATABASE_URL") or None,
            database_name=env.get("SLOTWISE_DATABASE", "slotwise"),
            state_dir=Path(env.get("SLOTWISE_STATE_DIR", ".state")).resolve(),
            jwt_secret=secret,
            jwt_issuer=env.get("SLOTWISE_JWT_ISSUER", "slotwise"),
            host=env.get("SLOTWISE_HOST", "127.0.0.1"),
            port=_int(env, "SLOTWISE_PORT", 8000),
            pool_size=_int(env, "SLOTWISE_POOL_SIZE", 10),
            read_wait_seconds=float(env.get("SLOTWISE_READ_WAIT_SECONDS", "5")),
            max_body_bytes=_int(env, "SLOTWISE_MAX_BODY_BYTES", 64 * 1024),
            max_page_size=_int(env, "SLOTWISE_MAX_PAGE_SIZE", 200),
            rate_limit_per_minute=_int(env, "SLOTWISE_RATE_LIMIT_PER_MINUTE", 6000),
            hold_minutes=_int(env, "SLOTWISE_HOLD_MINUTES", 10),
            kafka_bootstrap=env.get("KAFKA_BOOTSTRAP_SERVERS") or None,
            fanout=_choice(env, "SLOTWISE_FANOUT", ("kafka", "direct"), "kafka"),
            search_backend=_search_backend(env),
            opensearch_url=env.get("OPENSEARCH_URL") or None,
            kek=kek,
            kek_version=kek_version,
            retired_keks=retired_keks,
            max_read_waiters=_int(env, "SLOTWISE_MAX_READ_WAITERS", 256),
            key_cache_seconds=float(env.get("SLOTWISE_KEY_CACHE_SECONDS", "60")),
            audit_origin=_name(env, "SLOTWISE_AUDIT_ORIGIN", "slotwise/event-log"),
            audit_signing_key=_audit_signing_key(env, mode),
            audit_trusted_keys=tuple(env.get("SLOTWISE_AUDIT_TRUSTED_KEYS", "").split()),
            audit_checkpoint_every=_int(env, "SLOTWISE_AUDIT_CHECKPOINT_EVERY", 1000),
            audit_checkpoint_seconds=float(env.get("SLOTWISE_AUDIT_CHECKPOINT_SECONDS", "60")),
            audit_checkpoint_dir=Path(env["SLOTWISE_AUDIT_CHECKPOINT_DIR"]).resolve()
            if env.get("SLOTWISE_AUDIT_CHECKPOINT_DIR")
            else None,
            audit_access_origin=_name(env, "SLOTWISE_AUDIT_ACCESS_ORIGIN", "slotwise/access-log"),
            audit_distinct_patients=_int(env, "SLOTWISE_AUDIT_DISTINCT_PATIENTS", 50),
            audit_distinct_patients_by_role=_role_counts(
                env, "SLOTWISE_AUDIT_DISTINCT_PATIENTS_BY_ROLE"
            ),
            video=VideoSettings.from_env(env, mode),
            channels=ChannelSettings.from_env(env),
            waitlist=_waitlist(env),
            notifications=NotificationSettings.from_env(env, mode),
        )


def _waitlist(env: Mapping[str, str]) -> OfferTiming:
    try:
        return offer_timing(env)
    except WaitlistSettingsError as error:
        raise SettingsError(str(error)) from None
