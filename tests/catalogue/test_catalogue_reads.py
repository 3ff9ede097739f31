"""Reading the stored catalogue at a fixed number of queries: the export's two writers give the same
bytes, a page counts only when it must, and the admin's schema panel counts once."""
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from datasources.catalogue import export
from datasources.catalogue.read import schema_page
from datasources.catalogue.store import catalogue_replace
from datasources.connectors.base import DiscoveredColumn, DiscoveredTable
from datasources.models import DataSource, SchemaTable

pytestmark = pytest.mark.django_db

AWKWARD = 'we"ird\\ \n\t\r\b\f \x01\x1f\x7f é 😀 \u2028 </script>'


@pytest.fixture
def source(api, workspace):
    response = api.post("/api/v1/data-sources", {"workspace_id": workspace.pk, "name": "Reads", "type": "other",
                                                 "schema_auto_refresh": False, "credentials": {}}, format="json")
    return DataSource.objects.get(pk=response.json()["data"]["id"])


def awkward_catalogue():
    return [
        DiscoveredTable(AWKWARD, AWKWARD, "view", [
            # Positions out of insertion order, and two alike: the id breaks the tie.
            DiscoveredColumn("third", "text", position=3),
            DiscoveredColumn(AWKWARD, AWKWARD, True, False, 1, AWKWARD, AWKWARD, AWKWARD, True),
            DiscoveredColumn("second", "int", False, True, 2),
            DiscoveredColumn("second_too", "int", position=2),
        ], comment=AWKWARD),
        DiscoveredTable(None, "no_schema", "partitioned_table", [DiscoveredColumn("x", "date")], partition_count=4),
        DiscoveredTable("s", "Upper", columns=[DiscoveredColumn("y", "bigint", default="0")]),
        DiscoveredTable("s", "lower", columns=[DiscoveredColumn("z", "text", comment="")]),
        DiscoveredTable("s", "no_columns", columns=[]),
    ]


def expected_export(source) -> bytes:
    """What the export promises, built from the API's pages with the standard library's encoder."""
    lines, page = [], 1
    while True:
        data = schema_page(source, page=page, page_size=100)
        for group in data["schemas"]:
            lines += [json.dumps({"schema": group["name"] or None, **table}, ensure_ascii=False,
                                 separators=(",", ":")) + "\n" for table in group["tables"]]
        if page >= data["total_pages"]:
            return "".join(lines).encode()
        page += 1


def writers():
    """Both writers where the database has both (PostgreSQL), else the portable one."""
    return ([export.server_lines] if connection.vendor == "postgresql" else []) + [export.python_lines]


def test_both_export_writers_write_what_json_dumps_writes(source):
    catalogue_replace(source=source, tables=awkward_catalogue())
    expected = expected_export(source)
    assert expected.count(b"\n") == 5
    for writer in writers():
        assert b"".join(writer(source)) == expected, writer.__name__
    columns = json.loads(expected.splitlines()[-1])["columns"]  # sorted by schema: the awkward one is last
    assert [c["name"] for c in columns] == [AWKWARD, "second", "second_too", "third"]


def test_export_across_chunks_is_the_same_bytes_from_both_writers(source):
    tables = [DiscoveredTable(f"s{i % 3}", f"t{i:04d}", columns=[
        DiscoveredColumn(f"c{j}", "int", position=j) for j in range(1, 4)]) for i in range(1100)]
    catalogue_replace(source=source, tables=tables)
    expected = expected_export(source)
    for writer in writers():
        assert b"".join(writer(source)) == expected, writer.__name__


def export_queries(source) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert b"".join(export.catalogue_lines(source))
    return len(queries)


def test_export_query_count(source):
    """PostgreSQL: one query (and the snapshot's settings) whatever the size; elsewhere one per 500 tables."""
    catalogue_replace(source=source, tables=awkward_catalogue())
    small = export_queries(source)
    catalogue_replace(source=source, tables=[DiscoveredTable("s", f"t{i:04d}", columns=[
        DiscoveredColumn("c", "int", position=1)]) for i in range(1200)])
    if connection.vendor == "postgresql":
        assert export_queries(source) == small
    else:
        assert export_queries(source) == small + 2  # 1,200 tables: three chunks of columns instead of one


