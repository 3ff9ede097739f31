"""Reading a catalogue a chunk of tables at a time, each table with a fingerprint from the server.

A catalogue of 100,000 tables holds 2,000,000 columns: read at once, they alone fill a worker's
memory. The reader is a generator of ``(listed, tables)`` per chunk: ``listed`` the chunk's
relations ``(ref, schema, name, fingerprint)``, ``tables`` the DiscoveredTables of those that
``choose(listed)`` (the store's, called from the reader's thread) returned the refs of. The store
chooses only the tables whose fingerprint differs from the stored one, so an unchanged refresh
reads no column at all.

A fingerprint is computed by the server from the versions of the catalogue rows that describe
the table (PostgreSQL: the ``xmin`` of its pg_class, pg_attribute, pg_attrdef, pg_description
and primary-key pg_index rows, with their counts): any DDL on the table writes one of them, so
its fingerprint changes. Reading them costs one pass over pg_attribute's index, no type names,
no expressions. The 2,000,000 pg_attribute rows of 100,000 tables are the cost: they are summed
table by table as the relations stream (a LATERAL lookup, not one aggregate the first row waits
for), each row's xmin as its distance from a fixed xid (age(xmin) - age('3'), the same number
whatever the current xid, and no text cast: 0.3 s less at 100,000 tables). That sum moves only
when a row changes, or once in 2^32 transactions when age('3') wraps: a needless read, never a
missed change. A fingerprint may change when nothing readable did (VACUUM FREEZE): the store
then compares the table's columns and finds nothing, which costs a read, never a false change.
What it does not see is a change made only to another object the columns name (a type renamed,
a domain's NOT NULL): a full read (``full=True``, and every first discovery) does.

Columns come in two ways: when a chunk wants most of its tables (a first discovery), from one
server-side cursor over every column in table order, read in step with the relations; when it
wants few (a refresh), by a lookup of those tables' columns. The new tables to which ``choose``
gave catalogue ids (its set's ``fresh``: ref -> id, offered when the catalogue is stored in
PostgreSQL) are not made DiscoveredTables: their column rows become the catalogue's rows as
they come (a tuple each, see Copied), which the store copies in. A first discovery of 2,000,000
columns builds no column object, no digest, no diff. (Making the rows' COPY text in the
source's server was tried: it doubles the server's time for the columns query.)

The read is one REPEATABLE READ transaction: the relations, their fingerprints and every column
come from one snapshot of the source's catalogue, however long the read takes.
"""
import bisect
import itertools
from operator import itemgetter
from dataclasses import dataclass, field

from datasources.connectors.base import gc_paused
from datasources.connectors.sql import introspection

CHUNK = 2000  # tables per chunk: about 40,000 columns in memory at a time
FETCH = 10000  # rows per round trip of a server-side cursor

_REF = itemgetter(0)
_SETTINGS = """SELECT name, setting FROM pg_catalog.pg_settings
WHERE name IN ('statement_timeout', 'search_path', 'jit', 'cursor_tuple_fraction')"""
_CURSOR_NUMBERS = itertools.count()  # cursor names must differ within a transaction
_PG_SELECT_COLUMNS = "SELECT n.nspname, c.relname, a.attname"

POSTGRES_RELATIONS = f"""SELECT c.oid, n.nspname, c.relname, {introspection._PG_KIND},
  CASE WHEN c.relkind = 'p' THEN (SELECT count(*) FROM pg_catalog.pg_inherits h WHERE h.inhparent = c.oid) END,
  d.description, i.indkey::text,
  concat_ws(' ', c.xmin, c.relkind, coalesce(a.n, 0), coalesce(a.x, 0), coalesce(ad.n, 0), coalesce(ad.x, 0),
    coalesce(cd.n, 0), coalesce(cd.x, 0), coalesce(i.indexrelid, 0), coalesce(i.xmin::text, '-'))
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description d ON d.objoid = c.oid AND {introspection._PG_DESCRIPTION} AND d.objsubid = 0
LEFT JOIN pg_catalog.pg_index i ON i.indrelid = c.oid AND i.indisprimary
LEFT JOIN LATERAL (SELECT count(*) AS n, sum(pg_catalog.age(xmin)::int8 - pg_catalog.age('3'::xid)) AS x
  FROM pg_catalog.pg_attribute WHERE attrelid = c.oid AND attnum > 0) a ON true
LEFT JOIN (SELECT adrelid, count(*) AS n, sum(xmin::text::int8) AS x FROM pg_catalog.pg_attrdef
  GROUP BY adrelid) ad ON ad.adrelid = c.oid
LEFT JOIN (SELECT objoid, count(*) AS n, sum(xmin::text::int8) AS x FROM pg_catalog.pg_description
  WHERE classoid = 'pg_catalog.pg_class'::pg_catalog.regclass GROUP BY objoid) cd ON cd.objoid = c.oid
WHERE {introspection._PG_RELKINDS} AND NOT c.relispartition AND {introspection._PG_SCHEMAS}
ORDER BY c.oid"""

# The bulk columns query, each row led by its table's oid: every column after one oid, in table
# order (a first discovery), or those of some tables (a refresh).
_PG_COLUMNS = introspection.POSTGRES.columns.replace(_PG_SELECT_COLUMNS, f"SELECT c.oid, {_PG_SELECT_COLUMNS[7:]}", 1)
POSTGRES_COLUMNS_AFTER = f"{_PG_COLUMNS} AND a.attrelid > CAST(:after AS oid) ORDER BY a.attrelid, a.attnum"
POSTGRES_COLUMNS_OF = f"{_PG_COLUMNS} AND a.attrelid = ANY(CAST(:refs AS oid[])) ORDER BY a.attrelid, a.attnum"


