"""The relay's idempotent confluent-kafka producer."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from confluent_kafka import KafkaError, Message, Producer

from infra.kafka.topics import ensure_topics

log = logging.getLogger("slotwise.kafka")


class KafkaPublisher:
    """Idempotent, acks=all. `flush` reports every failed delivery since the last flush."""

    def __init__(self, bootstrap: str, topics: Sequence[str] = ()) -> None:
        self._bootstrap = bootstrap
        self._topics = tuple(topics)
        self._failures: list[str] = []
        self._fatal = False
        self._producer = self._create()

    def _create(self) -> Producer:
        if self._topics:
            # A broker that lost its data would otherwise auto-create them with its defaults.
            ensure_topics(self._bootstrap, self._topics)
        return Producer(
            {
                "bootstrap.servers": self._bootstrap,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 2,
                "message.timeout.ms": 10000,
                "error_cb": self._on_error,
            }
        )

    def _on_error(self, error: KafkaError) -> None:
        if error.fatal():
            self._fatal = True
        log.warning("kafka producer: %s", error)

    def _on_delivery(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self._failures.append(f"{message.topic()}: {error}")

    def publish(
        self, topic: str, key: bytes, value: bytes, headers: list[tuple[str, str | bytes | None]]
    ) -> None:
        while True:
            try:
                self._producer.produce(
                    topic, value=value, key=key, headers=headers, on_delivery=self._on_delivery
                )
                return
            except BufferError:
                self._producer.poll(0.1)

    def flush(self, timeout: float) -> list[str]:
        remaining = self._producer.flush(timeout)
        failures, self._failures = self._failures, []
        if remaining:
            failures.append(f"{remaining} message(s) not delivered within {timeout}s")
        if self._fatal:
            failures.append("fatal producer error")
        return failures

    def recreate(self) -> None:
        """Start over with a fresh producer (after a fatal error); unflushed sends are dropped,
        and the relay resends from its last recorded position."""
        self._producer = self._create()
        self._fatal = False
        self._failures = []
