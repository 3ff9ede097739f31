"""What every NoSQL connector shares: the tunnel-aware run loop and field inference from samples."""
from datasources.connectors.base import (
    DATABASE_FIELDS,
    Connector,
    DiscoveredColumn,
    TestOutcome,
    run_within,
)
from datasources.connectors.ssh import open_endpoint
from datasources.connectors.targets import target_of


class NoSqlConnector(Connector):
    family = "nosql"
    required = DATABASE_FIELDS

    def test(self, source) -> TestOutcome:
        return run_within(source.connection_timeout, self._run, source, self._test)

    def discover(self, source):
        return run_within(source.connection_timeout + source.query_timeout, self._run, source, self._discover)

    def _run(self, source, work):
        target = target_of(source, self.default_port)
        with open_endpoint(source, target, source.connection_timeout) as endpoint:
            return work(source, target, endpoint)


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