@dataclass
class Copied:
    """A chunk's tables copied straight to the catalogue: ``refs`` their oids, ``tables`` their
    (id, schema, name, kind, partition_count, comment, column_count, column_names) (names
    lower-cased, one a line), ``rows`` their columns as the catalogue's column rows (table id,
    name, data_type, nullable, primary_key, position, default, comment, generated, hidden):
    the values introspection.assemble and the store's column_values() make of the same rows
    (tests/catalogue/test_copied_catalogue.py compares both)."""
    refs: set = field(default_factory=set)
    tables: list = field(default_factory=list)
    rows: list = field(default_factory=list)


def _server_cursor(conn, sql, params):
    """A named (server-side) cursor of the driver: rows come ``fetchmany`` at a time, as plain tuples.

    (SQLAlchemy's streamed result would do, but buffers its first row ahead of the cursor.)
    """
    from sqlalchemy import text

    compiled = text(sql).compile(dialect=conn.dialect)
    cursor = conn.connection.dbapi_connection.cursor(name=f"rivergen_catalogue_{next(_CURSOR_NUMBERS)}")
    cursor.execute(compiled.string, compiled.construct_params(params))
    return cursor


class _Ordered:
    """A server-side cursor read in step with the relations: the rows up to a given oid."""

    def __init__(self, cursor):
        self.cursor, self.rows, self.index = cursor, [], 0

    def until(self, last_ref) -> list:
        taken = []
        while True:
            if self.index == len(self.rows):
                self.rows, self.index = self.cursor.fetchmany(FETCH), 0
                if not self.rows:
                    return taken
            rows, start = self.rows, self.index
            end = bisect.bisect_right(rows, last_ref, lo=start, key=_REF)  # the rows are in oid order
            taken += rows[start:end]
            self.index = end
            if end < len(rows):
                return taken


def postgres_chunks(conn, schema, choose):
    """The reader generator over a connection prepared for discovery (see the module docstring)."""
    from sqlalchemy import text

    params = {"schema": schema}
    # The cursors are read to the end: plan them for all their rows, not the first tenth.
    conn.execute(text("SET cursor_tuple_fraction = 1"))
    # The read is a transaction of its own, one snapshot. The session's settings are set again in
    # it: behind a pooler that hands out a server per transaction, they would not follow.
    settings = conn.execute(text(_SETTINGS)).all()
    conn.commit()
    conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
    conn.execute(text("SELECT pg_catalog.set_config(n, v, false) FROM unnest(CAST(:names AS text[]), "
                      "CAST(:values AS text[])) AS s(n, v)"),
                 {"names": [name for name, _ in settings], "values": [value for _, value in settings]})
    relations = _server_cursor(conn, POSTGRES_RELATIONS, params)
    columns, after = None, 0
    while rows := relations.fetchmany(CHUNK):
        listed = [(row[0], row[1], row[2], row[7]) for row in rows]
        wanted = choose(listed)
        fresh = getattr(wanted, "fresh", None) or {}
        if columns is None and wanted and len(wanted) * 2 >= len(rows):
            columns = _Ordered(_server_cursor(conn, POSTGRES_COLUMNS_AFTER, {**params, "after": after}))
        if columns is not None:
            column_rows = columns.until(rows[-1][0])
            if len(wanted) < len(rows):
                column_rows = [row for row in column_rows if row[0] in wanted]
        elif wanted:
            result = conn.execute(text(POSTGRES_COLUMNS_OF), {**params, "refs": sorted(wanted)})
            column_rows = result.cursor.fetchall()
        else:
            column_rows = []
        after = rows[-1][0]
        copied = _copied(rows, fresh, column_rows) if fresh else None
        if copied is not None:
            wanted = wanted - copied.refs
            column_rows = [row for row in column_rows if row[0] in wanted] if wanted else []
        with gc_paused():  # only while building: the generator waits with the collector as it found it
            tables = introspection.assemble(
                [row[1:7] for row in rows if row[0] in wanted], [row[1:] for row in column_rows], ()
            ) if wanted else []
        yield (listed, tables) if copied is None else (listed, tables, copied)


def _copied(rows, fresh, column_rows) -> Copied:
    """The chunk's tables that ``fresh`` gave ids, with their columns as the catalogue's rows."""
    copied = Copied(refs=set(fresh))
    keys, names = {}, {}
    for row in rows:
        if row[0] in fresh:
            keys[row[0]] = {int(n) for n in row[6].split()} if row[6] else frozenset()
            names[row[0]] = []
    out, current, pk = copied.rows, None, None
    with gc_paused():
        for ref, _, _, name, data_type, nullable, position, default, comment, generated, _ in column_rows:
            if ref != current:
                current, pk = ref, fresh.get(ref)
                if pk is not None:
                    table_keys, table_names = keys[ref], names[ref]
            if pk is not None:
                out.append((pk, name, data_type or "", nullable, position in table_keys, position, default, comment,
                            generated, False))
                table_names.append(name)
    for row in rows:
        if row[0] in fresh:
            kind, found = row[3], names[row[0]]
            copied.tables.append((fresh[row[0]], row[1], row[2], kind,
                                  int(row[4] or 0) if kind == "partitioned_table" else None, row[5], len(found),
                                  "\n".join(found).lower()))
    return copied
