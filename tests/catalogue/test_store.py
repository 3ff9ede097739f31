"""Storing a discovered catalogue: only changed tables are rewritten, all in one transaction."""
import pytest

from datasources.catalogue.store import catalogue_replace
from datasources.connectors.base import DiscoveredColumn, DiscoveredTable
from datasources.models import DataSource, SchemaColumn, SchemaTable

pytestmark = pytest.mark.django_db


def table(name, *columns, schema="public", kind="table"):
    return DiscoveredTable(schema=schema, name=name, kind=kind, columns=[
        DiscoveredColumn(name=c, data_type="text", position=i) for i, c in enumerate(columns, 1)
    ])


@pytest.fixture
def source(org):
    from django.utils import timezone

    now = timezone.now()
    return DataSource.objects.create(organization=org, name="s", type="other", created_at=now, updated_at=now)


def ids(source):
    return dict(SchemaTable.objects.filter(data_source=source).values_list("name", "pk"))


def test_unchanged_tables_keep_their_rows_and_changed_ones_are_rewritten(source):
    catalogue_replace(source=source, tables=[table("a", "x"), table("b", "x"), table("gone", "x")])
    before = ids(source)
    counts = catalogue_replace(source=source, tables=[table("a", "x"), table("b", "x", "y"), table("new", "z")])
    after = ids(source)
    assert counts == (3, 4)
    assert after["a"] == before["a"] and after["b"] != before["b"] and "gone" not in after
    assert list(SchemaColumn.objects.filter(table_id=after["b"]).values_list("name", flat=True)) == ["x", "y"]
    assert SchemaColumn.objects.filter(table__data_source=source).count() == 4


def test_a_changed_kind_or_type_counts_as_a_change(source):
    catalogue_replace(source=source, tables=[table("v", "x")])
    first = ids(source)["v"]
    catalogue_replace(source=source, tables=[table("v", "x", kind="view")])
    assert ids(source)["v"] != first
    assert SchemaTable.objects.get(pk=ids(source)["v"]).kind == "view"


def test_same_name_in_two_schemas_are_two_tables(source):
    catalogue_replace(source=source, tables=[table("t", "x", schema="a"), table("t", "y", schema="b")])
    catalogue_replace(source=source, tables=[table("t", "x", schema="a"), table("t", "y", schema="b")])
    assert SchemaTable.objects.filter(data_source=source).count() == 2


def test_duplicate_names_from_a_connector_are_all_stored_and_later_replaced(source):
    catalogue_replace(source=source, tables=[table("d", "x"), table("d", "y")])
    assert SchemaTable.objects.filter(data_source=source).count() == 2
    catalogue_replace(source=source, tables=[table("d", "x")])
    assert SchemaTable.objects.filter(data_source=source).count() == 1
    assert SchemaColumn.objects.filter(table__data_source=source).count() == 1


def test_an_empty_discovery_empties_the_catalogue(source):
    catalogue_replace(source=source, tables=[table("a", "x")])
    assert catalogue_replace(source=source, tables=[]) == (0, 0)
    assert not SchemaTable.objects.exists() and not SchemaColumn.objects.exists()
    source.refresh_from_db()
    assert source.schema_discovered_at is not None


def test_other_sources_catalogues_are_untouched(source, org):
    other = DataSource.objects.create(
        organization=org, name="other", type="other", created_at=source.created_at, updated_at=source.created_at,
    )
    catalogue_replace(source=other, tables=[table("mine", "x")])
    catalogue_replace(source=source, tables=[table("a", "x")])
    catalogue_replace(source=source, tables=[])
    assert list(ids(other)) == ["mine"]


def test_a_failure_half_way_leaves_the_old_catalogue_whole(source, monkeypatch):
    """The deletes and table rows already written roll back with the failed column insert."""
    from datasources.catalogue import store

    catalogue_replace(source=source, tables=[table("a", "x"), table("b", "x")])
    before = (ids(source), list(SchemaColumn.objects.values_list("table_id", "name")))
    discovered_at = DataSource.objects.get(pk=source.pk).schema_discovered_at
    real_insert = store._insert_columns

    def insert_then_fail(tables, rows):
        real_insert(tables, rows)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(store, "_insert_columns", insert_then_fail)
    with pytest.raises(RuntimeError):
        catalogue_replace(source=source, tables=[table("a", "x", "y"), table("c", "z")])
    assert (ids(source), list(SchemaColumn.objects.values_list("table_id", "name"))) == before
    assert DataSource.objects.get(pk=source.pk).schema_discovered_at == discovered_at
