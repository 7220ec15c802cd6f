"""Which Kafka client errors are a broker outage to wait out (a restart, a lost connection,
a request that timed out): every error the client raises that it does not call fatal. A fatal
one (a fenced or misconfigured idempotent producer) needs a new client, not a wait."""

from __future__ import annotations

from confluent_kafka import KafkaError, KafkaException


def is_transient(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, KafkaException):
            cause = seen.args[0] if seen.args else None
            return not (isinstance(cause, KafkaError) and cause.fatal())
        seen = seen.__cause__
    return False
