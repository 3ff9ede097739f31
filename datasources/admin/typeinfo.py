"""What the source form shows for each type: the connectors declare it, the type registry says
what a type accepts (``type_registry``), and this module joins the two. The browser gets the
same data as JSON (``form_layout``).
"""
from functools import cache

from datasources.connectors import CONNECTORS
from datasources.connectors.base import SPEC_CREDENTIAL_LABELS, Connector
from datasources.services.types import SSH_FIELDS, type_registry

CONNECTION_FIELDS = Connector.form_fields
SSH_CREDENTIALS = ("ssh_private_key", "ssh_passphrase", "ssh_password", "ssh_host_key")
TLS_CREDENTIALS = ("tls_client_key",)
CREDENTIAL_LABELS = {
    **{key: label for connector in CONNECTORS.values() for key, label in connector.credential_labels.items()},
    **SPEC_CREDENTIAL_LABELS,
}


def credential_label(key: str) -> str:
    return CREDENTIAL_LABELS.get(key, key.replace("_", " ").capitalize())


@cache
def form_layout() -> dict:
    """Per type: label, default port, connection fields, credential keys, and whether SSH applies."""
    return {entry["type"]: _layout(CONNECTORS[entry["type"]], entry) for entry in type_registry()}


def _layout(connector: type[Connector], entry: dict) -> dict:
    accepted = entry["configuration_schema"]["properties"]
    keys = [k["name"] for k in entry["credential_keys"]]
    shown = dict.fromkeys([*connector.form_credentials, *connector.credential_keys])
    return {
        "label": entry["label"],
        "family": entry["family"],
        "default_port": entry["default_port"],
        "fields": [f for f in connector.form_fields if f in accepted],
        # Marked required on the form: the type's first way to say where it is (the others are alternatives).
        "required": list(entry["required_fields"][0]) if entry["required_fields"] else [],
        "credentials": [k for k in shown if k in keys and k not in (*SSH_CREDENTIALS, *TLS_CREDENTIALS)],
        "ssh": "use_ssh_tunnel" in accepted,
        "tls_modes": list(connector.tls_modes),
        "tls_default": connector.tls_default,
    }


__all__ = ["CONNECTION_FIELDS", "SSH_CREDENTIALS", "SSH_FIELDS", "TLS_CREDENTIALS", "credential_label", "form_layout"]