def page_queries(source, **filters) -> tuple[dict, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        data = schema_page(source, **filters)
    return data, [q["sql"] for q in queries if q["sql"].startswith("SELECT")]


def test_a_page_counts_only_when_it_is_full(source):
    catalogue_replace(source=source, tables=[DiscoveredTable("s", f"t{i:03d}", columns=[
        DiscoveredColumn("c", "int", position=1)]) for i in range(120)])
    full, full_sql = page_queries(source, page_size=50)
    assert (full["count"], full["total_pages"], len(full_sql)) == (120, 3, 3)  # tables, columns, stored count
    assert "schema_table_counts" in full_sql[-1] and not any("COUNT(" in sql for sql in full_sql)
    searched, searched_sql = page_queries(source, page_size=50, search="t")  # a filter the store did not count
    assert (searched["count"], len(searched_sql)) == (120, 3) and "COUNT(" in searched_sql[-1]
    last, last_sql = page_queries(source, page=3, page_size=50)
    assert (last["count"], last["total_pages"], len(last_sql)) == (120, 3, 2)  # tables, columns
    middle, _ = page_queries(source, page=2, page_size=50, search="t")  # deep: the offset over ids alone
    tables = [t for s in middle["schemas"] for t in s["tables"]]
    assert [t["name"] for t in tables] == [f"t{i:03d}" for i in range(50, 100)]
    assert all([c["name"] for c in t["columns"]] == ["c"] for t in tables)
    found, found_sql = page_queries(source, search="T01")
    assert (found["count"], found["total_pages"], len(found_sql)) == (10, 1, 2)  # t010 to t019
    none, none_sql = page_queries(source, search="nothing")
    assert (none["count"], none["total_pages"], none["schemas"], len(none_sql)) == (0, 0, [], 1)
    exact, _ = page_queries(source, page=2, page_size=60)  # full, and the last: the count says so
    assert (exact["count"], exact["total_pages"]) == (120, 2)


def test_the_count_stored_with_the_catalogue_is_exact_per_schema(source):
    def tables(names):
        return [DiscoveredTable(schema, name, columns=[DiscoveredColumn("c", "int", position=1)])
                for schema, name in names]

    first = [("a", f"t{i:03d}") for i in range(60)] + [("b", f"t{i:03d}") for i in range(55)] + [(None, "plain")]
    catalogue_replace(source=source, tables=tables(first))
    source.refresh_from_db()
    assert source.schema_table_counts == {"a": 60, "b": 55, "": 1}
    assert [schema_page(source, page_size=50, **f)["count"] for f in ({}, {"schema": "a"}, {"schema": "b"})] == [
        116, 60, 55]
    catalogue_replace(source=source, tables=tables(first[5:] + [("c", "new")]))  # five gone, one added
    source.refresh_from_db()
    assert source.schema_table_counts == {"a": 55, "b": 55, "": 1, "c": 1}
    assert schema_page(source, page_size=50)["count"] == 112 == SchemaTable.objects.filter(data_source=source).count()
    DataSource.objects.filter(pk=source.pk).update(schema_table_counts=None)  # stored before counts were kept
    data, sql = page_queries(source, page_size=50, schema="a")
    assert data["count"] == 55 and "COUNT(" in sql[-1]


def test_a_page_past_the_end_is_empty_page_without_a_count(source):
    from django.core.paginator import EmptyPage

    catalogue_replace(source=source, tables=[DiscoveredTable("s", "only", columns=[])])
    with CaptureQueriesContext(connection) as queries, pytest.raises(EmptyPage):
        schema_page(source, page=2)
    assert not any("COUNT(" in q["sql"] for q in queries)


def test_admin_schema_panel_counts_once_or_not_at_all(admin_client, source):
    catalogue_replace(source=source, tables=[DiscoveredTable(f"s{i % 4}", f"t{i:03d}", columns=[
        DiscoveredColumn("c", "int", position=1)]) for i in range(120)])
    url = f"/admin/datasources/datasource/{source.pk}/panels/schema/"
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(url, {"schema_page": "99"})  # past the end: the last page
    assert response.status_code == 200
    body = response.content.decode()
    assert "120 table(s) in 4 schema(s)" in body and "s3 · 30" in body
    assert "<strong>3</strong>" in body  # the last of three pages of 50
    catalogue_counts = [q["sql"] for q in queries if "COUNT(" in q["sql"] and "schematable" in q["sql"]]
    assert catalogue_counts == []  # the counts stored with the catalogue
    with CaptureQueriesContext(connection) as queries:
        body = admin_client.get(url, {"schema_q": "s2"}).content.decode()
    assert "30 table(s) match in 1 schema(s)" in body and "s2 · 30" in body
    assert not any("COUNT(" in q["sql"] and "schematable" in q["sql"] for q in queries)
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(url, {"table_q": "t1", "schema_page": "99"})  # t1xx: 20 tables
    body = response.content.decode()
    assert "20 table(s) match in 4 schema(s)" in body and "s3 · 5" in body
    catalogue_counts = [q["sql"] for q in queries if "COUNT(" in q["sql"] and "schematable" in q["sql"]]
    assert len(catalogue_counts) == 1 and "GROUP BY" in catalogue_counts[0]


on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="the server writes the export on PostgreSQL")


