"""What every local Twilio of the tests' own shares: a vendored OpenAPI description of one of
Twilio's APIs that each request is checked against (the path and method must be described,
path parameters must match their schema, the form body must hold only described parameters,
each value of its described type, format and enum, every required one present), answers checked
against the described response schema before they are sent, and an HTTP server that answers
refusals the way Twilio does (`{"code", "message", "more_info", "status"}`)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qs

import jsonschema
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator

from tests.contracts.local_server import serving

FORM = "application/x-www-form-urlencoded"
E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
FORMATS = jsonschema.FormatChecker(())


@FORMATS.checks("phone-number")
def _phone_number(value: object) -> bool:
    # Twilio's `phone-number` fields take E.164, or a channel address (`whatsapp:+1555...`).
    if not isinstance(value, str):
        return True
    return bool(E164.match(value.removeprefix("whatsapp:")))


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    return not isinstance(value, str) or bool(re.match(r"^https?://[^\s/]+", value))


class RefusedError(Exception):
    def __init__(self, status: int, message: str, code: int = 20001) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def _coerce(value: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind in ("integer", "number"):
        try:
            return int(value) if kind == "integer" else float(value)
        except ValueError:
            return value  # left as text: the schema check refuses it
    if kind == "boolean":
        return {"true": True, "false": False}.get(value, value)
    if kind == "object":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _template(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{[^}]+\}", "([^/]+)", path) + "$")


class Described:
    """One vendored OpenAPI document of Twilio's, `name` for the refusals' wording."""

    def __init__(self, path: Path, name: str) -> None:
        self.spec: dict[str, Any] = json.loads(path.read_text())
        self.name = name
        self._routes: list[tuple[re.Pattern[str], str]] = [
            (_template(p), p) for p in self.spec["paths"]
        ]
        self._validators: dict[int, Validator] = {}  # by the described node's id

    def validator(self, node: Any, *, form: bool = False) -> Validator:
        """A validator of the described schema `node`, resolved and checked once. For a `form`
        body, the parameters Twilio describes as `object` are JSON-encoded text of any shape
        (RecordingRules' `Rules` is "a JSON-encoded array"): their type is left to the request
        check, which refuses text that is not JSON."""
        found = self._validators.get(id(node))
        if found is None:
            schema = self.resolve(node)
            if form:
                schema = _json_encoded_untyped(schema)
            kind = jsonschema.validators.validator_for(schema)
            kind.check_schema(schema)
            found = self._validators[id(node)] = kind(schema, format_checker=FORMATS)
        return found

    def resolve(self, node: Any) -> Any:
        """`node` with every `$ref` inlined and OpenAPI 3.0's `nullable` as JSON Schema's null."""
        if isinstance(node, dict):
            if "$ref" in node:
                name = node["$ref"].rsplit("/", 1)[1]
                return self.resolve(self.spec["components"]["schemas"][name])
            out = {key: self.resolve(value) for key, value in node.items() if key != "nullable"}
            if node.get("nullable") and "type" in out:
                out["type"] = [out["type"], "null"]
                if "enum" in out:
                    out["enum"] = [*out["enum"], None]
            return out
        if isinstance(node, list):
            return [self.resolve(item) for item in node]
        return node

    def check_request(self, method: str, path: str, content_type: str | None, body: bytes) -> str:
        """The described path template of a valid request; raises `RefusedError` otherwise."""
        found = next(((p, t) for p, t in self._routes if p.match(path)), None)
        if found is None:
            raise RefusedError(404, f"{path} is not in {self.name}", 20404)
        pattern, template = found
        operation = self.spec["paths"][template].get(method.lower())
        if operation is None:
            raise RefusedError(405, f"{method} {template} is not described")
        match = pattern.match(path)
        assert match is not None
        self._check_path(operation, template, match.groups())
        described = operation.get("requestBody", {}).get("content", {})
        if not described:
            if body:
                raise RefusedError(400, f"{method} {template} takes no body")
            return template
        kind = (content_type or "").split(";")[0].strip()
        if kind != FORM or FORM not in described:
            raise RefusedError(400, f"{method} {template} takes {FORM}")
        validator = self.validator(described[FORM]["schema"], form=True)
        schema: Any = validator.schema
        properties: dict[str, Any] = schema.get("properties", {})
        form = parse_qs(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
        unknown = set(form) - set(properties)
        if unknown:
            raise RefusedError(400, f"parameters not described: {sorted(unknown)}")
        values: dict[str, Any] = {}
        for name, given in form.items():
            prop = properties[name]
            if prop.get(JSON_ENCODED):
                try:
                    json.loads(given[0])
                except ValueError:
                    raise RefusedError(400, f"{name} is not JSON") from None
            if prop.get("type") == "array":
                values[name] = [_coerce(v, prop.get("items", {})) for v in given]
            elif len(given) != 1:
                raise RefusedError(400, f"{name} is given {len(given)} times")
            else:
                values[name] = _coerce(given[0], prop)
        _validate(values, validator)
        return template

    def _check_path(
        self, operation: dict[str, Any], template: str, values: tuple[str, ...]
    ) -> None:
        given = dict(zip(re.findall(r"\{([^}]+)\}", template), values, strict=True))
        for parameter in operation.get("parameters", []):
            if parameter.get("in") == "path" and parameter["name"] in given:
                _validate(given[parameter["name"]], self.validator(parameter["schema"]))

    def check_response(self, template: str, method: str, status: int, payload: Any) -> None:
        responses = self.spec["paths"][template][method.lower()]["responses"]
        described = responses.get(str(status))
        if described is None:
            raise AssertionError(f"{status} is not a described answer of {method} {template}")
        content = described.get("content", {}).get("application/json")
        if content is not None:
            error = best_match(self.validator(content["schema"]).iter_errors(payload))
            if error is not None:
                raise error


JSON_ENCODED = "x-json-encoded"


def _json_encoded_untyped(schema: dict[str, Any]) -> dict[str, Any]:
    properties = {
        name: {**{k: v for k, v in prop.items() if k != "type"}, JSON_ENCODED: True}
        if prop.get("type") == "object"
        else prop
        for name, prop in schema.get("properties", {}).items()
    }
    return {**schema, "properties": properties}


def _validate(value: Any, validator: Validator) -> None:
    error = best_match(validator.iter_errors(value))
    if error is not None:
        where = "/".join(map(str, error.path)) or "body"
        raise RefusedError(400, f"{where}: {error.message}")


class Fake(Protocol):
    """A local Twilio API: `handle(method, target, lower-cased headers, body)` answers
    `(status, payload)` or raises `RefusedError`."""

    base_url: str
    refusals: list[str]

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]: ...


F = TypeVar("F", bound=Fake)


@contextmanager
def twilio_serving(fake: F) -> Iterator[F]:
    """Serve `fake` until the `with` ends, answering its `RefusedError`s as Twilio answers
    errors and noting each refusal's message in `fake.refusals`; sets `fake.base_url`."""
    handle, refusals = fake.handle, fake.refusals

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {key.lower(): value for key, value in self.headers.items()}
            try:
                status, payload = handle(self.command, self.path, headers, body)
            except AssertionError as fault:  # the fake's own answer broke the description
                refusals.append(f"fake answered wrongly: {fault}")
                status, payload = 500, {"code": 20500, "message": "fake", "status": 500}
            except RefusedError as refused:
                refusals.append(refused.message)
                status = refused.status
                payload = {
                    "code": refused.code,
                    "message": refused.message,
                    "more_info": f"https://www.twilio.com/docs/errors/{refused.code}",
                    "status": refused.status,
                }
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _serve  # noqa: N815 - http.server's names

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serving(Handler) as url:
        fake.base_url = url
        yield fake
