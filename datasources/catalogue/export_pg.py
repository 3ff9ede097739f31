"""The export on PostgreSQL: the server writes each table's line, on two connections at once.

Writing the JSON is the export's whole cost (about 2 µs a column: 2,000,000 columns take one
backend about 5 s of CPU), so it is split: the tables are cut into ranges of RANGE tables in
export order (one index-only pass finds the boundaries), this connection writes the even ranges
and a helper thread's connection the odd ones, in the same snapshot (``pg_export_snapshot``), and
the lines are yielded in order. Two backends use both cores of a small machine, and on a busy one
get two shares of it. The helper holds at most one finished range ahead (about 3 MB at 20
columns a table), so memory stays flat.

Inside a caller's transaction (tests, a caller's atomic block) another connection could not see
that transaction's rows, so there, and for catalogues of one range, one connection writes all.
"""
import queue
import threading

from django.db import connection, connections, transaction
from psycopg.adapt import Loader

from datasources.catalogue.read import COLUMN_KEYS, TABLE_KEYS, one_snapshot
from datasources.models import SchemaColumn, SchemaTable

RANGE = 1000  # tables a query writes: about 3 MB of lines at 20 columns a table
WAIT = 0.5  # seconds between the helper's checks that the response is still being read


def _sql(where: str) -> str:
    quote = connection.ops.quote_name
    tables, columns = quote(SchemaTable._meta.db_table), quote(SchemaColumn._meta.db_table)
    table_keys = ", ".join(f"t.{quote(k)}" for k in TABLE_KEYS)
    column_keys = ", ".join(f"c.{quote(k)}" for k in COLUMN_KEYS)
    # row_to_json of a LATERAL row names each key after its column, in this order, compact and
    # escaped as json.dumps does; the table's object is reopened to append its columns' array, so
    # no JSON is parsed again. The columns are aggregated in the order of the sorted subquery
    # (the ORDER BY sorts the 20-odd keys; one inside string_agg would sort the JSON text).
    return (
        f"SELECT left(row_to_json(line)::text, -1) || ',\"columns\":[' || coalesce(("
        f"SELECT string_agg(j, ',') FROM (SELECT row_to_json(col)::text AS j FROM {columns} c, "
        f"LATERAL (SELECT {column_keys}) col WHERE c.table_id = t.id ORDER BY c.position, c.id) ordered"
        f"), '') || E']}}\\n' "
        f"FROM {tables} t, LATERAL (SELECT NULLIF(t.schema_name, '') AS schema, {table_keys}) line "
        f"WHERE t.data_source_id = %s {where} ORDER BY t.schema_name, t.name, t.id"
    )


class _Utf8Bytes(Loader):
    """The lines as the UTF-8 bytes the response sends: no decoding to str and encoding back."""

    def load(self, data) -> bytes:
        return bytes(data)


def _prepare(conn):
    with conn.cursor() as cursor:
        # The estimate (a subquery per table) passes JIT's thresholds; compiling it costs more
        # than it saves for a query that is mostly row_to_json calls.
        cursor.execute("SET LOCAL jit = off")


def _range_lines(conn, source_id: int, low, high) -> bytes:
    """The lines of the tables from ``low`` (a key, inclusive) to ``high`` (exclusive; None: the end)."""
    where, params = "AND (t.schema_name, t.name, t.id) >= (%s, %s, %s)", [source_id, *low]
    if high is not None:
        where, params = where + " AND (t.schema_name, t.name, t.id) < (%s, %s, %s)", params + list(high)
    with conn.cursor() as cursor:
        cursor.cursor.adapters.register_loader("text", _Utf8Bytes)
        cursor.execute(_sql(where), params)
        return b"".join(row[0] for row in cursor.fetchall())


def _boundaries(source_id: int) -> list[tuple]:
    """The key of every RANGE-th table in export order (the first table's first)."""
    table = connection.ops.quote_name(SchemaTable._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT schema_name, name, id FROM (SELECT schema_name, name, id, "
            f"row_number() OVER (ORDER BY schema_name, name, id) AS n FROM {table} WHERE data_source_id = %s) k "
            f"WHERE n %% %s = 1 ORDER BY n", [source_id, RANGE])
        return cursor.fetchall()


def server_lines(source):
    shareable = not connection.in_atomic_block  # our own transaction: its snapshot can be shared
    with one_snapshot():
        _prepare(connection)
        bounds = _boundaries(source.pk) if shareable else []
        if len(bounds) < 2:
            with connection.chunked_cursor() as cursor:
                cursor.cursor.adapters.register_loader("text", _Utf8Bytes)
                cursor.execute(_sql(""), [source.pk])
                while rows := cursor.fetchmany(RANGE):
                    yield b"".join(row[0] for row in rows)
            return
        ranges = list(zip(bounds, bounds[1:] + [None]))
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
        helper = _Helper(source.pk, snapshot, ranges[1::2]) if _spare_connection() else None
        try:
            for index, (low, high) in enumerate(ranges):
                lines = helper.take() if helper and index % 2 else None
                # Without a helper (no spare connection in the pool) this connection writes all.
                yield _range_lines(connection, source.pk, low, high) if lines is None else lines
        finally:
            if helper:
                helper.stop()


def _spare_connection() -> bool:
    """Whether the pool has a connection for the helper now: exports never wait for one."""
    pool = getattr(connection, "pool", None)
    if pool is None:
        return True  # no pool: the helper opens its own
    stats = pool.get_stats()
    return stats.get("pool_available", 0) > 0 or stats.get("pool_size", 0) < stats.get("pool_max", 0)


class _Helper:
    """Writes the odd ranges on its own connection, one range ahead of the reader."""

    def __init__(self, source_id: int, snapshot: str, ranges):
        self.done, self.results, self.unavailable = threading.Event(), queue.Queue(maxsize=1), False
        self.thread = threading.Thread(target=self._run, args=(source_id, snapshot, ranges), daemon=True)
        self.thread.start()

    def take(self) -> bytes | None:
        """The next odd range's lines; None once the helper found no connection (the reader writes them)."""
        if self.unavailable:
            return None
        kind, value = self.results.get()
        if kind == "error":
            raise value
        self.unavailable = kind == "unavailable"
        return value

    def stop(self):
        self.done.set()
        try:  # unblock a helper waiting to hand over a range nobody will read
            self.results.get_nowait()
        except queue.Empty:
            pass
        self.thread.join()

    def _run(self, source_id, snapshot, ranges):
        conn = connections[connection.alias]  # this thread's own connection
        try:
            conn.ensure_connection()
        except Exception:  # noqa: BLE001 - the pool ran dry after all: the reader writes every range
            self._hand(("unavailable", None))
            conn.close()
            return
        try:
            with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
                _prepare(conn)
                for low, high in ranges:
                    if not self._hand(("lines", _range_lines(conn, source_id, low, high))):
                        return
        except Exception as exc:  # noqa: BLE001 - raised in the reader's thread, where the response is
            self._hand(("error", exc))
        finally:
            conn.close()

    def _hand(self, item) -> bool:
        while not self.done.is_set():
            try:
                self.results.put(item, timeout=WAIT)
                return True
            except queue.Full:
                continue
        return False
