"""Storing a discovered catalogue: only what changed is written, all in one transaction."""
import pytest
from django.db import connection
from django.utils import timezone

from datasources.catalogue.store import catalogue_replace
from datasources.connectors.base import DiscoveredColumn, DiscoveredTable
from datasources.models import DataSource, Discovery, SchemaChange, SchemaColumn, SchemaTable

pytestmark = pytest.mark.django_db


def table(name, *columns, schema="public", kind="table"):
    return DiscoveredTable(schema=schema, name=name, kind=kind, columns=[
        DiscoveredColumn(name=c, data_type="text", position=i) for i, c in enumerate(columns, 1)
    ])


@pytest.fixture
def source(org):
    now = timezone.now()
    return DataSource.objects.create(organization=org, name="s", type="other", created_at=now, updated_at=now)


def ids(source):
    return dict(SchemaTable.objects.filter(data_source=source).values_list("name", "pk"))



def test_unchanged_tables_keep_their_rows_and_changed_ones_keep_their_ids(source):
    catalogue_replace(source=source, tables=[table("a", "x"), table("b", "x"), table("gone", "x")])
    before = ids(source)
    x_of_b = SchemaColumn.objects.get(table_id=before["b"], name="x").pk
    result = catalogue_replace(source=source, tables=[table("a", "x"), table("b", "x", "y"), table("new", "z")])
    after = ids(source)
    assert (result.table_count, result.column_count) == (3, 4)
    assert after["a"] == before["a"] and after["b"] == before["b"] and "gone" not in after
    assert SchemaColumn.objects.get(table_id=after["b"], name="x").pk == x_of_b
    assert list(SchemaColumn.objects.filter(table_id=after["b"]).values_list("name", flat=True)) == ["x", "y"]
    assert SchemaTable.objects.get(pk=after["b"]).column_count == 2
    assert SchemaColumn.objects.filter(table__data_source=source).count() == 4


def test_a_changed_kind_is_written_in_place(source):
    catalogue_replace(source=source, tables=[table("v", "x")])
    first = ids(source)["v"]
    result = catalogue_replace(source=source, tables=[table("v", "x", kind="materialized_view")])
    assert ids(source)["v"] == first
    assert SchemaTable.objects.get(pk=first).kind == "materialized_view"
    assert [(c.change_type, c.before, c.after) for c in result.changes] == [("kind_changed", "table", "materialized_view")]


def test_defaults_comments_and_partitions_are_stored_and_updated(source):
    t = DiscoveredTable("public", "p", "partitioned_table", [
        DiscoveredColumn("id", "integer", False, True, 1, "nextval('public.p_id_seq'::regclass)", "the key"),
    ], partition_count=2, comment="a table")
    catalogue_replace(source=source, tables=[t])
    t.partition_count, t.columns[0].comment = 3, "still the key"
    result = catalogue_replace(source=source, tables=[t])
    row = SchemaTable.objects.get(data_source=source)
    column = SchemaColumn.objects.get(table=row)
    assert (row.kind, row.partition_count, row.comment) == ("partitioned_table", 3, "a table")
    assert (column.default, column.comment) == ("nextval('public.p_id_seq'::regclass)", "still the key")
    assert result.changes == []  # written, but not a change readers are told about


def test_an_unchanged_catalogue_writes_nothing(source, django_assert_max_num_queries):
    tables = [table(f"t{i}", "a", "b") for i in range(50)]
    catalogue_replace(source=source, tables=tables)
    with django_assert_max_num_queries(6):  # savepoint/lock, the stored rows, schema_discovered_at
        result = catalogue_replace(source=source, tables=tables)
    assert result.changes == []


def test_same_name_in_two_schemas_are_two_tables(source):
    catalogue_replace(source=source, tables=[table("t", "x", schema="a"), table("t", "y", schema="b")])
    catalogue_replace(source=source, tables=[table("t", "x", schema="a"), table("t", "y", schema="b")])
    assert SchemaTable.objects.filter(data_source=source).count() == 2


