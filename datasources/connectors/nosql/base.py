"""What every NoSQL connector shares: reaching the store through a checked endpoint, field inference."""
from datasources.connectors.base import (
    DATABASE_FIELDS,
    LOGIN,
    Connector,
    DiscoveredColumn,
)
from datasources.connectors.targets import through_endpoint


class NoSqlConnector(Connector):
    """Subclasses talk to the store in ``_call(source, target, endpoint, work, timeout=None)``:
    ``work(client)`` under the driver's error mapping, each read bounded by ``timeout`` (None:
    the type's usual bound)."""

    family = "nosql"
    required = DATABASE_FIELDS
    form_fields = ("host", "port", "database_name", "connection_string")
    form_credentials = LOGIN
    # No TLS negotiation in these protocols: encrypted or not is the client's choice up front.
    tls_modes, tls_default = ("disable", "require", "verify-ca", "verify-full"), "disable"

    def reach(self, source, work):
        return through_endpoint(self, source, work)


def fields_of(documents) -> list[DiscoveredColumn]:
    """Top-level fields of sampled documents, in first-seen order, typed by their first value."""
    seen = {}
    for document in documents:
        for key, value in document.items():
            seen.setdefault(key, type(value).__name__)
    return [
        DiscoveredColumn(name=name, data_type=kind, nullable=name != "_id", primary_key=name == "_id", position=i)
        for i, (name, kind) in enumerate(seen.items(), start=1)
    ]
