"""Where a PostgreSQL server is, and the databases on it: connect to a URL or probe a
location, name a database on it, create and drop databases."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import psycopg
from psycopg import sql
from psycopg.abc import ConnDict, ConnParam
from psycopg.conninfo import conninfo_to_dict

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5432
_CORE_KEYS = frozenset({"host", "port", "user", "password", "dbname"})


class PostgresUnavailableError(RuntimeError):
    """No PostgreSQL server could be found or started."""


@dataclass(frozen=True)
class PostgresLocation:
    conninfo: str
    host: str
    port: int
    user: str
    password: str | None
    dbname: str
    embedded: bool


def create_database(admin_conninfo: str, name: str) -> None:
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(admin_conninfo: str, name: str) -> None:
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def conninfo_for(location: PostgresLocation, dbname: str) -> str:
    """The location's URL with another database name; other parameters are kept."""
    params = conninfo_to_dict(location.conninfo)
    params["dbname"] = dbname
    return _url(params)


def at_url(database_url: str) -> PostgresLocation:
    try:
        params = conninfo_to_dict(database_url)
    except psycopg.ProgrammingError as err:
        raise PostgresUnavailableError(
            f"DATABASE_URL is not a valid libpq conninfo ({err}); use a URL such as "
            "postgresql://user:password@host:5432/dbname"
        ) from err
    try:
        found = _connect(params, timeout=3, embedded=False)
    except psycopg.OperationalError as err:
        where = f"{params.get('host', 'the default socket')}:{params.get('port', DEFAULT_PORT)}"
        raise PostgresUnavailableError(
            f"PostgreSQL at {where} did not answer ({first_line(err)}). Start that server or fix "
            "DATABASE_URL; unset DATABASE_URL to use a server on 127.0.0.1:5432 or an embedded one."
        ) from err
    return found


def probe(
    params: Mapping[str, ConnParam], *, timeout: int, embedded: bool
) -> PostgresLocation | None:
    try:
        return _connect(params, timeout=timeout, embedded=embedded)
    except psycopg.OperationalError:
        return None


def _connect(params: Mapping[str, ConnParam], *, timeout: int, embedded: bool) -> PostgresLocation:
    with psycopg.connect(_url(params), connect_timeout=timeout) as conn:
        conn.execute("SELECT 1")
        info = conn.info
        # Take host, port and user from the live connection: they fill libpq's defaults in.
        resolved: ConnDict = {k: v for k, v in params.items() if k not in _CORE_KEYS}
        resolved |= {"host": info.host, "port": info.port, "user": info.user}
        resolved |= {"password": info.password or None, "dbname": info.dbname}
        return PostgresLocation(
            conninfo=_url(resolved),
            host=info.host,
            port=info.port,
            user=info.user,
            password=info.password or None,
            dbname=info.dbname,
            embedded=embedded,
        )


def _url(params: Mapping[str, ConnParam]) -> str:
    user = quote(str(params.get("user") or ""), safe="")
    password = params.get("password")
    auth = f"{user}:{quote(str(password), safe='')}" if password else user
    host = quote(str(params.get("host") or ""), safe="")
    port = params.get("port")
    netloc = f"{auth}@{host}" if auth else host
    if port:
        netloc += f":{port}"
    dbname = quote(str(params.get("dbname") or ""), safe="")
    extra = {k: str(v) for k, v in params.items() if k not in _CORE_KEYS and v is not None}
    query = f"?{urlencode(extra)}" if extra else ""
    return f"postgresql://{netloc}/{dbname}{query}"


def first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
