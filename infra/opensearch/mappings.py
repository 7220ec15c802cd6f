"""OpenSearch index definitions for search: versioned index names behind stable aliases, explicit
mappings and analysis, alias actions, and the JSON each document is indexed as.

Readers and writers use the alias (`slotwise-providers`); the index behind it is versioned
(`slotwise-providers-v1-20250101t120000-1a2b`). A mapping change bumps the version; a rebuild
fills a fresh index and swaps the alias in one `_aliases` call. All functions here are pure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from projections.search import NoteDocument, ProviderDocument, SlotDocument

Kind = Literal["providers", "slots", "notes"]
KINDS: tuple[Kind, ...] = ("providers", "slots", "notes")
MAPPING_VERSION = 1
# offset (at most 10 000) + limit (at most 100) must stay inside the result window
MAX_RESULT_WINDOW = 10_100
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")

Document = ProviderDocument | SlotDocument | NoteDocument


@dataclass(frozen=True)
class IndexNames:
    """Where each kind of document lives, under one prefix (one per deployment or test run)."""

    prefix: str = "slotwise"

    def __post_init__(self) -> None:
        if not _NAME.match(self.prefix):
            raise ValueError(
                f"index prefix must be lowercase letters, digits, - or _: {self.prefix!r}"
            )

    def alias(self, kind: Kind) -> str:
        return f"{self.prefix}-{kind}"

    def index(self, kind: Kind, suffix: str) -> str:
        if not _NAME.match(suffix):
            raise ValueError(f"index suffix must be lowercase letters, digits, - or _: {suffix!r}")
        return f"{self.prefix}-{kind}-v{MAPPING_VERSION}-{suffix}"


def _keyword(**extra: Any) -> dict[str, Any]:
    return {"type": "keyword", **extra}


def _folded() -> dict[str, Any]:
    """An exact value compared and sorted case- and accent-insensitively."""
    return {"type": "keyword", "normalizer": "folded", "ignore_above": 256}


def _analysis() -> dict[str, Any]:
    return {
        "normalizer": {"folded": {"type": "custom", "filter": ["lowercase", "asciifolding"]}},
        "filter": {"prefixes": {"type": "edge_ngram", "min_gram": 1, "max_gram": 20}},
        "analyzer": {
            "prefixes": {
                "type": "custom",
                "tokenizer": "standard",
                "filter": ["lowercase", "asciifolding", "prefixes"],
            },
            "folded": {
                "type": "custom",
                "tokenizer": "standard",
                "filter": ["lowercase", "asciifolding"],
            },
        },
    }


def _settings(replicas: int) -> dict[str, Any]:
    return {
        "number_of_shards": 1,
        "number_of_replicas": replicas,
        "max_result_window": MAX_RESULT_WINDOW,
        "analysis": _analysis(),
    }


def _provider_mappings() -> dict[str, Any]:
    # Facets and filters compare specializations and insurances exactly as written (like the
    # PostgreSQL backend); `prefixes` subfields serve autocomplete, `name.keyword` sorting.
    prefixes = {"type": "text", "analyzer": "prefixes", "search_analyzer": "folded"}
    name = {
        "type": "text",
        "analyzer": "folded",
        "fields": {"keyword": _folded(), "prefixes": prefixes},
    }
    specializations = {
        "type": "text",
        "analyzer": "english",
        "fields": {"keyword": _keyword(ignore_above=256), "prefixes": prefixes},
    }
    return {
        "dynamic": "strict",
        "properties": {
            "id": _keyword(),
            "version": {"type": "long", "index": False},
            "name": name,
            "specializations": specializations,
            "bio": {"type": "text", "analyzer": "english"},
            "education": {"type": "text", "analyzer": "english"},
            "languages": _folded(),
            "location": {"type": "geo_point"},
            "address": {"type": "text", "analyzer": "folded"},
            "insurances": _keyword(ignore_above=256),
            "fee_amount": {"type": "scaled_float", "scaling_factor": 100},
            "fee_currency": _keyword(),
            "rating": {"type": "double"},
            "accepting_new_patients": {"type": "boolean"},
            "time_zone": _keyword(index=False),
        },
    }


def _slot_mappings() -> dict[str, Any]:
    return {
        "dynamic": "strict",
        "properties": {
            "id": _keyword(),
            "version": {"type": "long", "index": False},
            "provider_id": _keyword(),
            "start": {"type": "date"},
            "end": {"type": "date"},
            "appointment_types": _keyword(),
            "location": _keyword(),
            "room": _keyword(),
            "status": _keyword(),
            "capacity": {"type": "integer"},
            "free_seats": {"type": "integer"},
        },
    }


def _note_mappings() -> dict[str, Any]:
    return {
        "dynamic": "strict",
        "properties": {
            "appointment_id": _keyword(),
            "version": {"type": "long", "index": False},
            "patient_id": _keyword(),
            "provider_id": _keyword(),
            "completed_at": {"type": "date"},
            "notes": {"type": "text", "analyzer": "english"},
        },
    }


_MAPPINGS = {"providers": _provider_mappings, "slots": _slot_mappings, "notes": _note_mappings}


def create_index_body(kind: Kind, *, replicas: int, alias: str | None = None) -> dict[str, Any]:
    """`PUT /{index}`: settings and mappings, and the alias when the index is the first one."""
    body: dict[str, Any] = {"settings": _settings(replicas), "mappings": _MAPPINGS[kind]()}
    if alias is not None:
        body["aliases"] = {alias: {"is_write_index": True}}
    return body


def swap_alias_body(alias: str, new_index: str, old_indices: Sequence[str]) -> dict[str, Any]:
    """`POST /_aliases`: move the alias in one atomic step, so readers never see no index."""
    actions: list[dict[str, Any]] = [
        {"remove": {"index": old, "alias": alias}} for old in old_indices if old != new_index
    ]
    actions.append({"add": {"index": new_index, "alias": alias, "is_write_index": True}})
    return {"actions": actions}


def document_id(document: Document) -> str:
    if isinstance(document, NoteDocument):
        return str(document.appointment_id)
    return str(document.id)


def source(document: Document) -> dict[str, Any]:
    """The JSON a document is indexed as: its fields, money and ratings as decimal strings
    (indexed as numbers, read back exactly)."""
    body: dict[str, Any] = msgspec.to_builtins(document)
    return body


def bulk_lines(
    index: str, documents: Sequence[Document], *, require_alias: bool
) -> list[dict[str, Any]]:
    """`POST /_bulk`: one index action per document, versioned externally by the aggregate
    version, so a write older than what the index holds is refused (a 409 per item). Writes
    through an alias require it, so a missing alias fails instead of auto-creating an index
    with guessed mappings."""
    lines: list[dict[str, Any]] = []
    for document in documents:
        action: dict[str, Any] = {
            "_index": index,
            "_id": document_id(document),
            "version": document.version,
            "version_type": "external",
        }
        if require_alias:
            action["require_alias"] = True
        lines.extend(({"index": action}, source(document)))
    return lines
