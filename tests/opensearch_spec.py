"""Validate OpenSearch requests against the official OpenAPI 3.1 specification (read-only data in
`../shared/opensearch-api-spec/spec`, YAML split across files).

`$ref`s are resolved across files by a `referencing.Registry` whose retriever loads the YAML file
a `file://` URI names, so `../schemas/_core.search.yaml#/components/schemas/X` from
`namespaces/_core.yaml` resolves like any JSON Schema reference (2020-12 dialect).

Strict mode (the default) closes the schemas' objects first: see opensearch_spec_strict.py."""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.opensearch_spec_strict import METHODS, Tightener

ROOT = Path(__file__).resolve().parent.parent
SPEC_DIR = Path(
    os.environ.get("OPENSEARCH_API_SPEC_DIR", ROOT.parent / "shared" / "opensearch-api-spec")
)
SKIP_REASON = f"the OpenSearch API specification is absent: no {SPEC_DIR / 'spec'}"


class SpecViolationError(AssertionError):
    """A request does not conform to the OpenSearch API specification."""


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    uri: str  # the namespace file holding the operation
    pointer: str  # JSON pointer to the operation object in that file
    literal_segments: int


def spec_available() -> bool:
    return (SPEC_DIR / "spec" / "namespaces").is_dir()


def _pointer(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _walk(document: Any, pointer: str) -> Any:
    node = document
    for raw in pointer.lstrip("/").split("/") if pointer.strip("/") else []:
        part = unquote(raw).replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


class OpenSearchSpec:
    """The specification, loaded lazily file by file."""

    def __init__(self, spec_dir: Path = SPEC_DIR / "spec", *, strict: bool = True) -> None:
        self.spec_dir = spec_dir.resolve()
        self.strict = strict
        self._raw: dict[str, Any] = {}
        self._resources: dict[str, Resource[Any]] = {}
        self._registered = 0
        self._tightener = Tightener(self._resolve, close=strict)
        self._operations = list(self._index_operations())
        self.registry: Registry[Any] = self._retrieving()

    # -- files and references -------------------------------------------------------------
    def _retrieving(self) -> Registry[Any]:
        # Registry is an attrs class whose `retrieve` is the alias of a private field; mypy
        # does not read referencing's attrs wrapper, so it knows no such argument.
        return Registry(retrieve=self._retrieve)  # type: ignore[call-arg]

    def _load(self, uri: str) -> Any:
        if uri not in self._raw:
            path = Path(unquote(urlsplit(uri).path))
            if self.spec_dir not in path.resolve().parents:
                raise LookupError(f"reference outside the specification: {uri}")
            with path.open(encoding="utf-8") as handle:
                self._raw[uri] = yaml.load(handle, Loader=yaml.CSafeLoader)
        return self._raw[uri]

    def _retrieve(self, uri: str) -> Resource[Any]:
        if uri not in self._resources:
            document = self._load(uri)
            self._tightener.prepare(uri, document)
            self._resources[uri] = Resource.from_contents(
                document, default_specification=DRAFT202012
            )
        return self._resources[uri]

    def _resolve(self, base: str, ref: str) -> tuple[str, Any]:
        target, fragment = urldefrag(urljoin(base, ref))
        return target, _walk(self._load(target), fragment)

    def uri_of(self, relative: str) -> str:
        return (self.spec_dir / relative).as_uri()

    # -- operations -------------------------------------------------------------------------
    def _index_operations(self) -> Iterator[Operation]:
        for path in sorted((self.spec_dir / "namespaces").glob("*.yaml")):
            uri = path.as_uri()
            for template, item in (self._load(uri).get("paths") or {}).items():
                literal = sum(1 for part in template.split("/") if part and "{" not in part)
                for method in METHODS:
                    if method in item:
                        pointer = _pointer("paths", template, method)
                        yield Operation(method.upper(), template, uri, pointer, literal)

    def operation(self, method: str, path: str) -> Operation:
        """The operation a request goes to: literal path segments beat parameters."""
        path = urlsplit(path).path.rstrip("/") or "/"
        matches = [
            op
            for op in self._operations
            if op.method == method.upper() and _template_regex(op.template).fullmatch(path)
        ]
        if not matches:
            raise SpecViolationError(f"no operation {method} {path} in the specification")
        return max(matches, key=lambda op: op.literal_segments)

    def _operation_object(self, op: Operation) -> dict[str, Any]:
        node: dict[str, Any] = _walk(self._load(op.uri), op.pointer)
        return node

    def _body_schema_uri(self, op: Operation) -> tuple[str, str]:
        """(URI of the operation's request body schema, its media type)."""
        body = self._operation_object(op).get("requestBody")
        if body is None:
            raise SpecViolationError(f"{op.method} {op.template} takes no request body")
        base = op.uri + "#" + op.pointer + "/requestBody"
        if "$ref" in body:
            base = urljoin(op.uri, body["$ref"])
            _, body = self._resolve(op.uri, body["$ref"])
        media = next(iter(body["content"]))
        return f"{base}/content/{media.replace('/', '~1')}/schema", media

    def _validator(self, schema_uri: str) -> Draft202012Validator:
        self._retrieve(urldefrag(schema_uri)[0])  # close the file before it is first used
        if len(self._resources) != self._registered:
            # keep what was retrieved, so later validations skip loading and crawling again
            self._registered = len(self._resources)
            self.registry = self._retrieving().with_resources(self._resources.items())
        return Draft202012Validator({"$ref": schema_uri}, registry=self.registry)

    # -- validation -------------------------------------------------------------------------
    def validate_body(self, method: str, path: str, body: Any) -> None:
        """Validate a JSON body (already decoded) or an NDJSON body (bytes/str)."""
        op = self.operation(method, path)
        schema_uri, media = self._body_schema_uri(op)
        if media == "application/x-ndjson":
            self._validate_ndjson(schema_uri, body, f"{method} {path}")
            return
        if isinstance(body, (bytes, str)):
            body = json.loads(body)
        _raise_first(self._validator(schema_uri), body, f"{method} {path}")

    def validate_params(self, method: str, path: str, params: Mapping[str, Any]) -> None:
        """Every query parameter must be one the operation (or every operation) declares, with
        a value its schema accepts (values travel as strings: `true` and `5` are parsed)."""
        op = self.operation(method, path)
        declared: dict[str, str] = {}
        refs = [p["$ref"] for p in self._operation_object(op).get("parameters", [])]
        for ref in refs:
            _, parameter = self._resolve(op.uri, ref)
            if parameter.get("in") == "query":
                declared[parameter["name"]] = urljoin(op.uri, ref)
        global_uri = self.uri_of("_global_parameters.yaml")
        for name in self._load(global_uri)["components"]["parameters"]:
            declared.setdefault(name, f"{global_uri}#/components/parameters/{name}")
        for name, value in params.items():
            if name not in declared:
                raise SpecViolationError(f"{method} {path}: unknown query parameter {name!r}")
            validator = self._validator(declared[name] + "/schema")
            candidates = [str(value)]
            with contextlib.suppress(ValueError):
                candidates.append(json.loads(str(value)))
            if not any(validator.is_valid(candidate) for candidate in candidates):
                raise SpecViolationError(f"{method} {path}: {name}={value!r} is not allowed")

    def _validate_ndjson(self, schema_uri: str, body: Any, where: str) -> None:
        """Bulk: action/metadata lines, each followed by its document (index, create), its
        update action (update) or nothing (delete), newline-separated and newline-terminated."""
        text = body.decode() if isinstance(body, bytes) else str(body)
        if not text.endswith("\n"):
            raise SpecViolationError(f"{where}: an NDJSON body must end with a newline")
        lines = [json.loads(line) for line in text.splitlines() if line.strip()]
        _raise_first(self._validator(schema_uri), lines, where)
        _, array = self._resolve(schema_uri, "#" + urldefrag(schema_uri)[1])
        kinds = {}
        for position, branch in enumerate(array["items"]["anyOf"]):
            ref = branch.get("$ref", "")
            kind = ref.rsplit("/", 1)[-1] if ref else "document"
            kinds[kind] = self._validator(f"{schema_uri}/items/anyOf/{position}")
        action, update, document = (
            kinds["OperationContainer"],
            kinds["UpdateAction"],
            kinds["document"],
        )
        position = 0
        while position < len(lines):
            line = lines[position]
            _raise_first(action, line, f"{where} line {position + 1} (action)")
            (verb,) = line
            if verb != "delete":
                position += 1
                if position >= len(lines):
                    raise SpecViolationError(f"{where}: {verb} action without its source line")
                follower = update if verb == "update" else document
                _raise_first(follower, lines[position], f"{where} line {position + 1} ({verb})")
            position += 1

    def validate_response(self, method: str, path: str, status: int, body: Any) -> None:
        """Check a canned response is one the server could send (keeps fakes honest). Use a
        non-strict spec: the published response schemas are incomplete (hits, for one, do not
        list `_id`), so closing them would reject real responses."""
        if body is None:
            return
        op = self.operation(method, path)
        responses = self._operation_object(op).get("responses", {})
        response = responses.get(str(status))
        if response is None:
            raise SpecViolationError(f"{method} {path}: no {status} response in the spec")
        base = op.uri + "#" + op.pointer + f"/responses/{status}"
        if "$ref" in response:
            base = urljoin(op.uri, response["$ref"])
            _, response = self._resolve(op.uri, response["$ref"])
        content = response.get("content")
        if not content:
            return
        media = next(iter(content))
        schema_uri = f"{base}/content/{media.replace('/', '~1')}/schema"
        _raise_first(self._validator(schema_uri), body, f"{method} {path} -> {status}")


@cache
def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template.rstrip("/") or "/")
    pattern = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(pattern)


def _raise_first(validator: Draft202012Validator, instance: Any, where: str) -> None:
    error = best_match(validator.iter_errors(instance))
    if error is None:
        return
    location = "/".join(str(p) for p in error.absolute_path) or "(root)"
    if "propertyNames" in error.absolute_schema_path:
        message = f"{error.instance!r} is not a property the specification defines here"
    else:
        message = error.message if len(error.message) < 300 else error.message[:300] + "…"
    raise SpecViolationError(f"{where}: at {location}: {message}")


@cache
def request_spec() -> OpenSearchSpec:
    """The strict specification, shared by the tests of one session."""
    return OpenSearchSpec()


@cache
def response_spec() -> OpenSearchSpec:
    return OpenSearchSpec(strict=False)
