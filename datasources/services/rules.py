"""Cross-field rules for a data source, applied to its complete state before every write.

The state is a dict of model field values (``credentials`` a dict, ``workspace_id``
an id). Each rule raises ``ValidationError({field: [message]})``; ``apply_rules``
collects them all so that a person sees every problem at once.
"""
import re

from django.core.exceptions import ValidationError

from datasources.connectors import connector_for
from datasources.models import StoredFile
from datasources.security.connection_strings import parse_connection_string
from datasources.security import network
from datasources.security.host_keys import pinned_fingerprint
from datasources.security.secret_refs import REF_KEY, ReferenceRefused, check_reference, is_reference
from datasources.security.tls import CLIENT_KEY, check_client_pair
from rivergen.errors import ConnectorError

FILE_PATH = re.compile(r"^organizations/(?P<org>\d+)/files/(?P<file>\d+)/(?P<filename>[^/]+)$")
SSH_FIELDS = ("ssh_host", "ssh_port", "ssh_username", "ssh_local_port")
# Credentials sent as HTTP header values (or, api_key_header, as the header's name): anything but
# visible ASCII fails every later test with a UnicodeEncodeError, so it is refused when saved.
VISIBLE_ASCII = re.compile(r"[!-~]*")
HEADER_NAME = re.compile(r"[A-Za-z0-9-]{0,64}")
HEADER_CREDENTIALS = {"api_key": VISIBLE_ASCII, "oauth_token": VISIBLE_ASCII, "api_key_header": HEADER_NAME}
HEADER_MESSAGES = {
    VISIBLE_ASCII: "must be visible ASCII characters (no spaces, no accents): it is sent in an HTTP header.",
    HEADER_NAME: "must be an HTTP header name: up to 64 ASCII letters, digits and hyphens.",
}


def check_credentials(state):
    connector = connector_for(state["type"])
    accepted = connector.accepted_credential_keys()
    unknown = sorted(set(state["credentials"]) - set(accepted))
    if unknown:
        raise ValidationError({"credentials": [
            f"Unknown key(s) for {state['type']} sources: {', '.join(unknown)}. "
            f"Accepted: {', '.join(accepted)}."
        ]})
    state["credentials"] = {k: v for k, v in state["credentials"].items() if v is not None}
    for key, pattern in HEADER_CREDENTIALS.items():
        value = state["credentials"].get(key)
        if isinstance(value, str) and not pattern.fullmatch(value):
            raise ValidationError({"credentials": [f"{key} {HEADER_MESSAGES[pattern]}"]})
    pinned = state["credentials"].get("ssh_host_key")
    if pinned is not None and (not isinstance(pinned, str) or pinned_fingerprint(pinned) is None):
        raise ValidationError({"credentials": [
            "ssh_host_key must be an OpenSSH public key line (ssh-ed25519 AAAA…) "
            "or a fingerprint like SHA256:… (ssh-keygen -lf)."
        ]})


def check_connection_string(state):
    value = state.get("connection_string")
    if not value:
        return
    connector = connector_for(state["type"])
    parsed = parse_connection_string(value, connector.schemes, state["type"])
    for field in ("host", "port", "database_name"):
        if state.get(field) in (None, ""):
            state[field] = getattr(parsed, field)


def check_required(state):
    connector = connector_for(state["type"])
    if not connector.required:
        return
    if any(all(state.get(f) not in (None, "") for f in option) for option in connector.required):
        return
    first, *others = connector.required
    alternative = " or ".join(", ".join(option) for option in others)
    suffix = f" unless {alternative} is given" if alternative else ""
    raise ValidationError({
        field: [f"This field is required for {state['type']} sources{suffix}."]
        for field in first if state.get(field) in (None, "")
    })


def check_file_path(state, organization):
    path = state.get("file_path")
    if path is None:
        return
    match = FILE_PATH.match(path)
    if not match:
        raise ValidationError({"file_path": [
            "Must be a storage path like organizations/1/files/1/file.csv "
            "(the 'name' returned by POST /api/v1/storage/files)."
        ]})
    exists = StoredFile.objects.filter(name=path, organization=organization).exists()
    if not exists or int(match["org"]) != organization.pk:
        raise ValidationError({"file_path": ["No stored file exists at this path in your organization."]})


def check_ssh(state):
    if not state.get("use_ssh_tunnel"):
        for field in SSH_FIELDS:
            state[field] = None
        return
    if state.get("ssh_port") is None:
        state["ssh_port"] = 22
    errors = {
        field: ["This field is required when use_ssh_tunnel is true."]
        for field in ("ssh_host", "ssh_username") if not state.get(field)
    }
    credentials = state["credentials"]
    if not (credentials.get("ssh_private_key") or credentials.get("ssh_password")):
        errors["credentials"] = ["An SSH tunnel needs credentials.ssh_private_key or credentials.ssh_password."]
    if errors:
        raise ValidationError(errors)


def check_destinations(state):
    """Destinations are judged when saved, as webhooks are (``network.destination_refusal``): a
    host the policy refuses is a 400 naming DATASOURCES_NETWORK_POLICY, not a later failed test.
    Behind a tunnel the SSH server is the destination; the host behind it only meets the rules
    every policy shares (the SSH server resolves it)."""
    connector = connector_for(state["type"])
    if connector.family == "files":
        return
    errors = {}
    if state.get("use_ssh_tunnel"):
        if state.get("ssh_host"):
            reason = network.destination_refusal(state["ssh_host"], state.get("ssh_port") or 22)
            if reason:
                errors["ssh_host"] = [reason]
        if state.get("host"):
            try:
                network.check_tunnel_target(state["host"])
            except ConnectorError as exc:
                errors["host"] = [exc.message]
    elif state.get("host"):
        reason = network.destination_refusal(state["host"], state.get("port") or connector.default_port or 443)
        if reason:
            errors["host"] = [reason]
    if errors:
        raise ValidationError(errors)


def check_tls(state):
    connector = connector_for(state["type"])
    tls = state.get("tls")
    if tls is not None and not connector.tls_modes:
        raise ValidationError({"tls": [f"{state['type']} sources do not connect over TLS: tls must be null."]})
    if tls is not None and tls["mode"] not in connector.tls_modes:
        raise ValidationError({"tls.mode": [
            f"{state['type']} sources accept the mode(s): {', '.join(connector.tls_modes)}."]})
    check_client_pair(tls, state["credentials"].get(CLIENT_KEY))


def check_secret_references(state, organization):
    """References are checked when saved (provider on, inside the organization's namespace), never
    resolved: the secret is read only when a connection is made."""
    problems = []
    for key, value in state["credentials"].items():
        if is_reference(value):
            try:
                check_reference(value[REF_KEY], organization.pk)
            except ReferenceRefused as exc:
                problems.append(f"{key}: {exc}")
    if problems:
        raise ValidationError({"credentials": problems})


def apply_rules(state, organization):
    """Check and normalise ``state`` in place; raise one ValidationError with every problem."""
    errors = {}
    for rule in (check_credentials, check_connection_string, check_required, check_ssh, check_destinations, check_tls):
        if (rule is check_required and "connection_string" in errors) or (rule is check_tls and "credentials" in errors):
            continue  # "required unless connection_string" would only repeat the real problem
        try:
            rule(state)
        except ValidationError as exc:
            _merge(errors, exc.message_dict)
    for rule in (check_file_path, check_secret_references):
        try:
            rule(state, organization)
        except ValidationError as exc:
            _merge(errors, exc.message_dict)
    if errors:
        raise ValidationError(errors)


def _merge(errors, new):
    for field, messages in new.items():
        errors.setdefault(field, []).extend(messages)
