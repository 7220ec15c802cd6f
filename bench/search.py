"""PostgreSQL search: indexing throughput through the SearchIndex port (what a search rebuild
writes through), and a typical provider query through PostgresSearch.providers() beside the
very statements that call issues, captured from it and replayed through plain psycopg with
the same parameters from the same number of threads, in the same run."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

import psycopg
from psycopg.sql import Composable
from psycopg_pool import ConnectionPool

from bench.booking import Run, merged, run_threads
from bench.setup import percentile
from infra.postgres.database import Database
from infra.postgres.search.backend import PostgresSearch
from infra.postgres.search.providers import provider_sql
from infra.postgres.search.writes import SLOT_COLUMNS
from projections.search import FACET_SIZE, GeoPoint, ProviderDocument, ProviderQuery, SlotDocument

PROVIDERS = 5_000
SLOTS = 200_000
PROVIDER_BATCH = 500
SLOT_BATCH = 2_000
PORT_BUDGET_S = 45.0  # slots go through the port until this; any rest is COPYed
THREADS = 4
REQUESTS = 100  # per round
ROUNDS = 2

SYLLABLES: tuple[str, ...] = ("an", "be", "ca", "dor", "el", "fi", "gra", "hol", "is", "ka")
SYLLABLES += ("lin", "mo", "nu", "or", "pe", "ra", "sol", "ta", "ul", "ver", "wen")
SPECIALIZATIONS = (
    "Cardiology",
    "Dermatology",
    "Pediatrics",
    "Neurology",
    "Orthopedics",
    "Psychiatry",
    "Gynecology",
    "Ophthalmology",
    "Family Medicine",
    "Endocrinology",
)
INSURANCES = ("AOK", "TK", "Barmer", "DAK", "IKK", "Private", "Allianz", "HUK")
TOPICS = ("prevention", "chronic care", "sports injuries", "sleep", "allergies", "diabetes")
CITIES = {
    "Berlin": GeoPoint(lat=52.52, lon=13.405),
    "Hamburg": GeoPoint(lat=53.551, lon=9.993),
    "Munich": GeoPoint(lat=48.137, lon=11.575),
    "Cologne": GeoPoint(lat=50.938, lon=6.96),
    "Leipzig": GeoPoint(lat=51.34, lon=12.375),
}
# The requests cycle through these: (text, city, insurance filter).
QUERIES = (
    ("cardiology", "Berlin", "TK"),
    ("pediatrics", "Hamburg", "AOK"),
    ("sleep", "Munich", "Barmer"),
    ("dermatology", "Cologne", "Private"),
)


def _name(rng: random.Random) -> str:
    def word() -> str:
        return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()

    return f"Dr. {word()} {word()}"


def providers(rng: random.Random, count: int = PROVIDERS) -> list[ProviderDocument]:
    out = []
    cities = list(CITIES.items())
    for _ in range(count):
        city, centre = rng.choice(cities)
        specs = rng.sample(SPECIALIZATIONS, rng.randint(1, 2))
        out.append(
            ProviderDocument(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                version=1,
                name=_name(rng),
                specializations=specs,
                bio=f"Experienced in {specs[0].lower()} with a focus on {rng.choice(TOPICS)}.",
                education=f"University of {city}",
                languages=rng.sample(("de", "en", "fr", "tr", "pl"), rng.randint(1, 3)),
                location=GeoPoint(
                    lat=centre.lat + rng.uniform(-0.4, 0.4),
                    lon=centre.lon + rng.uniform(-0.6, 0.6),
                ),
                address=f"{rng.randint(1, 200)} Hauptstraße, {city}",
                insurances=rng.sample(INSURANCES, rng.randint(1, 4)),
                fee_amount=Decimal(rng.randrange(40, 250, 5)),
                fee_currency="EUR",
                rating=None if rng.random() < 0.1 else Decimal(rng.randint(10, 50)) / 10,
                accepting_new_patients=rng.random() < 0.7,
                time_zone="Europe/Berlin",
            )
        )
    return out


def slots(
    rng: random.Random, owners: Sequence[ProviderDocument], now: datetime, count: int = SLOTS
) -> list[Any]:
    """`count` slots spread over the next 30 days, some full, some blocked."""
    start = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    out = []
    for n in range(count):
        at = start + timedelta(minutes=15 * rng.randrange(30 * 24 * 4))
        capacity = 1 if rng.random() < 0.9 else 4
        out.append(
            SlotDocument(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                version=1,
                provider_id=owners[n % len(owners)].id,
                start=at,
                end=at + timedelta(minutes=15),
                appointment_types=["consultation"] if rng.random() < 0.8 else ["follow-up"],
                location=None,
                room=None,
                status="blocked" if rng.random() < 0.05 else "open",
                capacity=capacity,
                free_seats=0 if rng.random() < 0.3 else capacity,
            )
        )
    return out


def _copy_slots(conninfo: str, documents: Sequence[SlotDocument]) -> None:
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        columns = ", ".join(SLOT_COLUMNS)
        with cur.copy(f"COPY sr_slots ({columns}) FROM STDIN") as copy:
            for d in documents:
                row = (d.id, d.version, d.provider_id, d.start, d.end, d.appointment_types)
                copy.write_row((*row, d.location, d.room, d.status, d.capacity, d.free_seats))


def index(db: Database, search: PostgresSearch, now: datetime, scale: float = 1.0) -> list[str]:
    rng = random.Random(20240601)
    provider_docs = providers(rng, int(PROVIDERS * scale))
    slot_docs = slots(rng, provider_docs, now, int(SLOTS * scale))
    began = time.perf_counter()
    for i in range(0, len(provider_docs), PROVIDER_BATCH):
        search.put_providers(provider_docs[i : i + PROVIDER_BATCH])
    provider_s = time.perf_counter() - began
    began = time.perf_counter()
    through_port = 0
    while through_port < len(slot_docs) and time.perf_counter() - began < PORT_BUDGET_S:
        search.put_slots(slot_docs[through_port : through_port + SLOT_BATCH])
        through_port += SLOT_BATCH
    slot_s = time.perf_counter() - began
    rest = slot_docs[through_port:]
    if rest:
        _copy_slots(db.conninfo, rest)
    with psycopg.connect(db.conninfo, autocommit=True) as conn:
        conn.execute("ANALYZE sr_providers, sr_slots")
    how = (
        "all slots through the port"
        if not rest
        else f"{through_port} slots through the port, {len(rest)} by COPY (port too slow)"
    )
    both = (len(provider_docs) + through_port) / (provider_s + slot_s)
    return [
        f"## Search indexing through the SearchIndex port (PostgresSearch, batches of "
        f"{PROVIDER_BATCH} providers / {SLOT_BATCH} slots; {how})",
        f"{'documents':<22} {'count':>7} {'seconds':>8} {'docs/s':>8}",
        f"{'providers':<22} {len(provider_docs):>7} {provider_s:>8.1f} "
        f"{len(provider_docs) / provider_s:>8.0f}",
        f"{'slots':<22} {through_port:>7} {slot_s:>8.1f} {through_port / slot_s:>8.0f}",
        f"{'both (rebuild figure)':<22} {len(provider_docs) + through_port:>7} "
        f"{provider_s + slot_s:>8.1f} {both:>8.0f}",
    ]


def query(text: str, city: str, insurance: str) -> ProviderQuery:
    return ProviderQuery(
        q=text,
        insurances=[insurance],
        accepting_new_patients=True,
        near=CITIES[city],
        radius_km=30,
        sort="distance",
        limit=20,
    )


Statement = tuple[Any, Any]


class _Recording(psycopg.Cursor[Any]):
    """Records every statement (and its parameters) executed through it."""

    log: ClassVar[list[Statement]] = []

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        self.log.append((query, params))
        return super().execute(query, params, **kwargs)


def captured(conninfo: str, now: datetime) -> list[list[Statement]]:
    """The statements PostgresSearch.providers() issues for each of QUERIES."""
    out = []
    pool_kwargs = {"cursor_factory": _Recording}
    with ConnectionPool(conninfo, min_size=1, max_size=1, kwargs=pool_kwargs) as pool:
        search = PostgresSearch(pool)
        for text, city, insurance in QUERIES:
            _Recording.log.clear()
            search.providers(query(text, city, insurance), now)
            out.append(list(_Recording.log))
    return out


def backend_work(
    search: PostgresSearch, now: datetime, requests: int = REQUESTS
) -> list[Callable[[], int]]:
    queries = [query(*q) for q in QUERIES]

    def one(n: int) -> Callable[[], int]:
        def run() -> int:
            return len(search.providers(queries[n % len(queries)], now).hits)

        return run

    return [one(n) for n in range(requests)]


def raw_work(
    conninfo: str, statements: list[list[Statement]], requests: int = REQUESTS
) -> list[Callable[[], int]]:
    """Each request: the captured statements, in one transaction, rows fetched as tuples."""
    local = threading.local()

    def one(n: int) -> Callable[[], int]:
        def run() -> int:
            if not hasattr(local, "conn"):
                local.conn = psycopg.connect(conninfo)
            conn: psycopg.Connection[Any] = local.conn
            rows = 0
            with conn.transaction(), conn.cursor() as cur:
                for sql, params in statements[n % len(statements)]:
                    cur.execute(sql, params)
                    if cur.description is not None:
                        rows += len(cur.fetchall())
            return rows

        return run

    return [one(n) for n in range(requests)]


def check(
    conninfo: str, statements: list[list[Statement]], now: datetime
) -> tuple[bool, list[int]]:
    """Whether the captured page, count and facet statements are exactly what provider_sql()
    builds, and how many rows the captured page statement returns when replayed."""
    same, pages = True, []
    with psycopg.connect(conninfo) as conn:
        for q, captured_list in zip(QUERIES, statements, strict=True):
            built = provider_sql(query(*q), now, FACET_SIZE)
            expected = [
                built.page(),
                built.count(),
                built.listed_facet("specializations", "specialization"),
                built.listed_facet("insurances", "insurance"),
                built.rating_facet(),
            ]
            texts = [s.as_string(conn) for s, _ in captured_list if isinstance(s, Composable)]
            same = same and texts == [e.as_string(conn) for e in expected]
            same = same and all(
                p == built.params for s, p in captured_list if isinstance(s, Composable)
            )
            with conn.transaction(), conn.cursor() as cur:
                for sql, params in captured_list:
                    cur.execute(sql, params)
                    if isinstance(sql, Composable) and sql.as_string(conn) == texts[0]:
                        pages.append(len(cur.fetchall()))
    return same, pages


def _row(what: str, run: Run) -> str:
    return (
        f"{what:<26} {run.ops_per_s:>7.0f} {percentile(run.latencies, 50) * 1000:>7.1f} "
        f"{percentile(run.latencies, 99) * 1000:>7.1f}"
    )


def report(db: Database, scale: float = 1.0) -> list[str]:
    """The section at full size, or a `scale` of its documents and requests (quick runs)."""
    now = datetime.now(UTC)
    requests = max(int(REQUESTS * scale), 4 * THREADS)
    with ConnectionPool(db.conninfo, min_size=THREADS, max_size=THREADS, open=True) as pool:
        search = PostgresSearch(pool)
        lines = index(db, search, now, scale)
        statements = captured(db.conninfo, now)
        # Same answers both ways, and a warm cache for both.
        hits = [len(search.providers(query(*q), now).hits) for q in QUERIES]
        same_sql, raw_hits = check(db.conninfo, statements, now)
        for work in (
            backend_work(search, now, requests),
            raw_work(db.conninfo, statements, requests),
        ):
            run_threads(THREADS, work[: 4 * THREADS])
        # Alternate the two, ROUNDS times each, so neither always runs on the warmer cache.
        rounds: dict[str, list[Run]] = {"ours": [], "raw": []}
        for _ in range(ROUNDS):
            rounds["ours"].append(run_threads(THREADS, backend_work(search, now, requests)))
            rounds["raw"].append(run_threads(THREADS, raw_work(db.conninfo, statements, requests)))
        ours, raw = merged(rounds["ours"]), merged(rounds["raw"])
    ratio = ours.ops_per_s / raw.ops_per_s
    sample = ", ".join(f"{q[0]}@{q[1]}+{q[2]}" for q in QUERIES)
    return [
        *lines,
        "",
        f"## Provider query (text + 30 km radius, distance sort, insurance + accepting "
        f"filters, 3 facets), {requests * ROUNDS} requests from {THREADS} threads "
        f"({ROUNDS} alternating rounds each)",
        f"{'what':<26} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}",
        _row("PostgresSearch.providers", ours),
        _row("same SQL, plain psycopg", raw),
        f"{len(statements[0])} statements per request, captured from providers() itself",
        f"ratio search: {ratio:.2f} (ours ÷ raw req/s)",
        f"hits per query: providers() {hits}, raw page rows {raw_hits}; captured SQL "
        f"{'matches' if same_sql else 'DIFFERS from'} provider_sql()",
        f"(queries cycled: {sample})",
    ]
