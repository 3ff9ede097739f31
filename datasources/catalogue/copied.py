"""New tables copied straight into a catalogue stored in PostgreSQL: no Python object per column.

A reader that can (PostgreSQL's, see datasources/connectors/sql/chunks.py) is offered catalogue
ids for the new tables it lists; it hands back their columns as the column table's rows, which
are copied in as they came, and per table its column count and names, with which its row is
copied in.

The ids are drawn from the table's sequence ahead of need, by the storing thread: the reader asks
for them from its own thread, a chunk ahead, where it may not use the storing connection. An id
drawn but not used is a gap in the sequence, never a reuse; when the pool runs dry the remaining
new tables are read as DiscoveredTables, which costs time, never a difference in what is stored.

A copied table's signature is COPIED: never a digest, so the first time its fingerprint moves its
columns are compared one by one (store.write_diff), then it gets a real one.
"""
from collections import deque

from django.db import connection

from datasources.catalogue import diff as catalogue_diff
from datasources.catalogue import store
from datasources.models import SchemaColumn, SchemaTable

COPIED = "copied"  # non-empty (not a baseline), and no hex digest
POOL_FIRST = 10000  # ids at hand while a first catalogue is stored: five chunks of 2,000 tables
POOL_REFRESH = 500  # while a refresh is stored (a few new tables, most of the time)


class Ids:
    """Table ids drawn ahead, taken by the reader's thread, topped up by the storing one."""

    def __init__(self, size: int):
        self.size, self.ids = size, deque()  # a deque's append and popleft are atomic

    def fill(self):
        missing = self.size - len(self.ids)
        if missing < self.size // 4:
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                           [SchemaTable._meta.db_table, missing])
            self.ids.extend(row[0] for row in cursor.fetchall())

    def take(self):
        """An id, or None when none is at hand."""
        try:
            return self.ids.popleft()
        except IndexError:
            return None


def usable() -> bool:
    return connection.vendor == "postgresql"


def store_copied(source, copied, fingerprints) -> tuple[int, list]:
    """Write the copied tables of one chunk; (their column count, their table_added changes)."""
    rows = [(pk, source.pk, *catalogue_diff.key_of(schema, name), kind, count, partitions, comment, COPIED,
             fingerprints.get(catalogue_diff.key_of(schema, name), ""), names)
            for pk, schema, name, kind, partitions, comment, count, names in copied.tables]
    with connection.cursor() as cursor:
        store.copy_rows(cursor, SchemaColumn._meta, ("table",) + catalogue_diff.COLUMN_FIELDS, store.COLUMN_COPY_TYPES,
                        copied.rows)
        store.copy_rows(cursor, SchemaTable._meta, store.TABLE_COPY_FIELDS, store.TABLE_COPY_TYPES, rows)
    changes = [catalogue_diff.Change("table_added", row[2], row[3], after=row[4]) for row in rows]
    return len(copied.rows), changes
