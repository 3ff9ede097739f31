"""Helpers for management commands: JSON out, clean errors, secrets from stdin."""
import json
import sys

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from rest_framework.exceptions import ValidationError as DRFValidationError

from rivergen.errors import ConflictError
from rivergen.request_context import request_context


def print_json(command, payload):
    command.stdout.write(json.dumps(payload, indent=2, default=str))


def error_details(exc) -> dict:
    if isinstance(exc, DRFValidationError):
        detail = exc.detail
        return detail if isinstance(detail, dict) else {"non_field_errors": detail}
    if hasattr(exc, "error_dict"):
        return exc.message_dict
    return {"non_field_errors": exc.messages}


def as_command_error(exc) -> CommandError:
    """A CommandError with a readable, secret-free message for an expected failure."""
    if isinstance(exc, ConflictError):
        return CommandError(f"Conflict: {exc}")
    if isinstance(exc, PermissionDenied):
        return CommandError(f"Forbidden: {exc}")
    if isinstance(exc, (ValidationError, DRFValidationError)):
        lines = [f"  {field}: {_flatten(messages)}" for field, messages in error_details(exc).items()]
        return CommandError("Invalid input:\n" + "\n".join(lines))
    raise exc


def _flatten(messages):
    if isinstance(messages, dict):
        return "; ".join(f"{k}: {_flatten(v)}" for k, v in messages.items())
    if isinstance(messages, (list, tuple)):
        return " ".join(str(m) for m in messages)
    return str(messages)


def read_secret_stdin(stdin=None) -> str:
    stream = stdin or sys.stdin
    value = stream.read()
    return value[:-1] if value.endswith("\n") else value


EXPECTED_ERRORS = (ValidationError, DRFValidationError, ConflictError, PermissionDenied)


class CliCommand(BaseCommand):
    """A command whose writes the audit log shows as ``via: cli``, with one request id per run."""

    def execute(self, *args, **options):
        with request_context(via="cli"):
            return super().execute(*args, **options)
