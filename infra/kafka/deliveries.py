"""The projection workers' consumer-group reader. Offsets live in PostgreSQL beside the rows,
not in Kafka."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

log = logging.getLogger("slotwise.kafka")


def _log_truncated(topic: str, partition: int) -> None:
    log.warning(
        "%s[%d] is behind our stored offset: the topic was lost or truncated; "
        "re-reading it and catching up from the event store",
        topic,
        partition,
    )


@dataclass(frozen=True)
class Delivery:
    topic: str
    partition: int
    offset: int
    value: bytes


class KafkaDeliveries:
    """A consumer in group `group_id`. On every assignment it starts each partition at the
    offset the projection stored; an offset past the partition's end means the topic was lost
    or truncated, so it starts over from the beginning (duplicates are ignored downstream)."""

    def __init__(
        self,
        bootstrap: str,
        group_id: str,
        topics: Sequence[str],
        stored_offsets: Callable[[], dict[tuple[str, int], int]],
        on_truncated: Callable[[str, int], None] | None = None,
        session_timeout_ms: int = 6000,
        rejoin_after: float = 10.0,
    ) -> None:
        self._stored_offsets = stored_offsets
        self._on_truncated = on_truncated or _log_truncated
        self._config = {
            "bootstrap.servers": bootstrap,
            "group.id": group_id,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "fetch.wait.max.ms": 5,
            "session.timeout.ms": session_timeout_ms,
            "heartbeat.interval.ms": max(session_timeout_ms // 6, 100),
            "isolation.level": "read_uncommitted",
        }
        self._topics = list(topics)
        self._rejoin_after = rejoin_after
        self._join()

    def _join(self) -> None:
        self._assigned = False
        self._joined_at = time.monotonic()
        self._consumer = Consumer(self._config)
        self._consumer.subscribe(self._topics, on_assign=self._assign, on_revoke=self._revoke)

    def _revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._assigned = False
        self._joined_at = time.monotonic()

    def _rejoin_if_unassigned(self) -> None:
        # A member that joins right after every earlier member left may be given nothing by
        # some brokers (seen with Tansu); it would then wait forever. Join again instead.
        if self._assigned or time.monotonic() - self._joined_at < self._rejoin_after:
            return
        log.warning("no partitions assigned after %.0fs; rejoining the group", self._rejoin_after)
        self._rejoin()

    def _assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        stored = self._stored_offsets()
        for tp in partitions:
            offset = stored.get((tp.topic, tp.partition))
            if offset is None:
                tp.offset = OFFSET_BEGINNING
                continue
            low, high = consumer.get_watermark_offsets(tp, timeout=5, cached=False)
            if offset > high:
                self._on_truncated(tp.topic, tp.partition)
                tp.offset = OFFSET_BEGINNING
            else:
                tp.offset = max(offset, low)
        consumer.assign(partitions)
        self._assigned = bool(partitions) or self._assigned

    def rewind(self) -> None:
        """Fetch every assigned partition again from the offset the projection stored: after
        a batch whose transaction rolled back, the consumer's own position is past it. Without
        an assignment (one interrupted by the outage), join the group afresh."""
        assignment = self._consumer.assignment() if self._assigned else []
        if not assignment:
            self._rejoin()
            return
        stored = self._stored_offsets()
        try:
            for tp in assignment:
                offset = stored.get((tp.topic, tp.partition))
                tp.offset = OFFSET_BEGINNING if offset is None else offset
                self._consumer.seek(tp)
        except KafkaException:
            log.warning("could not seek to the stored offsets; rejoining the group", exc_info=True)
            self._rejoin()

    def _rejoin(self) -> None:
        self._consumer.close()
        self._join()

    def poll(self, max_messages: int, timeout: float) -> list[Delivery]:
        """Wait up to `timeout` for the first message, then take what is already there."""
        first = self._consumer.poll(timeout)
        if first is None:
            self._rejoin_if_unassigned()
            return []
        messages: list[Any] = [first, *self._consumer.consume(max_messages - 1, 0)]
        out = []
        for m in messages:
            error = m.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    continue
                log.warning("kafka consumer: %s", error)
                continue
            out.append(Delivery(m.topic(), m.partition(), m.offset(), m.value()))
        return out

    def close(self) -> None:
        self._consumer.close()
