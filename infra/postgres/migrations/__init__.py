"""Read-model schema, applied by yoyo-migrations from the versioned SQL files beside this."""

from __future__ import annotations

from pathlib import Path

from psycopg.conninfo import conninfo_to_dict
from yoyo import get_backend, read_migrations

MIGRATIONS_DIR = Path(__file__).parent


def yoyo_url(conninfo: str) -> str:
    params = conninfo_to_dict(conninfo)
    user = params.get("user") or "postgres"
    password = params.get("password")
    auth = f"{user}:{password}" if password else str(user)
    host = params.get("host") or "127.0.0.1"
    port = params.get("port") or 5432
    return f"postgresql+psycopg://{auth}@{host}:{port}/{params.get('dbname')}"


def apply_migrations(conninfo: str) -> list[str]:
    """Apply pending migrations (serialised by yoyo's lock); return the ids applied."""
    backend = get_backend(yoyo_url(conninfo))
    try:
        migrations = read_migrations(str(MIGRATIONS_DIR))
        with backend.lock():
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
        return [m.id for m in pending]
    finally:
        backend.connection.close()
