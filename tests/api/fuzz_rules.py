"""The one list of what the fuzz test (test_fuzz.py) does not hold against the API, with reasons.

schemathesis loads this module as its hooks (``SCHEMATHESIS_HOOKS``). Besides what is listed here,
only the coverage phase is narrowed: it skips the one-schema-per-type bodies (create, update,
unsaved test), whose every branch would be thousands of cases; they keep the fuzzing phase.
"""
import re

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

from datasources.connectors import CONNECTORS

# Rules that no OpenAPI schema can express. A schema-valid request refused with a 400 whose
# details name only these fields is the rule at work, not a contract failure; a 400 naming any
# other field still fails the run.
UNEXPRESSIBLE = {
    "file_path": "must name a file already stored in the caller's organization (POST /storage/files)",
    "workspace_id": "must be a workspace of the caller's organization, which the schema cannot list",
    "connection_string": "must parse as a URL of the type's schemes (hosts, ports, escapes)",
    "credentials": (
        "an SSH tunnel needs credentials.ssh_private_key or ssh_password; ssh_host_key must be a key "
        "line or fingerprint; a stored secret is not re-bound to a new host unless re-entered"
    ),
    "ssh_host": "required when use_ssh_tunnel is true (a rule across fields)",
    "ssh_username": "required when use_ssh_tunnel is true (a rule across fields)",
    "metadata": "at most 16 KiB once serialised as JSON",
    "tls": "PEM text must parse as X.509 certificates",
    "tls.mode": "the modes a type accepts differ by type (verified HTTPS only for warehouses and clouds)",
    "tls.client_certificate": "a client certificate goes with credentials.tls_client_key (a rule across fields)",
    "credentials.tls_client_key": "the key must be a PEM private key matching tls.client_certificate",
    "file": "a multipart part must be an actual file, which a generated string field is not",
    "url": "a webhook URL must resolve, to an address the network policy allows, with a valid port",
    "workspace_ids": "an API key's workspaces must be workspaces of its organization",
    "organization_id": "must be an organization the caller administers, which the schema cannot list",
    "workspace": "a bundle names a workspace of the caller's organization, which the schema cannot list",
    "name": "the names in one bundle must differ, compared trimmed and case-insensitively",
    "host": "must not resolve to an address the network policy refuses (checked when saved)",
}
# An Idempotency-Key the fuzzer sends again answers for the request that first used it (a replay,
# 422 for another body, 409 while that one runs): state across requests that no schema expresses.
IDEMPOTENCY_CODES = {"IDEMPOTENCY_KEY_REUSED", "IDEMPOTENCY_KEY_IN_USE"}
# The schemas leave additional properties open (a per-type body omits fields other types have, and
# the server accepts them), but an unknown top-level key of a source body is a 400 saying so.
UNKNOWN_KEY = "Unknown field."
# A bundle's entries are checked with the rules of their type (one schema for every type in the
# bundle's documentation); their errors are keyed data_sources[i].<field>.
BUNDLE_ENTRY = re.compile(r"^data_sources\[\d+\]\.?")

# A PATCH body does not name the type: it is checked against the stored source's, so clearing a
# field that type requires (host of a postgresql source, file_path of a csv one) is a 400 that
# the PATCH schema, common to every type, cannot foresee.
REQUIRED_BY_SOME_TYPE = {
    field for connector in CONNECTORS.values() for option in connector.required for field in option
}

# Generation: no NUL bytes in generated text. Every text field refuses NUL with a 400 (PostgreSQL
# cannot store it), a rule the schema does not spell out on each body string. NUL in query
# parameters and upload headers, where it once caused 500s, is covered by test_contract_inputs.py.
ALLOW_X00 = False

# (method, path) -> {check: reason}: checks switched off for one operation. Kept empty on purpose.
EXEMPT: dict[tuple[str, str], dict[str, str]] = {}


@schemathesis.hook
def filter_body(ctx, body):
    """Drop generated multipart bodies holding an empty list: such a field sends no part at all,
    so the request that arrives is a valid one and "invalid data accepted" would be a false alarm."""
    multipart = ctx.operation is not None and any(
        media.media_type.startswith("multipart/") for media in ctx.operation.body
    )
    return not (multipart and isinstance(body, dict) and any(value == [] for value in body.values()))


def _error(response) -> dict:
    try:
        return response.json()["error"] or {}
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}


def _error_fields(response) -> set | None:
    """The fields a 400 names, less the unknown keys it refuses (see UNKNOWN_KEY); None without details."""
    details = _error(response).get("details")
    if not isinstance(details, dict) or not details:
        return None
    return {field for field, messages in details.items()
            if not (isinstance(messages, list) and messages and str(messages[0]).startswith(UNKNOWN_KEY))}


@schemathesis.check
def positive_data_acceptance_within_rules(ctx, response, case):
    """``positive_data_acceptance``, except for a 400 that names only rules listed in UNEXPRESSIBLE."""
    meta = case.meta
    if response.headers.get("idempotent-replayed") == ["true"] or _error(response).get("code") in IDEMPOTENCY_CODES:
        return None
    if meta is not None and meta.generation.mode.is_positive and response.status_code == 400:
        bundle = case.path.endswith("/apply")
        allowed = set(UNEXPRESSIBLE) | (REQUIRED_BY_SOME_TYPE if case.method.upper() == "PATCH" or bundle else set())
        fields = _error_fields(response)
        fields = None if fields is None else {BUNDLE_ENTRY.sub("", f).split(".")[0] or "entry" for f in fields}
        if fields is not None and fields <= allowed:
            return None
    return positive_data_acceptance(ctx, response, case)
