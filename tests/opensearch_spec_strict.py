"""Make the OpenSearch specification's schemas strict and fast to validate, in place.

Closing: the published schemas leave every object open, so a misspelled clause
(`{"mulit_match": ...}`) would pass a literal reading, and `oneOf`s such as `SortCombinations`
reject valid sorts because an open object matches two branches. Like the specification's own
test tool (which closes response objects), every object schema that names its properties is
closed where it is *used* (a `$ref` or an inline schema outside `allOf`): it gets
`propertyNames: {enum: [...]}` listing every property its `$ref`s, `allOf` parts and
`anyOf`/`oneOf` branches declare. (`unevaluatedProperties: false` says the same more exactly, but
jsonschema re-validates every subschema to compute it: minutes per search body.) Schemas that
admit any object (`additionalProperties`, free-form branches) stay open.

Choosing: a `oneOf` with a discriminator (mapping property types) or whose branches each require
their own key (aggregation containers) picks its branch by that value or key instead of
validating every branch, and every branch's sub-aggregations, in full."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urljoin

Resolve = Callable[[str, str], tuple[str, Any]]  # (base URI, $ref) -> (target URI, node)

_SCHEMA_MAPS = ("properties", "patternProperties", "dependentSchemas", "$defs")
_SCHEMA_SINGLES = (
    "additionalProperties",
    "unevaluatedProperties",
    "items",
    "contains",
    "not",
    "if",
    "then",
    "else",
    "unevaluatedItems",
    "propertyNames",
)
METHODS = ("get", "put", "post", "delete", "head", "patch")
_CLOSED = "x-closed-by-test-validator"
_ANNOTATIONS = {"title", "description", "deprecated", "default", "examples", "externalDocs"}


class Tightener:
    def __init__(self, resolve: Resolve, *, close: bool) -> None:
        self._resolve = resolve
        self.close = close
        self._known_cache: dict[str, frozenset[str] | None] = {}

    def prepare(self, uri: str, document: Mapping[str, Any]) -> None:
        """Tighten (if `close`) and speed up every schema of one specification file, in place,
        before the validator first reads it."""
        components = document.get("components", {})
        for schema in components.get("schemas", {}).values():
            self._close(uri, schema, used_here=False)
        for body in components.get("requestBodies", {}).values():
            for media in body.get("content", {}).values():
                self._close(uri, media.get("schema"), used_here=True)
        for item in document.get("paths", {}).values():
            for method in METHODS:
                body = item.get(method, {}).get("requestBody", {})
                for media in body.get("content", {}).values():
                    self._close(uri, media.get("schema"), used_here=True)

    def _close(self, uri: str, schema: Any, *, used_here: bool, part: bool = False) -> None:
        """Close `schema` where it is used whole (`used_here`), then its subschemas. A choice
        (`anyOf`/`oneOf`) is closed branch by branch, so that `oneOf` can tell its branches
        apart, unless the choice is only a part of an object (inside `allOf`, or next to
        properties): there the enclosing object is closed instead."""
        if not isinstance(schema, dict):
            return
        if self.close and used_here and "propertyNames" not in schema:
            names = self._known(uri, schema, frozenset())
            if names:
                schema["propertyNames"] = {"enum": sorted(names), _CLOSED: True}
        for keyword in _SCHEMA_MAPS:
            for sub in (schema.get(keyword) or {}).values():
                self._close(uri, sub, used_here=True)
        for keyword in _SCHEMA_SINGLES:
            self._close(uri, schema.get(keyword), used_here=True)
        for sub in schema.get("prefixItems", []):
            self._close(uri, sub, used_here=True)
        siblings = {"properties", "allOf", "$ref", "additionalProperties", "patternProperties"}
        whole_branches = not part and not siblings & set(schema)
        for sub in schema.get("anyOf", []) + schema.get("oneOf", []):
            self._close(uri, sub, used_here=whole_branches, part=not whole_branches)
        for sub in schema.get("allOf", []):
            self._close(uri, sub, used_here=False, part=True)
        if "discriminator" in schema and "oneOf" in schema:
            self._discriminate(uri, schema)
        if "oneOf" in schema:
            self._choose_by_key(uri, schema)

    def _choose_by_key(self, uri: str, schema: dict[str, Any]) -> None:
        """A `oneOf` whose branches each require their own property (an aggregation container:
        `terms`, `filter`, `composite`, ...) picks its branch by that property: exactly one of
        the keys, then that branch only. Same verdicts, without validating every branch (and
        every branch's sub-aggregations) in full."""
        keys: list[list[str]] = []
        for branch in schema["oneOf"]:
            required = self._required(uri, branch, frozenset())
            if not required:
                return
            keys.append(sorted(required))
        every = [key for required in keys for key in required]
        if len(every) != len(set(every)):
            return
        branches = schema.pop("oneOf")
        schema["oneOf"] = [{"required": required} for required in keys]
        schema.setdefault("allOf", []).extend(
            {"if": {"required": required}, "then": branch}
            for required, branch in zip(keys, branches, strict=True)
        )
        # name the keys, so that a schema closing over this one still knows them
        schema.setdefault("properties", {}).update(dict.fromkeys(every, True))

    def _required(self, uri: str, schema: Any, seen: frozenset[str]) -> set[str]:
        if not isinstance(schema, dict):
            return set()
        found = set(schema.get("required", []))
        if "$ref" in schema:
            key = urljoin(uri, schema["$ref"])
            if key not in seen:
                target_uri, target = self._resolve(uri, schema["$ref"])
                found |= self._required(target_uri, target, seen | {key})
        for part in schema.get("allOf", []):
            found |= self._required(uri, part, seen)
        return found

    def _discriminate(self, uri: str, schema: dict[str, Any]) -> None:
        """Choose a `oneOf` branch by its discriminator value, as OpenAPI means it, instead of
        trying every branch (jsonschema would otherwise validate a mapping's 45 property kinds,
        and each kind's sub-fields' 45 kinds, ...). Without the discriminating property, or
        where a branch's value is unknown, the `oneOf` stays as it is."""
        name = schema["discriminator"]["propertyName"]
        branches: list[tuple[list[Any], Any]] = []
        for branch in schema["oneOf"]:
            values = self._values(uri, branch, name, frozenset())
            if not values:
                return
            branches.append((sorted(values), branch))
        every = [value for values, _ in branches for value in values]
        if len(every) != len(set(every)):
            return
        choices = [
            {"if": {"properties": {name: {"enum": values}}}, "then": branch}
            for values, branch in branches
        ]
        schema["if"] = {"required": [name]}
        schema["then"] = {"properties": {name: {"enum": every}}, "allOf": choices}
        schema["else"] = {"oneOf": schema.pop("oneOf")}

    def _values(self, uri: str, schema: Any, name: str, seen: frozenset[str]) -> set[Any]:
        """The values a branch allows its discriminating property."""
        if not isinstance(schema, dict):
            return set()
        found: set[Any] = set()
        declared = schema.get("properties", {}).get(name, {})
        found |= set(declared.get("enum", []))
        if "const" in declared:
            found.add(declared["const"])
        if "$ref" in schema:
            key = urljoin(uri, schema["$ref"])
            if key not in seen:
                target_uri, target = self._resolve(uri, schema["$ref"])
                found |= self._values(target_uri, target, name, seen | {key})
        for part in schema.get("allOf", []):
            found |= self._values(uri, part, name, seen)
        return found

    def _known(self, uri: str, schema: Any, seen: frozenset[str]) -> frozenset[str] | None:
        """The property names an object valid under `schema` may have, gathered through `$ref`,
        `allOf` parts and `anyOf`/`oneOf` branches; None when it admits others
        (`additionalProperties`, `patternProperties`, a free-form branch)."""
        if not isinstance(schema, dict):
            return None if schema is True else frozenset()
        extra = schema.get("additionalProperties", False)
        names_given = schema.get("propertyNames", {})
        if extra is not False or "patternProperties" in schema:
            return None
        if "unevaluatedProperties" in schema and schema["unevaluatedProperties"] is not False:
            return None
        if names_given and not names_given.get(_CLOSED):
            return None
        names = set(schema.get("properties", {}))
        if "$ref" in schema:
            key = urljoin(uri, schema["$ref"])
            if key not in seen:
                if key not in self._known_cache:
                    target_uri, target = self._resolve(uri, schema["$ref"])
                    self._known_cache[key] = self._known(target_uri, target, seen | {key})
                found = self._known_cache[key]
                if found is None:
                    return None
                names |= found
        for part in schema.get("allOf", []):
            found = self._known(uri, part, seen)
            if found is None:
                return None
            names |= found
        for branch in schema.get("anyOf", []) + schema.get("oneOf", []):
            found = None if self._open_object(uri, branch, seen) else self._known(uri, branch, seen)
            if found is None:
                return None
            names |= found
        return frozenset(names)

    def _open_object(self, uri: str, schema: Any, seen: frozenset[str]) -> bool:
        """Whether a branch accepts an object with any properties at all."""
        if not isinstance(schema, dict):
            return schema is True
        if "$ref" in schema:
            key = urljoin(uri, schema["$ref"])
            if key in seen:
                return False
            target_uri, target = self._resolve(uri, schema["$ref"])
            return self._open_object(target_uri, target, seen | {key})
        if schema.get("additionalProperties") is True:
            return True
        keywords = {k for k in schema if not k.startswith("x-")} - _ANNOTATIONS
        if not keywords:
            return True
        return (
            keywords <= {"type", "minProperties", "maxProperties"}
            and schema.get("type", "object") == "object"
        )
