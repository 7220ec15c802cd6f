"""The operator's side of `projection_dead_letters`: list and show them, skip one or ask for a
retry, each recorded in `projection_dead_letter_actions` in the same transaction."""

from __future__ import annotations

from typing import Any, Literal

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from projections.delivery import (
    BLOCKING,
    LetterAction,
    LetterDetail,
    LetterNotBlockingError,
    LetterSummary,
    UnknownLetterError,
)

SUMMARY = (
    "SELECT id, projection, event_id, position, topic, event_type, state, error AS reason, "
    "attempts, failed_at FROM projection_dead_letters"
)


class PostgresDeadLetters:
    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self._pool = pool

    def list(self, projection: str | None = None) -> list[LetterSummary]:
        with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(
                f"{SUMMARY} WHERE %(p)s::text IS NULL OR projection = %(p)s ORDER BY id",
                {"p": projection},
            )
            return [LetterSummary(**row) for row in cur.fetchall()]

    def show(self, letter_id: int) -> LetterDetail:
        with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(
                f"SELECT aggregate_id, aggregate_version, {SUMMARY.removeprefix('SELECT ')} "
                "WHERE id = %s",
                (letter_id,),
            )
            row = cur.fetchone()
            if row is None:
                raise UnknownLetterError(f"no dead letter {letter_id}")
            aggregate_id, version = row.pop("aggregate_id"), row.pop("aggregate_version")
            cur.execute(
                "SELECT action, operator, reason, acted_at FROM projection_dead_letter_actions "
                "WHERE dead_letter_id = %s ORDER BY id",
                (letter_id,),
            )
            actions = [LetterAction(**a) for a in cur.fetchall()]
        return LetterDetail(LetterSummary(**row), aggregate_id, version, actions)

    def act(
        self, letter_id: int, action: Literal["skip", "retry"], operator: str, reason: str
    ) -> LetterSummary:
        """Skip the letter or ask its worker to retry it; the worker, waiting on the letter,
        sees the new state and goes on."""
        state = "skipped" if action == "skip" else "retry"
        with (
            self._pool.connection() as conn,
            conn.transaction(),
            conn.cursor(row_factory=dict_row) as cur,
        ):
            cur.execute(
                "SELECT state FROM projection_dead_letters WHERE id = %s FOR UPDATE", (letter_id,)
            )
            found = cur.fetchone()
            if found is None:
                raise UnknownLetterError(f"no dead letter {letter_id}")
            if found["state"] not in BLOCKING:
                raise LetterNotBlockingError(f"dead letter {letter_id} is {found['state']}")
            cur.execute(
                "UPDATE projection_dead_letters SET state = %s, skipped = (%s = 'skipped') "
                "WHERE id = %s",
                (state, state, letter_id),
            )
            cur.execute(
                "INSERT INTO projection_dead_letter_actions (dead_letter_id, projection, "
                "event_id, action, operator, reason) SELECT id, projection, event_id, %s, %s, %s "
                "FROM projection_dead_letters WHERE id = %s",
                (action, operator, reason, letter_id),
            )
            cur.execute(f"{SUMMARY} WHERE id = %s", (letter_id,))
            row = cur.fetchone()
        return LetterSummary(**(row or {}))
