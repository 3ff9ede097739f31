"""Credential keys over every connector, and which secrets a source holds (never their values).

The admin form, the CLI and the API's ``credentials_set`` all read these, so a key marked
secret by its connector is treated as secret everywhere.
"""
from datasources.connectors import CONNECTORS, connector_for
from datasources.security.secret_refs import REF_KEY, is_reference

# Every key some type accepts, in the connectors' order; and those that are secret somewhere.
CREDENTIAL_KEYS = tuple(dict.fromkeys(
    key for connector in CONNECTORS.values() for key in connector.accepted_credential_keys()
))
SECRET_KEYS = frozenset(key for connector in CONNECTORS.values() for key in connector.all_secret_keys())


def secrets_set(source) -> list[str] | None:
    """The secret credential keys of ``source`` that hold a value; None when the stored
    credentials cannot be decrypted with the configured keys."""
    credentials = source.credentials
    if not isinstance(credentials, dict):
        return None
    return [key for key in connector_for(source.type).all_secret_keys() if credentials.get(key) not in (None, "")]


def references_of(source) -> dict:
    """{key: "<provider>:<reference>"} of the credentials that are secret references (not secrets)."""
    credentials = source.credentials if isinstance(source.credentials, dict) else {}
    return {key: value[REF_KEY] for key, value in credentials.items() if is_reference(value)}
