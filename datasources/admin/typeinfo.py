"""What the source form shows for each type, derived from the types catalogue (``type_registry``).

The catalogue says which configuration fields and credential keys a type accepts; this module
only narrows that to what a person filling the form needs (a CSV source has no host) and gives
each credential key a human label. The browser gets the same data as JSON (``form_layout``).
"""
from functools import cache

from datasources.services.types import type_registry

CONNECTION_FIELDS = ("host", "port", "database_name", "schema_name", "connection_string", "file_path")
SSH_FIELDS = ("use_ssh_tunnel", "ssh_host", "ssh_port", "ssh_username", "ssh_local_port")
SSH_CREDENTIALS = ("ssh_private_key", "ssh_passphrase", "ssh_password", "ssh_host_key")
# The connection fields a family's form shows (further limited to what the type accepts).
FAMILY_FIELDS = {
    "sql": ("host", "port", "database_name", "schema_name", "connection_string"),
    "nosql": ("host", "port", "database_name", "connection_string"),
    "files": ("file_path",),
    "http": ("host", "port", "connection_string"),
    "other": CONNECTION_FIELDS,
}
# The credentials a family's form shows; a type's own declared keys are added (or, for types whose
# own keys replace a login, shown alone).
FAMILY_CREDENTIALS = {
    "sql": ("username", "password"),
    "nosql": ("username", "password"),
    "files": (),
    "http": ("api_key", "oauth_token", "username", "password"),
    "other": ("username", "password", "api_key", "oauth_token"),
}
EXTRA_CREDENTIALS = {"snowflake": ("warehouse", "role"), "elasticsearch": ("api_key",)}
OWN_KEYS_ONLY = ("bigquery", "dynamodb")

CREDENTIAL_LABELS = {
    "username": "Username",
    "password": "Password",
    "api_key": "API key",
    "oauth_token": "OAuth token",
    "ssh_private_key": "SSH private key",
    "ssh_passphrase": "SSH key passphrase",
    "ssh_password": "SSH password",
    "ssh_host_key": "SSH host key (public key line or SHA256 fingerprint)",
    "warehouse": "Warehouse",
    "role": "Role",
    "service_account_json": "Service account JSON",
    "aws_access_key_id": "AWS access key ID",
    "aws_secret_access_key": "AWS secret access key",
    "aws_session_token": "AWS session token",
    "region": "AWS region",
    "api_key_header": "API key header (default X-API-Key)",
}


def credential_label(key: str) -> str:
    return CREDENTIAL_LABELS.get(key, key.replace("_", " ").capitalize())


@cache
def form_layout() -> dict:
    """Per type: label, default port, connection fields, credential keys, and whether SSH applies."""
    return {entry["type"]: _layout(entry) for entry in type_registry()}


def _layout(entry: dict) -> dict:
    accepted = entry["configuration_schema"]["properties"]
    keys = [k["name"] for k in entry["credential_keys"]]
    own = [k for k in keys if k not in _base_keys()]
    if entry["type"] in OWN_KEYS_ONLY:
        shown = own
    else:
        shown = [*FAMILY_CREDENTIALS[entry["family"]], *EXTRA_CREDENTIALS.get(entry["type"], ()), *own]
    return {
        "label": entry["label"],
        "family": entry["family"],
        "default_port": entry["default_port"],
        "fields": [f for f in FAMILY_FIELDS[entry["family"]] if f in accepted],
        "credentials": [k for k in dict.fromkeys(shown) if k in keys and k not in SSH_CREDENTIALS],
        "ssh": "use_ssh_tunnel" in accepted,
    }


@cache
def _base_keys() -> frozenset:
    """Keys every type accepts (the spec's and the tunnel's): not a type's own."""
    sets = [{k["name"] for k in entry["credential_keys"]} for entry in type_registry()]
    return frozenset(set.intersection(*sets))
