"""Putting a service's errors on a form's fields, so that one save shows every problem at once."""
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework import serializers

from datasources.admin.tls_fields import part_label
from rivergen.commands import error_details
from rivergen.errors import ConflictError, PayloadTooLarge

# Where an API field's errors show on the source form.
FIELD_ALIASES = {"workspace_id": "workspace", "file": "upload_file", "non_field_errors": None, "__all__": None}
SERVICE_ERRORS = (ConflictError, PayloadTooLarge, PermissionDenied, ValidationError, serializers.ValidationError)


def credential_field_name(key: str) -> str:
    return f"credential_{key}"


def service_error_details(exc) -> dict:
    """{field: [messages]} of an exception a service raised (one of ``SERVICE_ERRORS``)."""
    if isinstance(exc, ConflictError):
        return {"name": [str(exc)]}
    if isinstance(exc, PayloadTooLarge):
        return {"file": [str(exc)]}
    if isinstance(exc, PermissionDenied):
        return {"non_field_errors": [str(exc) or "You may not change data sources in this organization."]}
    return error_details(exc)


def form_details(details: dict) -> dict:
    """``details`` with a part of ``tls`` (``tls.mode``, or nested) on the tls field, named by its
    label, and ``credentials.<key>`` as a credential's."""
    found = {}
    for field, messages in details.items():
        top, _, part = field.partition(".")
        if top == "credentials" and part:
            field, messages = "credentials", {part: messages}
        elif top == "tls" and (part or isinstance(messages, dict)):
            parts = {part: messages} if part else messages
            field, messages = "tls", [f"{part_label(key)}: {message}"
                                      for key, values in parts.items() for message in _as_list(values)]
        before = found.get(field)
        if before is None:
            found[field] = messages
        elif isinstance(before, dict) and isinstance(messages, dict):
            found[field] = {key: [*_as_list(before.get(key, [])), *_as_list(messages.get(key, []))]
                            for key in {**before, **messages}}
        else:
            found[field] = [*_as_list(before), *_as_list(messages)]
    return found


def tls_parts(details: dict) -> set:
    """The parts of ``tls`` (``mode``, ``ca_certificate``, ``client_certificate``) that ``details`` name."""
    parts = set()
    for field, messages in details.items():
        top, _, part = field.partition(".")
        if top == "tls":
            parts.update([part] if part else messages if isinstance(messages, dict) else ["mode"])
    return parts


def add_service_errors(form, details: dict) -> None:
    """Add ``details`` to ``form``; a field that already has an error keeps only its own."""
    already = set(form.errors)
    if "tls" in form.fields:  # the tls field's inputs with a problem are the ones outlined
        form.fields["tls"].widget.invalid = tls_parts(details)
    for field, messages in form_details(details).items():
        if field == "credentials" and isinstance(messages, dict):
            for key, key_messages in messages.items():
                _add(form, credential_field_name(key), key_messages, already)
            continue
        _add(form, field, messages, already)


def flat_errors(details: dict) -> dict:
    """The same details, keyed by the form's field names (for the JSON the test button reads)."""
    flat = {}
    for field, messages in form_details(details).items():
        if field == "credentials" and isinstance(messages, dict):
            for key, key_messages in messages.items():
                flat[credential_field_name(key)] = _as_list(key_messages)
            continue
        flat[FIELD_ALIASES.get(field, field) or "__all__"] = _as_list(messages)
    return flat


def _add(form, field, messages, already):
    target = FIELD_ALIASES.get(field, field)
    if target is not None and target not in form.fields:
        target = None
    if target in already:
        return
    prefix = f"{field}: " if target is None and field not in FIELD_ALIASES else ""
    for message in _as_list(messages):
        form.add_error(target, f"{prefix}{message}")


def _as_list(messages) -> list:
    if isinstance(messages, dict):
        return [f"{key}: {value}" for key, values in messages.items() for value in _as_list(values)]
    return [str(m) for m in messages] if isinstance(messages, (list, tuple)) else [str(messages)]