def test_duplicate_names_from_a_connector_are_all_stored_and_later_replaced(source):
    catalogue_replace(source=source, tables=[table("d", "x"), table("d", "y")])
    assert SchemaTable.objects.filter(data_source=source).count() == 2
    result = catalogue_replace(source=source, tables=[table("d", "x")])
    assert SchemaTable.objects.filter(data_source=source).count() == 1
    assert SchemaColumn.objects.filter(table__data_source=source).count() == 1
    assert result.changes == []  # duplicates cannot be matched one to one


def test_an_empty_discovery_empties_the_catalogue(source):
    catalogue_replace(source=source, tables=[table("a", "x")])
    result = catalogue_replace(source=source, tables=[])
    assert (result.table_count, result.column_count) == (0, 0)
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

    def insert_then_fail(*args, **kwargs):
        real_insert(*args, **kwargs)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(store, "_insert_columns", insert_then_fail)
    with pytest.raises(RuntimeError):
        catalogue_replace(source=source, tables=[table("a", "x", "y"), table("c", "z")])
    assert (ids(source), list(SchemaColumn.objects.values_list("table_id", "name"))) == before
    assert DataSource.objects.get(pk=source.pk).schema_discovered_at == discovered_at


def test_the_first_catalogue_is_a_baseline_and_later_ones_record_changes(source):
    first = Discovery.objects.create(data_source=source)
    result = catalogue_replace(source=source, tables=[table("a", "x")], discovery=first)
    assert result.baseline and result.changes == [] and not SchemaChange.objects.exists()
    second = Discovery.objects.create(data_source=source)
    result = catalogue_replace(source=source, tables=[table("a", "x", "y"), table("b", "z")], discovery=second)
    assert not result.baseline
    rows = SchemaChange.objects.filter(discovery=second).order_by("id")
    assert [(r.change_type, r.table_name, r.column_name, r.after, r.breaking) for r in rows] == [
        ("table_added", "b", None, "table", False), ("column_added", "a", "y", "text", False),
    ]
    assert result.counts == {"added": 2, "removed": 0, "changed": 0, "breaking": 0}


def test_a_catalogue_stored_before_digests_is_rebaselined(source):
    catalogue_replace(source=source, tables=[table("a", "x")])
    SchemaTable.objects.update(signature="", kind="view")  # as the migration leaves an old row
    result = catalogue_replace(source=source, tables=[table("a", "x", kind="materialized_view")],
                               discovery=Discovery.objects.create(data_source=source))
    assert result.baseline and result.changes == [] and not SchemaChange.objects.exists()
    assert SchemaTable.objects.get().kind == "materialized_view"


def test_search_text_holds_the_column_names_and_the_migration_fills_it_for_older_rows(source):
    from importlib import import_module

    from django.apps import apps

    catalogue_replace(source=source, tables=[table("orders", "id", "Customer_Email")])
    stored = SchemaTable.objects.get(data_source=source)
    assert stored.column_names == "id\ncustomer_email"
    SchemaTable.objects.filter(pk=stored.pk).update(column_names="")  # as stored before the migration
    import_module("datasources.migrations.0007_catalogue_fingerprints").fill_column_names(apps, None)
    assert SchemaTable.objects.get(pk=stored.pk).column_names == "id\ncustomer_email"


class _Rollback(Exception):
    pass


def _orphan_insert_fails_at_once() -> bool:
    """Whether a table naming no source is refused by its INSERT (checked at once) rather than at commit."""
    from django.db import IntegrityError, transaction

    try:
        with transaction.atomic():
            SchemaTable.objects.create(data_source_id=987654321, name="orphan")
            raise _Rollback
    except IntegrityError:
        return True
    except _Rollback:
        return False


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the constraint's timing is PostgreSQL's")
def test_a_streamed_store_checks_the_source_reference_per_chunk_then_defers_it_again(source):
    from datasources.catalogue.stream import catalogue_store_chunks

    during = []

    def read(choose):
        listed = [(1, "public", "t1", "fp1")]
        choose(listed)
        during.append(_orphan_insert_fails_at_once())
        yield listed, [table("t1", "x")]

    assert _orphan_insert_fails_at_once() is False  # Django's default: deferred to the commit
    catalogue_store_chunks(source=source, read=read)
    assert during == [True]  # while the chunks are written
    assert _orphan_insert_fails_at_once() is False  # the caller's transaction as it was
    assert list(SchemaTable.objects.filter(data_source=source).values_list("name", flat=True)) == ["t1"]
