"""The catalogue diff, alone: what each kind of change yields and which are breaking."""
from datasources.catalogue.diff import StoredTable, counts, diff_columns, diff_tables, signature, table_columns
from datasources.connectors.base import DiscoveredColumn, DiscoveredTable


def table(*columns, kind="table"):
    return DiscoveredTable("s", "t", kind, [
        DiscoveredColumn(name, data_type, nullable, pk, position)
        for position, (name, data_type, nullable, pk) in enumerate(columns, start=1)
    ])


BASE = table(("id", "integer", False, True), ("note", "text", True, False))


def changes_between(old, new):
    stored = StoredTable(7, old.kind, [(100 + i, values) for i, values in enumerate(table_columns(old))])
    return diff_columns(stored, new)


def summary(diff):
    return [(c.change_type, c.column, c.before, c.after, c.breaking) for c in diff.changes]


def test_each_kind_of_column_change():
    new = table(("id", "bigint", False, True), ("note", "text", False, False), ("added", "date", True, False),
                kind="view")
    diff = changes_between(table(("id", "integer", False, True), ("note", "text", True, False),
                                 ("gone", "text", True, False)), new)
    assert summary(diff) == [
        ("kind_changed", None, "table", "view", True),
        ("column_type_changed", "id", "integer", "bigint", True),
        ("column_nullability_changed", "note", True, False, False),
        ("column_added", "added", None, "date", False),
        ("column_removed", "gone", "text", None, True),
    ]
    assert [pk for pk, _ in diff.update] == [100, 101] and diff.delete == [102] and len(diff.insert) == 1
    assert counts(diff.changes) == {"added": 1, "removed": 1, "changed": 3, "breaking": 3}


def test_a_primary_key_change_is_not_breaking():
    diff = changes_between(BASE, table(("id", "integer", False, True), ("note", "text", False, True)))
    assert ("primary_key_changed", None, ["id"], ["id", "note"], False) in summary(diff)


def test_table_level_diff_matches_by_name_and_digest():
    keep, change = DiscoveredTable("s", "keep"), BASE
    stored = [(1, "s", "keep", signature(keep), "table"), (2, "s", "t", "old", "table"),
              (3, "s", "gone", "x", "view")]
    diff = diff_tables(stored, [keep, change, DiscoveredTable("s", "new")])
    assert [t.name for t in diff.added] == ["new"]
    assert [(pk, t.name) for pk, t in diff.changed] == [(2, "t")]
    assert [(c.change_type, c.table, c.before, c.after, c.breaking) for c in diff.changes()] == [
        ("table_added", "new", None, "table", False), ("table_removed", "gone", "view", None, True),
    ]


def test_a_digest_covers_defaults_comments_and_partitions():
    plain = DiscoveredTable("s", "t", columns=[DiscoveredColumn("a", "int")])
    variants = [
        DiscoveredTable("s", "t", columns=[DiscoveredColumn("a", "int", default="1")]),
        DiscoveredTable("s", "t", columns=[DiscoveredColumn("a", "int", comment="c")]),
        DiscoveredTable("s", "t", columns=[DiscoveredColumn("a", "int")], comment="c"),
        DiscoveredTable("s", "t", "partitioned_table", [DiscoveredColumn("a", "int")], partition_count=2),
        DiscoveredTable("s", "t", columns=[DiscoveredColumn("a", "int", position=3)]),
    ]
    assert len({signature(plain), *map(signature, variants)}) == 6
