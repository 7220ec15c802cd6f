"""The auditor's view of the tamper-evident log (docs/audit.md): the latest signed checkpoint,
inclusion proofs of stored events and consistency proofs between tree sizes. Auditors only."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.params import FromQuery, QueryParameter

from api.auth import roles
from api.deps import Injected
from api.openapi import FOUND_OR_NOT, GUARDED, QUERY, documented
from domain.actor import Role
from projections.audit.proofs import (
    AuditProofs,
    ConsistencyProof,
    InclusionProof,
    SignedCheckpoint,
)


class AuditController(Controller):
    path = "/v1/audit"
    tags = ["audit"]
    guards = [roles(Role.AUDITOR)]

    @get(
        "/checkpoints/latest",
        sync_to_thread=True,
        summary="The latest signed checkpoint of the event log",
        **documented("getLatestCheckpoint", *GUARDED, *FOUND_OR_NOT),
    )
    def latest(self, audit: Injected[AuditProofs]) -> SignedCheckpoint:
        """The C2SP signed note verbatim, and its origin, tree size and root hash (base64).
        404 before the first checkpoint is signed."""
        return audit.latest()

    @get(
        "/proofs/inclusion",
        sync_to_thread=True,
        summary="Inclusion proof of a stored event in a signed tree",
        **documented("getInclusionProof", *QUERY, *GUARDED, *FOUND_OR_NOT),
    )
    def inclusion(
        self,
        audit: Injected[AuditProofs],
        log_position: Annotated[int | None, QueryParameter(name="position")] = None,
        size: FromQuery[int | None] = None,
        aggregate_id: FromQuery[UUID | None] = None,
        version: FromQuery[int | None] = None,
    ) -> InclusionProof:
        """The event at log `position` (or the event `version` of `aggregate_id`), its leaf
        hash and RFC 6962 audit path in the tree of `size` leaves (default: the latest signed
        checkpoint's size; a larger size is a 422 naming it)."""
        return audit.inclusion(log_position, size, aggregate_id, version)

    @get(
        "/proofs/consistency",
        sync_to_thread=True,
        summary="Consistency proof between two tree sizes",
        **documented("getConsistencyProof", *QUERY, *GUARDED, *FOUND_OR_NOT),
    )
    def consistency(
        self,
        audit: Injected[AuditProofs],
        from_size: Annotated[int, QueryParameter(name="from")],
        to_size: Annotated[int | None, QueryParameter(name="to")] = None,
    ) -> ConsistencyProof:
        """The RFC 6962 proof that the tree of `from` leaves is a prefix of the tree of `to`
        leaves (default: the latest signed checkpoint's size)."""
        return audit.consistency(from_size, to_size)
