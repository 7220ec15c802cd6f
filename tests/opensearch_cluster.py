"""A stand-in OpenSearch for tests without a server: an opensearch-py `Connection` that records
every request (method, path, query parameters, body) and answers from a small in-memory
cluster. The client is built with `connection_class=RecordingConnection, cluster=...`, the
documented transport hook, so the adapter under test runs unpatched.

The cluster keeps indices, aliases and documents (with external versioning, `require_alias`
and per-document refusals) faithfully; searches ignore the query and return the stored
documents, with aggregations, highlights and suggestions shaped like the real responses. It is
there to capture requests and feed the adapter well-formed answers, not to rank or filter."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opensearchpy import Connection

Json = dict[str, Any]


@dataclass
class Recorded:
    method: str
    path: str
    params: dict[str, str]
    body: Any  # decoded JSON, the raw NDJSON text for bulk, or None
    status: int = 0
    response: Any = None


# A route's handler: the request and its path's parts -> status and decoded response.
Route = Callable[[Recorded, list[str]], tuple[int, Any]]


@dataclass
class FakeCluster:
    indices: dict[str, dict[str, tuple[int, Json]]] = field(default_factory=dict)
    mappings: dict[str, Json] = field(default_factory=dict)
    aliases: dict[str, list[str]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)  # document ids to answer with a mapping error

    # --- dispatch ------------------------------------------------------------------------------

    def answer(self, request: Recorded) -> tuple[int, Any]:
        self.requests.append(request)
        method, parts = request.method, [p for p in request.path.split("/") if p]
        routes: list[tuple[str, list[str | None], Route]] = [
            ("HEAD", ["_alias", None], self._has_alias),
            ("GET", ["_alias", None], self._get_alias),
            ("POST", ["_aliases"], self._update_aliases),
            ("POST", ["_bulk"], self._bulk),
            ("POST", [None, "_search"], self._search),
            ("POST", [None, "_refresh"], self._refresh),
            ("PUT", [None], self._create),
            ("DELETE", [None], self._delete),
        ]
        for verb, shape, handler in routes:
            if verb == method and _fits(shape, parts):
                status, response = handler(request, parts)
                request.status, request.response = status, response
                return status, response
        raise AssertionError(f"the fake cluster has no route for {method} {request.path}")

    def documents(self, alias_or_index: str) -> dict[str, tuple[int, Json]]:
        return self.indices[self._resolve(alias_or_index)]

    def _resolve(self, name: str) -> str:
        if name in self.aliases:
            (index,) = self.aliases[name]
            return index
        return name

    # --- indices and aliases -------------------------------------------------------------------

    def _has_alias(self, request: Recorded, parts: list[str]) -> tuple[int, Any]:
        return (200, None) if parts[1] in self.aliases else (404, None)

    def _get_alias(self, request: Recorded, parts: list[str]) -> tuple[int, Any]:
        alias = parts[1]
        if alias not in self.aliases:
            return 404, {"error": f"alias [{alias}] missing", "status": 404}
        return 200, {index: {"aliases": {alias: {}}} for index in self.aliases[alias]}

    def _create(self, request: Recorded, parts: list[str]) -> tuple[int, Any]:
        index = parts[0]
        if index in self.indices:
            return 400, _error("resource_already_exists_exception", f"index [{index}] exists", 400)
        self.indices[index] = {}
        self.mappings[index] = request.body["mappings"]
        for alias in request.body.get("aliases", {}):
            self.aliases.setdefault(alias, []).append(index)
        return 200, {"acknowledged": True, "shards_acknowledged": True, "index": index}

    def _delete(self, request: Recorded, parts: list[str]) -> tuple[int, Any]:
        index = parts[0]
        if index not in self.indices:
            return 404, _error("index_not_found_exception", f"no such index [{index}]", 404)
        del self.indices[index]
        for members in self.aliases.values():
            if index in members:
                members.remove(index)
        self.aliases = {alias: members for alias, members in self.aliases.items() if members}
        return 200, {"acknowledged": True}

    def _update_aliases(self, request: Recorded, parts: list[str]) -> tuple[int, Any]:
        aliases = {alias: list(members) for alias, members in self.aliases.items()}
        for action in request.body["actions"]:
            ((verb, target),) = action.items()
            members = aliases.setdefault(target["alias"], [])
            if verb == "add":
                members.append(target["index"])
            elif verb == "remove":
                members.remove(target["index"])
        self.aliases = {alias: members for alias, members in aliases.items() if members}
        return 200, {"acknowledged": True}

    def _refresh(self, request: Recorded, parts: list[str]) -> tuple[int, Any]:
        return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}

    # --- documents -----------------------------------------------------------------------------

    def _bulk(self, request: Recorded, parts: list[str]) -> tuple[int, Any]:
        lines = [json.loads(line) for line in request.body.splitlines() if line.strip()]
        items = []
        for action, source in zip(lines[::2], lines[1::2], strict=True):
            items.append({"index": self._index_one(action["index"], source)})
        errors = any("error" in item["index"] for item in items)
        return 200, {"took": 1, "errors": errors, "items": items}

    def _index_one(self, meta: Json, source: Json) -> Json:
        name, doc_id = meta["_index"], meta["_id"]
        base = {"_index": name, "_id": doc_id}
        if meta.get("require_alias") and name not in self.aliases:
            reason = f"no such index [{name}] and [require_alias] request flag is [true]"
            return {**base, "status": 404, "error": _cause("index_not_found_exception", reason)}
        index = self._resolve(name)
        if index not in self.indices:
            return {**base, "status": 404, "error": _cause("index_not_found_exception", name)}
        if doc_id in self.refused:
            cause = _cause("mapper_parsing_exception", "failed to parse field [x]")
            return {**base, "_index": index, "status": 400, "error": cause}
        stored = self.indices[index].get(doc_id)
        version = int(meta["version"])
        if stored is not None and stored[0] >= version:
            reason = (
                f"[{doc_id}]: version conflict, current version [{stored[0]}] is higher or equal"
            )
            cause = _cause("version_conflict_engine_exception", reason)
            return {**base, "_index": index, "status": 409, "error": cause}
        self.indices[index][doc_id] = (version, source)
        result = "updated" if stored else "created"
        return {
            **base,
            "_index": index,
            "_version": version,
            "result": result,
            "status": 200 if stored else 201,
            "_shards": {"total": 1, "successful": 1, "failed": 0},
            "_seq_no": 0,
            "_primary_term": 1,
        }

    # --- searches ------------------------------------------------------------------------------

    def _search(self, request: Recorded, parts: list[str]) -> tuple[int, Any]:
        index = self._resolve(parts[0])
        body = request.body or {}
        stored = sorted(self.indices[index].items())
        sources = [source for _, (_, source) in stored]
        start, size = body.get("from", 0), body.get("size", 10)
        hits = [
            _hit(index, doc_id, source, body)
            for doc_id, (_, source) in stored[start : start + size]
        ]
        response: Json = {
            "took": 1,
            "timed_out": False,
            "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
            "hits": {
                "total": {"value": len(stored), "relation": "eq"},
                "max_score": 1.0 if hits else None,
                "hits": hits,
            },
        }
        if "aggs" in body:
            response["aggregations"] = {
                name: _aggregate(spec, sources) for name, spec in body["aggs"].items()
            }
        return 200, response


def _fits(shape: list[str | None], parts: list[str]) -> bool:
    return len(shape) == len(parts) and all(
        want is None or want == part for want, part in zip(shape, parts, strict=True)
    )


def _cause(kind: str, reason: str) -> Json:
    return {"type": kind, "reason": reason}


def _error(kind: str, reason: str, status: int) -> Json:
    cause = _cause(kind, reason)
    return {"error": {**cause, "root_cause": [cause]}, "status": status}


def _hit(index: str, doc_id: str, source: Json, body: Json) -> Json:
    hit: Json = {"_index": index, "_id": doc_id, "_score": 1.0, "_source": _filtered(source, body)}
    wanted = body.get("highlight", {}).get("fields", {})
    marked = {name: _marked(source.get(name)) for name in wanted}
    if marked := {name: fragments for name, fragments in marked.items() if fragments}:
        hit["highlight"] = marked
    return hit


def _filtered(source: Json, body: Json) -> Json:
    chosen = body.get("_source", True)
    if isinstance(chosen, list):
        return {key: value for key, value in source.items() if key in chosen}
    if isinstance(chosen, dict):
        excluded = set(chosen.get("excludes", []))
        return {key: value for key, value in source.items() if key not in excluded}
    return source


def _marked(value: Any) -> list[str]:
    texts = value if isinstance(value, list) else [value]
    fragments = []
    for text in texts:
        if isinstance(text, str) and text.strip():
            first, _, rest = text.partition(" ")
            fragments.append(f"<em>{first}</em> {rest}".rstrip())
    return fragments


def _values(source: Json, field_name: str) -> list[Any]:
    value = source.get(re.sub(r"\.(keyword|prefixes)$", "", field_name))
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _epoch_ms(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000


def _aggregate(spec: Json, sources: list[Json]) -> Json:
    sub = spec.get("aggs", {})
    if "filter" in spec:
        nested = {name: _aggregate(inner, sources) for name, inner in sub.items()}
        return {"doc_count": len(sources), **nested}
    if "terms" in spec:
        counts = Counter(v for s in sources for v in set(_values(s, spec["terms"]["field"])))
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        buckets = [{"key": key, "doc_count": count} for key, count in ordered]
        size = spec["terms"].get("size", 10)
        return {
            "doc_count_error_upper_bound": 0,
            "sum_other_doc_count": sum(b["doc_count"] for b in buckets[size:]),
            "buckets": buckets[:size],
        }
    if "filters" in spec:
        named = spec["filters"]["filters"]
        return {"buckets": {key: {"doc_count": _count(f, sources)} for key, f in named.items()}}
    if "composite" in spec:
        return _composite(spec, sources)
    if "min" in spec:
        found = [_epoch_ms(v) for s in sources for v in _values(s, spec["min"]["field"])]
        return {"value": min(found) if found else None}
    raise AssertionError(f"the fake cluster cannot aggregate {spec}")


def _count(query: Json, sources: list[Json]) -> int:
    """Range and missing-field filters only (the rating bands)."""
    if "range" in query:
        ((name, bounds),) = query["range"].items()
        return sum(1 for s in sources if any(_within(float(v), bounds) for v in _values(s, name)))
    missing = query["bool"]["must_not"][0]["exists"]["field"]
    return sum(1 for s in sources if not _values(s, missing))


def _within(value: float, bounds: Mapping[str, float]) -> bool:
    low, high = bounds.get("gte"), bounds.get("lt")
    return (low is None or value >= low) and (high is None or value < high)


def _composite(spec: Json, sources: list[Json]) -> Json:
    composite = spec["composite"]
    ((key_name, source_spec),) = composite["sources"][0].items()
    groups: dict[str, list[Json]] = {}
    for source in sources:
        for value in _values(source, source_spec["terms"]["field"]):
            groups.setdefault(value, []).append(source)
    after = composite.get("after", {}).get(key_name)
    keys = [key for key in sorted(groups) if after is None or key > after]
    chosen = keys[: composite.get("size", 10)]
    buckets = []
    for key in chosen:
        nested = {name: _aggregate(inner, groups[key]) for name, inner in spec["aggs"].items()}
        buckets.append({"key": {key_name: key}, "doc_count": len(groups[key]), **nested})
    result: Json = {"buckets": buckets}
    if chosen:
        result["after_key"] = {key_name: chosen[-1]}
    return result


class RecordingConnection(Connection):
    """Hands every request to the cluster given as `cluster=` to the client."""

    def __init__(self, *, cluster: FakeCluster, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cluster = cluster

    def perform_request(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None = None,
        body: bytes | None = None,
        timeout: float | None = None,
        ignore: Collection[int] = (),
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        text = body.decode() if isinstance(body, bytes) else body
        decoded = text if text is None or url.endswith("/_bulk") else json.loads(text)
        request = Recorded(method, url, {k: str(v) for k, v in (params or {}).items()}, decoded)
        status, response = self.cluster.answer(request)
        raw = "" if response is None else json.dumps(response)
        if not 200 <= status < 300 and status not in ignore:
            self._raise_error(status, raw, "application/json")
        return status, {"content-type": "application/json"}, raw
