"""The search projection's sink on OpenSearch: documents go to OpenSearch (`_bulk`, external
versioning), the projection's position stays in PostgreSQL (`search_tracking`).

The two stores cannot share a transaction, so the order makes it safe: the documents are
written first and the position is recorded only after the bulk write succeeded. A crash in
between leaves the position behind the documents; the projection then re-applies those events,
which is harmless because every document carries its aggregate's version as an external
version: OpenSearch ignores a version it already holds or one older than it holds (the version
conflicts are treated as success). A refused document raises SearchIndexError before the
position is recorded, so the projection stops at that event and the runner retries it; it
never advances past a failed write."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from eventsourcing.persistence import Tracking

from infra.opensearch.index import OpenSearchBackend
from infra.postgres.tracking import AnnouncedTracking
from projections.search import NoteDocument, NotesErased, ProviderDocument, SlotDocument
from projections.search_projection import SearchDocument, SearchSink


class OpenSearchSearchView(AnnouncedTracking, SearchSink):
    """Documents to `backend`, then the position to PostgreSQL. eventsourcing constructs the
    view from its environment alone, so the backend is bound to a subclass by
    `opensearch_search_view`."""

    backend: ClassVar[OpenSearchBackend | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if self.backend is None:
            msg = "OpenSearchSearchView has no backend: use opensearch_search_view(backend)"
            raise TypeError(msg)
        super().__init__(*args, **kwargs)

    def write(self, documents: Sequence[SearchDocument], tracking: Tracking) -> None:
        backend = self.backend
        assert backend is not None  # noqa: S101 (checked on construction)
        backend.put_providers([d for d in documents if isinstance(d, ProviderDocument)])
        backend.put_slots([d for d in documents if isinstance(d, SlotDocument)])
        backend.put_notes([d for d in documents if isinstance(d, NoteDocument)])
        for erased in (d for d in documents if isinstance(d, NotesErased)):
            backend.drop_notes_of(erased.patient_id)
        self.insert_tracking(tracking)


def opensearch_search_view(backend: OpenSearchBackend) -> type[OpenSearchSearchView]:
    """The view class to give eventsourcing's ProjectionRunner, bound to `backend` (whose
    indices the caller has ensured)."""

    class BoundOpenSearchSearchView(OpenSearchSearchView):
        pass

    BoundOpenSearchSearchView.backend = backend
    return BoundOpenSearchSearchView
