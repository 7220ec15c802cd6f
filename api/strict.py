"""Strict request bodies: msgspec decodes the raw JSON straight into the schema, so a string
is never coerced into a number and unknown fields are refused (Litestar's default is lax); the
OpenAPI document says so, with `additionalProperties: false` on every such schema."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.dto import MsgspecDTO
from litestar.exceptions import ValidationException
from litestar.openapi.spec import Schema
from litestar.typing import FieldDefinition

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.openapi.spec import Reference

from domain.limits import MAX_DEPTH

T = TypeVar("T", bound=msgspec.Struct)
TIME_OF_DAY = r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"


class StrictBody(MsgspecDTO[T], Generic[T]):
    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: SchemaCreator
    ) -> Reference | Schema:
        # Document the Struct the body is decoded into, with its constraints, rather than the
        # DTO's transfer model, which drops some of them (list lengths, string lengths).
        return schema_creator.for_field_definition(FieldDefinition.from_annotation(cls.model_type))

    def decode_bytes(self, value: bytes) -> Any:
        try:
            return msgspec.json.decode(value or b"null", type=self.model_type, strict=True)
        except msgspec.ValidationError as error:
            raise ValidationException(detail=str(error)) from None
        except msgspec.DecodeError as error:
            raise ValidationException(detail=f"the body is not valid JSON: {error}") from None
        except RecursionError:
            # A small body can nest thousands of levels deep; the domain allows far fewer.
            msg = f"the body nests too deeply (free-form fields such as vitals: {MAX_DEPTH} levels)"
            raise ValidationException(detail=msg) from None


class StrictStructSchema(StructSchemaPlugin):
    """Litestar's schema of a msgspec Struct, corrected to say what the API accepts, so a client
    (or a generator such as schemathesis) sends what reaches the logic: closed
    (`additionalProperties: false`) when the Struct forbids unknown fields, since an extra field
    is refused rather than ignored; and a time of day as `HH:MM:SS`, which Litestar documents as
    an ISO 8601 duration. Litestar picks app plugins before its own, so this one replaces the
    built-in (private) plugin it extends."""

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        info = msgspec.inspect.type_info(field_definition.type_)
        if not isinstance(info, msgspec.inspect.StructType):
            return schema
        if info.forbid_unknown_fields:
            schema.additional_properties = False
        for field in info.fields:
            documented = (schema.properties or {}).get(field.encode_name)
            if isinstance(field.type, msgspec.inspect.TimeType) and isinstance(documented, Schema):
                documented.format = None
                documented.pattern = TIME_OF_DAY
                documented.description = "A wall-clock time, HH:MM:SS"
        return schema