def many_tables():
    return awkward_catalogue() + [DiscoveredTable(f"s{i % 3}", f"t{i:03d}", columns=[
        DiscoveredColumn(f"c{j}", "int", position=j) for j in range(1, 4)]) for i in range(40)]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_connections_write_the_same_bytes_in_order(source, monkeypatch):
    """Committed rows, read outside any transaction: the ranges are split between two connections."""
    from datasources.catalogue import export_pg

    catalogue_replace(source=source, tables=many_tables())
    monkeypatch.setattr(export_pg, "RANGE", 7)  # 45 tables: seven ranges, the last one short
    written = []
    real = export_pg._range_lines
    monkeypatch.setattr(export_pg, "_range_lines", lambda conn, *a: written.append(conn) or real(conn, *a))
    assert b"".join(export.server_lines(source)) == b"".join(export.python_lines(source))
    assert len(written) == 7 and len({id(c) for c in written}) == 2  # four here, three on the helper's


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_helper_failure_reaches_the_reader_and_a_closed_export_stops_the_helper(source, monkeypatch):
    import threading

    from datasources.catalogue import export_pg

    catalogue_replace(source=source, tables=many_tables())
    monkeypatch.setattr(export_pg, "RANGE", 7)
    threads = threading.active_count()
    lines = export.server_lines(source)
    assert next(lines).count(b"\n") == 7
    lines.close()  # the client went away after the first range
    assert threading.active_count() == threads

    real = export_pg._range_lines

    def failing(conn, *args):
        if conn is not connection:  # the helper's connection
            raise RuntimeError("helper broke")
        return real(conn, *args)

    monkeypatch.setattr(export_pg, "_range_lines", failing)
    with pytest.raises(RuntimeError, match="helper broke"):
        b"".join(export.server_lines(source))
    assert threading.active_count() == threads


@on_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("failure", ["no spare connection", "connecting fails"])
def test_without_a_helper_connection_the_reader_writes_every_range(source, monkeypatch, failure):
    from django.db.backends.postgresql.base import DatabaseWrapper

    from datasources.catalogue import export_pg

    catalogue_replace(source=source, tables=many_tables())
    monkeypatch.setattr(export_pg, "RANGE", 7)
    if failure == "no spare connection":
        monkeypatch.setattr(export_pg, "_spare_connection", lambda: False)
    else:
        import threading

        reader, real = threading.current_thread(), DatabaseWrapper.ensure_connection

        def pool_timeout_elsewhere(self):
            if threading.current_thread() is not reader:
                raise OSError("couldn't get a connection after 5.00 sec")
            return real(self)

        monkeypatch.setattr(DatabaseWrapper, "ensure_connection", pool_timeout_elsewhere)
    written = []
    real_lines = export_pg._range_lines
    monkeypatch.setattr(export_pg, "_range_lines", lambda conn, *a: written.append(conn) or real_lines(conn, *a))
    assert b"".join(export.server_lines(source)) == b"".join(export.python_lines(source))
    assert len(written) == 7 and all(conn is connection for conn in written)
