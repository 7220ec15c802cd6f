"""The shared search behaviour suite (tests/search_behaviour.py) on a real OpenSearch, when
OPENSEARCH_URL names one (e.g. http://localhost:9200). Every test gets fresh indices under a
prefix of its own, deleted afterwards. Without OPENSEARCH_URL the module is skipped: there is
no OpenSearch on the build machines, where tests/unit/test_search_opensearch_requests.py checks
every request the adapter sends against the OpenSearch API specification instead."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

OPENSEARCH_URL = os.environ.get("OPENSEARCH_URL", "")
if not OPENSEARCH_URL:
    pytest.skip(
        "OPENSEARCH_URL is not set: no OpenSearch server to test against",
        allow_module_level=True,
    )

# Imported only now, so that collecting this module without a server needs neither.
from infra.opensearch.index import OpenSearchBackend  # noqa: E402
from projections.search import ProviderQuery  # noqa: E402
from tests.search_behaviour import NOW, SearchBehaviour, ids, provider  # noqa: E402


@pytest.fixture
def opensearch() -> Iterator[OpenSearchBackend]:
    backend = OpenSearchBackend.from_url(
        OPENSEARCH_URL,
        prefix=f"slotwise-test-{uuid.uuid4().hex[:12]}",
        replicas=0,
        refresh=True,  # the suite searches right after each put
    )
    backend.ensure_indices()
    try:
        yield backend
    finally:
        backend.drop_indices()


@pytest.fixture
def search_index(opensearch: OpenSearchBackend) -> OpenSearchBackend:
    return opensearch


@pytest.fixture
def search_backend(opensearch: OpenSearchBackend) -> OpenSearchBackend:
    return opensearch


class TestOpenSearchSearch(SearchBehaviour):
    def test_a_rebuild_swaps_in_a_fresh_index_and_searches_go_on(
        self, opensearch: OpenSearchBackend
    ) -> None:
        ada = provider("Dr Ada Lovelace", specializations=["Cardiology"], version=2)
        opensearch.put_providers([ada])
        (before,) = opensearch.indices_behind("providers")

        after = opensearch.rebuild("providers", [ada])

        assert opensearch.indices_behind("providers") == [after] != [before]
        assert ids(opensearch.providers(ProviderQuery(q="lovelace"), NOW)) == [ada.id]
