"""The OpenSearch search backend: SearchIndex and SearchBackend over versioned indices behind
aliases (search_opensearch_mappings), with bodies from search_opensearch_queries and results
read by search_opensearch_results.

- Writes: `_bulk` index actions with external versioning (the aggregate version), so an older
  document never replaces a newer one; the version conflicts that this causes are successes.
- Availability: free slots live in the slots index, so "has a free slot between" first asks the
  slots index which providers have one (a composite aggregation, paged) and filters providers
  by id. Sort "soonest" is not denormalised (it depends on `now`): the adapter ranks providers
  by their soonest free slot (composite aggregation with a min, sorted here) and OpenSearch
  sorts by that rank (a script sort on the id), so paging, total and facets stay in one query.
- Rebuild: fill a fresh index, then move the alias in one atomic `_aliases` call.
- Limits: the free-slot filter sends the matching provider ids as one terms filter (at most
  `index.max_terms_count`, 65 536 by default); sort "soonest" sends one rank per provider with
  a free slot in the coming FREE_SLOT_DAYS as script parameters."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from itertools import islice
from typing import Any
from uuid import UUID

from opensearchpy import NotFoundError, OpenSearch

from infra.opensearch import results as read
from infra.opensearch.availability import (
    COMPOSITE_PAGE,
    free_between_filters,
    free_slots_by_provider_body,
    free_soon_filters,
)
from infra.opensearch.mappings import (
    KINDS,
    Document,
    IndexNames,
    Kind,
    bulk_lines,
    create_index_body,
    swap_alias_body,
)
from infra.opensearch.queries import (
    autocomplete_body,
    notes_body,
    provider_search_body,
    slot_search_body,
)
from projections.search import (
    NoteDocument,
    NoteHit,
    NoteScope,
    ProviderDocument,
    ProviderQuery,
    ProviderResults,
    SlotDocument,
    SlotQuery,
    SlotResults,
    Suggestion,
)

BULK_CHUNK = 500


class SearchIndexError(RuntimeError):
    """OpenSearch refused documents for a reason other than holding a newer version."""


def _suffix() -> str:
    return datetime.now(UTC).strftime("%Y%m%dt%H%M%S") + "-" + secrets.token_hex(3)


class OpenSearchBackend:
    """SearchIndex and SearchBackend on OpenSearch. `refresh` ("wait_for", True) makes writes
    visible to searches before put_* returns; the default leaves that to the refresh interval."""

    def __init__(
        self,
        client: OpenSearch,
        *,
        names: IndexNames | None = None,
        replicas: int = 1,
        refresh: bool | str = False,
    ) -> None:
        self._client = client
        self.names = names or IndexNames()
        self._replicas = replicas
        self._refresh = refresh

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = "slotwise",
        replicas: int = 1,
        refresh: bool | str = False,
        **client_options: Any,
    ) -> OpenSearchBackend:
        """A backend on the cluster at `url` (credentials, if any, in the URL)."""
        client = OpenSearch(hosts=[url], **client_options)
        return cls(client, names=IndexNames(prefix), replicas=replicas, refresh=refresh)

    # --- indices -----------------------------------------------------------------------------

    def ensure_indices(self) -> list[str]:
        """Create each kind's first index with its alias where the alias is missing; returns
        the indices created."""
        created = []
        for kind in KINDS:
            alias = self.names.alias(kind)
            if not self._client.indices.exists_alias(name=alias):
                index = self.names.index(kind, _suffix())
                body = create_index_body(kind, replicas=self._replicas, alias=alias)
                self._client.indices.create(index=index, body=body)
                created.append(index)
        return created

    def indices_behind(self, kind: Kind) -> list[str]:
        try:
            found = self._client.indices.get_alias(name=self.names.alias(kind))
        except NotFoundError:
            return []
        return sorted(found)

    def rebuild(self, kind: Kind, documents: Iterable[Document], *, keep_old: bool = False) -> str:
        """Index `documents` into a fresh index, then swap the alias to it atomically.

        Readers see the old index until the swap. Writes that arrive meanwhile go to the old
        index only, so the projection replays from the position the rebuild started at;
        external versioning makes that replay harmless."""
        index = self.names.index(kind, _suffix())
        body = create_index_body(kind, replicas=self._replicas)
        self._client.indices.create(index=index, body=body)
        try:
            for chunk in _chunks(documents, BULK_CHUNK):
                self._bulk(index, chunk, through_alias=False, refresh=False)
            self._client.indices.refresh(index=index)
        except Exception:
            self._client.indices.delete(index=index)
            raise
        alias = self.names.alias(kind)
        old = [name for name in self.indices_behind(kind) if name != index]
        self._client.indices.update_aliases(body=swap_alias_body(alias, index, old))
        if not keep_old:
            for name in old:
                self._client.indices.delete(index=name)
        return index

    def refresh(self) -> None:
        """Make every write so far visible to searches (tests and rebuild tools)."""
        for kind in KINDS:
            self._client.indices.refresh(index=self.names.alias(kind))

    def drop_indices(self) -> None:
        """Delete every index behind this backend's aliases (test clean-up)."""
        for kind in KINDS:
            for name in self.indices_behind(kind):
                self._client.indices.delete(index=name)

    # --- SearchIndex -------------------------------------------------------------------------

    def put_providers(self, documents: Sequence[ProviderDocument]) -> None:
        self._put("providers", documents)

    def put_slots(self, documents: Sequence[SlotDocument]) -> None:
        self._put("slots", documents)

    def put_notes(self, documents: Sequence[NoteDocument]) -> None:
        self._put("notes", documents)

    def drop_notes_of(self, patient_id: UUID) -> None:
        """Delete every note document of the patient (their erasure). Conflicts with a write
        in flight are skipped rather than failing: a rebuild would write no note for them."""
        self._client.delete_by_query(
            index=self.names.alias("notes"),
            body={"query": {"term": {"patient_id": str(patient_id)}}},
            params={"conflicts": "proceed", "refresh": "true" if self._refresh else "false"},
        )

    def _put(self, kind: Kind, documents: Sequence[Document]) -> None:
        for chunk in _chunks(documents, BULK_CHUNK):
            self._bulk(self.names.alias(kind), chunk, through_alias=True, refresh=self._refresh)

    def _bulk(
        self,
        index: str,
        documents: Sequence[Document],
        *,
        through_alias: bool,
        refresh: bool | str,
    ) -> None:
        lines = bulk_lines(index, documents, require_alias=through_alias)
        options: dict[str, Any] = {"refresh": refresh} if refresh else {}
        response = self._client.bulk(body=lines, **options)
        if not response.get("errors"):
            return
        failures = [
            (str(item.get("_id")), str(error.get("type")), str(error.get("reason"))[:200])
            for entry in response["items"]
            for item in entry.values()
            if (error := item.get("error"))
            and error.get("type") != "version_conflict_engine_exception"
        ]
        if failures:
            document_id, kind, reason = failures[0]
            raise SearchIndexError(
                f"{len(failures)} of {len(documents)} documents refused by {index}; "
                f"first: {document_id}: {kind}: {reason}"
            )

    # --- SearchBackend -----------------------------------------------------------------------

    def _search(self, kind: Kind, body: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = self._client.search(index=self.names.alias(kind), body=body)
        return response

    def _free_by_provider(
        self, filters: list[dict[str, Any]], provider_ids: Sequence[str] | None = None
    ) -> read.Availability:
        found: read.Availability = {}
        after: dict[str, Any] | None = None
        while True:
            body = free_slots_by_provider_body(filters, provider_ids=provider_ids, after=after)
            groups = self._search("slots", body)["aggregations"]["providers"]
            found.update(read.availability(groups))
            after = groups.get("after_key")
            if len(groups["buckets"]) < COMPOSITE_PAGE or after is None:
                return found

    def providers(self, query: ProviderQuery, now: datetime) -> ProviderResults:
        query.validate()
        free_ids = None
        if query.free_from is not None and query.free_to is not None:
            filters = free_between_filters(now, query.free_from, query.free_to)
            free_ids = sorted(self._free_by_provider(filters))
        soon: read.Availability | None = None
        ranks = None
        if query.sort == "soonest":
            soon = self._free_by_provider(free_soon_filters(now))
            ranks = _soonest_ranks(soon)
        body = provider_search_body(query, free_provider_ids=free_ids, soonest_ranks=ranks)
        response = self._search("providers", body)
        found = response["hits"]["hits"]
        if soon is None:
            ids = [hit["_id"] for hit in found]
            soon = self._free_by_provider(free_soon_filters(now), ids) if ids else {}
        scored = bool((query.q or "").strip())
        return ProviderResults(
            hits=[read.provider_hit(hit, query.near, soon, scored=scored) for hit in found],
            total=read.total(response),
            facets=read.facets(response["aggregations"]),
            limit=query.limit,
            offset=query.offset,
        )

    def slots(self, query: SlotQuery, now: datetime) -> SlotResults:
        response = self._search("slots", slot_search_body(query, now))
        return SlotResults(
            hits=read.slot_hits(response),
            total=read.total(response),
            limit=query.limit,
            offset=query.offset,
        )

    def autocomplete(self, prefix: str, limit: int) -> list[Suggestion]:
        words = " ".join(prefix.split())
        if not words or limit < 1:
            return []
        response = self._search("providers", autocomplete_body(words, limit))
        return read.suggestions(response, words, limit)

    def notes(self, text: str, scope: NoteScope, limit: int) -> list[NoteHit]:
        body = notes_body(text, scope, limit) if limit > 0 else None
        if body is None:
            return []
        return read.note_hits(self._search("notes", body))


def _soonest_ranks(soon: read.Availability) -> dict[str, int]:
    """Rank 0 for the provider with the soonest free slot; ties by id, as the index sorts."""
    ordered = sorted(soon, key=lambda provider_id: (soon[provider_id][0], provider_id))
    return {provider_id: rank for rank, provider_id in enumerate(ordered)}


def _chunks(documents: Iterable[Document], size: int) -> Iterator[list[Document]]:
    iterator = iter(documents)
    while chunk := list(islice(iterator, size)):
        yield chunk
