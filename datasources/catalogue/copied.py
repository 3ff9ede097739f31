"""New tables copied straight into a catalogue stored in PostgreSQL: no Python object per column.

A reader that can (PostgreSQL's, see datasources/connectors/sql/chunks.py) is offered catalogue
ids for the new tables it lists; it hands back their columns as the column table's rows in COPY
text, which are copied in as they came, and the tables' rows are then written by one INSERT that
counts and names their columns from the rows just copied.

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
    quote = connection.ops.quote_name
    tables, columns = SchemaTable._meta, SchemaColumn._meta
    fields = ", ".join(quote(columns.get_field(f).column) for f in ("table",) + catalogue_diff.COLUMN_FIELDS)
    rows = [(pk, *catalogue_diff.key_of(schema, name), kind, partitions, comment)
            for pk, schema, name, kind, partitions, comment in copied.tables]
    ids = [row[0] for row in rows]
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {quote(columns.db_table)} ({fields}) FROM STDIN") as copy:
            copy.write(copied.rows)
        # The names are lower-cased by PostgreSQL here, by Python for a table read as objects:
        # the same for every name but a few exotic letters (what ?search= matches).
        cursor.execute(f"""WITH written AS (
  INSERT INTO {quote(tables.db_table)} (id, data_source_id, schema_name, name, kind, partition_count, comment,
    fingerprint, signature, column_count, column_names)
  SELECT m.id, %s, m.schema_name, m.name, m.kind, m.partition_count, m.comment, m.fingerprint, %s,
    coalesce(c.n, 0), coalesce(c.names, '')
  FROM unnest(%s::int8[], %s::text[], %s::text[], %s::text[], %s::int4[], %s::text[], %s::text[])
    AS m(id, schema_name, name, kind, partition_count, comment, fingerprint)
  LEFT JOIN (SELECT table_id, count(*) AS n, lower(string_agg(name, E'\\n' ORDER BY position, id)) AS names
    FROM {quote(columns.db_table)} WHERE table_id = ANY(%s::int8[]) GROUP BY table_id) c ON c.table_id = m.id
  RETURNING column_count)
SELECT coalesce(sum(column_count), 0) FROM written""", [
            source.pk, COPIED, ids, [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows],
            [r[4] for r in rows], [r[5] for r in rows], [fingerprints.get((r[1], r[2]), "") for r in rows], ids,
        ])
        column_count = cursor.fetchone()[0]
    changes = [catalogue_diff.Change("table_added", schema, name, after=kind) for _, schema, name, kind, *_ in rows]
    return int(column_count), changes
