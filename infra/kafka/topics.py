"""The topics the relay writes and the projection workers read, created when missing."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

log = logging.getLogger("slotwise.kafka")

PARTITIONS = 6


def ensure_topics(bootstrap: str, topics: Sequence[str], partitions: int = PARTITIONS) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = set(admin.list_topics(timeout=10).topics)
    missing = [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in topics]
    missing = [t for t in missing if t.topic not in existing]
    if not missing:
        return
    for topic, future in admin.create_topics(missing).items():
        try:
            future.result(timeout=10)
        except Exception as error:
            if "already exists" not in str(error).lower():
                raise
            log.debug("topic %s already exists", topic)
