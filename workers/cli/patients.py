"""`slotwise patients erase ID --reason CODE` and `slotwise patients legal-hold ID ...`: the
staff actions on a patient's records, for an operator at the console (the same commands as
`POST /v1/patients/{id}/erase` and `/legal-hold`)."""

from __future__ import annotations

import argparse
import sys
import uuid
from typing import Any

from commands.context import CommandContext
from commands.directory.messages import ErasePatient, SetLegalHold
from domain.actor import Actor, Role
from domain.errors import DomainError
from domain.patient import ErasureReason
from infra import bootstrap
from workers.cli.process import say, settings

# The staff identity recorded on events when no --operator is given.
CONSOLE_OPERATOR = uuid.uuid5(uuid.NAMESPACE_URL, "slotwise:console-operator")


def register(commands: Any) -> None:
    patients = commands.add_parser("patients", help="a patient's erasure and legal hold")
    tasks = patients.add_subparsers(dest="task", required=True)
    erase = tasks.add_parser("erase", help="erase the patient's personal data everywhere")
    erase.add_argument("patient_id", type=uuid.UUID)
    erase.add_argument("--reason", required=True, choices=[r.value for r in ErasureReason])
    erase.set_defaults(func=cmd_erase)
    hold = tasks.add_parser("legal-hold", help="set or release a legal hold (blocks erasure)")
    hold.add_argument("patient_id", type=uuid.UUID)
    which = hold.add_mutually_exclusive_group(required=True)
    which.add_argument("--set", dest="held", action="store_true")
    which.add_argument("--release", dest="held", action="store_false")
    hold.add_argument("--reason", default="", help="why the records are held (with --set)")
    hold.set_defaults(func=cmd_legal_hold)
    for task in (erase, hold):
        task.add_argument("--operator", type=uuid.UUID, default=CONSOLE_OPERATOR)


def _staff(args: argparse.Namespace) -> CommandContext:
    return CommandContext(Actor(args.operator, Role.STAFF))


def cmd_erase(args: argparse.Namespace) -> None:
    cmd = ErasePatient(patient_id=args.patient_id, reason=ErasureReason(args.reason))
    with bootstrap.commands(settings(), say) as app:
        try:
            result = app.erase_patient(cmd, _staff(args))
        except DomainError as refused:
            sys.exit(f"slotwise: {refused}")
    say(f"patient {args.patient_id} erased (log position {result.position})")


def cmd_legal_hold(args: argparse.Namespace) -> None:
    cmd = SetLegalHold(patient_id=args.patient_id, held=args.held, reason=args.reason)
    with bootstrap.commands(settings(), say) as app:
        try:
            result = app.set_legal_hold(cmd, _staff(args))
        except DomainError as refused:
            sys.exit(f"slotwise: {refused}")
    state = "set" if args.held else "released"
    say(f"legal hold {state} on patient {args.patient_id} (log position {result.position})")
