"""Storing a catalogue read a chunk at a time: a worker holds one chunk, whatever the catalogue's size.

Each chunk of relations arrives with the server's fingerprints; only the tables whose fingerprint
differs from the stored one (or every table, for a full read) are read, diffed and written, as
they arrive. The whole discovery is one transaction: readers keep the previous catalogue until it
commits, and a discovery that fails, times out or whose worker dies is rolled back to it by the
database (README, "Discovery at estate scale").

``read(choose)`` gives the chunks ``(listed, tables[, copied])``: ``listed`` the relations
``(ref, schema, name, fingerprint)``, ``tables`` the DiscoveredTables of the refs ``choose(listed)``
returned, ``copied`` those of its new tables the reader copied straight (see catalogue/copied.py:
offered when the catalogue is in PostgreSQL). ``choose`` may run in the reader's thread, a chunk
ahead of the writing: it touches the in-memory index of stored tables, and the database only to
draw ids for new tables (through its thread's own connection, see catalogue/copied.py).
"""
import threading
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from datasources.catalogue import copied as catalogue_copied
from datasources.catalogue import diff as catalogue_diff
from datasources.catalogue import store
from datasources.connectors.base import gc_paused
from datasources.models import DataSource, Discovery, SchemaColumn, SchemaTable

# After writing or deleting this many tables (twenty times as many columns), the planner's
# statistics are refreshed at once rather than whenever autovacuum comes by: with stale ones
# it reads 2,000,000 columns by sequential scan to export or page through 500 tables.
ANALYZE_AFTER = 20000
ROW = ("pk", "schema_name", "name", "signature", "kind")  # what diff_tables compares
ID_CHUNK = 500
IDS_AHEAD = 4  # chunks of new table ids drawn at once when a chunk is all new


class _Wanted(set):
    """The refs to read; ``fresh`` maps the new ones among them to ids they may be copied with."""
    fresh: dict


@dataclass
class _Progress:
    full: bool
    baseline: bool
    copy: bool = False  # new tables may be copied straight (catalogue/copied.py)
    ready: threading.Event = field(default_factory=threading.Event)  # set once ``unlisted`` is filled
    # The stored tables not yet listed by the server: "schema\0name" -> (id, fingerprint, column_count).
    # About 150 bytes a table (no columns): what remains at the end has vanished.
    unlisted: dict = field(default_factory=dict)
    listed: dict = field(default_factory=dict)  # the same, moved here by choose() until its chunk is written
    unread_columns: int = 0  # of the tables whose fingerprint did not change (counted by choose())
    changes: list = field(default_factory=list)
    tables: int = 0
    columns: int = 0
    rewritten: int = 0  # tables inserted, rewritten or deleted
    ids: list = field(default_factory=list)  # drawn ahead for new tables (catalogue/copied.py)

    def choose(self, listed) -> set:
        """The refs to read: new tables, and those whose fingerprint moved (all of them, for a full read)."""
        self.ready.wait()
        wanted, new = _Wanted(), []
        for ref, schema, name, fingerprint in listed:
            schema, name = catalogue_diff.key_of(schema, name)
            entry = self.unlisted.pop(f"{schema}\0{name}", None)
            if entry is not None:
                self.listed[(schema, name)] = entry
            else:
                new.append(ref)
            if self.full or entry is None or not fingerprint or entry[1] != fingerprint:
                wanted.add(ref)
            else:
                self.unread_columns += entry[2]
        wanted.fresh = dict(zip(new, self._ids(len(new), whole=len(new) == len(listed)))) if self.copy else {}
        return wanted

    def _ids(self, count: int, *, whole: bool) -> list[int]:
        """``count`` new table ids. A chunk that is all new (a first discovery) draws ids for the
        next chunks too, one round trip to the catalogue per five chunks. Ids left over at the end
        are a gap in the sequence, as are a failed discovery's."""
        if count > len(self.ids):
            self.ids += catalogue_copied.draw_ids(count - len(self.ids) + (IDS_AHEAD * count if whole else 0))
        taken, self.ids = self.ids[:count], self.ids[count:]
        return taken


def catalogue_store_chunks(*, source: DataSource, read, discovery: Discovery | None = None,
                           full: bool = False) -> store.StoreResult:
    """Make the stored catalogue equal what ``read`` lists; readers see the old one or the new one.

    ``full`` reads every table's columns, whatever the fingerprints say.
    """
    with gc_paused(), transaction.atomic():
        discovered_at = store.lock_catalogue(source)
        defer_again = _check_source_per_chunk()
        stored = SchemaTable.objects.filter(data_source=source)
        baseline = discovered_at is None or stored.filter(signature="").exists()
        progress = _Progress(full=full or baseline, baseline=baseline)
        progress.copy = catalogue_copied.usable()
        chunks = read(progress.choose)
        getattr(chunks, "start", lambda: None)()  # the source's first query runs while the stored index is read
        try:
            progress.unlisted = _stored_index(source)
        finally:
            progress.ready.set()  # choose() waits for the index
        for listed, tables, *copied in chunks:
            _store_chunk(source, listed, tables, progress)
            if copied:
                _store_copied(source, listed, copied[0], progress)
        defer_again()
        removed = _rows([pk for pk, _, _ in progress.unlisted.values()])
        vanished = catalogue_diff.TableDiff(removed=[(pk, (schema, name), kind) for pk, schema, name, _, kind in removed])
        changes = progress.changes + store.write_diff(source, vanished)
        if baseline:
            changes = []
        now = timezone.now()
        if discovery is not None and changes:
            store.record_changes(source, discovery, changes, now)
        # An unchanged refresh keeps the stored counts (no GROUP BY over 100,000 rows).
        store.mark_stored(source, now, recount=bool(progress.rewritten or removed))
    if progress.rewritten + len(removed) >= ANALYZE_AFTER and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {SchemaTable._meta.db_table}, {SchemaColumn._meta.db_table}")
    return store.StoreResult(progress.tables, progress.columns + progress.unread_columns, baseline, changes)


def _check_source_per_chunk():
    """On PostgreSQL, have each stored table's reference to its source checked as its chunk is
    written, while the reader reads the next one, not in 100,000 deferred checks after the last
    (0.3 s at commit). Only that constraint, and only until the returned function puts it back:
    the storing transaction may be part of a caller's (a failed store leaves the caller's checking
    that constraint at once, which is only earlier, never weaker)."""
    if connection.vendor != "postgresql":
        return lambda: None
    with connection.cursor() as cursor:
        cursor.execute("SELECT conname FROM pg_catalog.pg_constraint WHERE contype = 'f' AND condeferrable "
                       "AND conrelid = %s::regclass AND confrelid = %s::regclass",
                       [SchemaTable._meta.db_table, DataSource._meta.db_table])
        names = ", ".join(connection.ops.quote_name(name) for name, in cursor.fetchall())
        if not names:
            return lambda: None
        cursor.execute(f"SET CONSTRAINTS {names} IMMEDIATE")

    def deferred_again():
        with connection.cursor() as cursor:
            cursor.execute(f"SET CONSTRAINTS {names} DEFERRED")
    return deferred_again


def _stored_index(source) -> dict:
    """"schema\0name" -> (id, fingerprint, column_count) of every stored table: plain rows, no ORM,
    through a server-side cursor on PostgreSQL (the whole result at once would add 15 MB at 100,000)."""
    meta = SchemaTable._meta
    with connection.chunked_cursor() as cursor:
        cursor.execute(f"SELECT schema_name, name, id, fingerprint, column_count FROM {meta.db_table} "
                       "WHERE data_source_id = %s", [source.pk])
        index = {}
        while rows := cursor.fetchmany(10000):
            index.update((f"{schema}\0{name}", (pk, fingerprint, count)) for schema, name, pk, fingerprint, count in rows)
    return index


def _store_copied(source, listed, copied, progress: _Progress):
    fingerprints = {catalogue_diff.key_of(schema, name): fingerprint for ref, schema, name, fingerprint in listed
                    if ref in copied.refs}
    columns, changes = catalogue_copied.store_copied(source, copied, fingerprints)
    if not progress.baseline:
        progress.changes += changes
    progress.columns += columns
    progress.rewritten += len(copied.tables)


def _store_chunk(source, listed, tables, progress: _Progress):
    fingerprints = {catalogue_diff.key_of(schema, name): fingerprint for _, schema, name, fingerprint in listed}
    known = {key: progress.listed.pop(key) for key in fingerprints if key in progress.listed}
    progress.tables += len(listed)
    fetched = [catalogue_diff.key(t) for t in tables]
    diff = catalogue_diff.diff_tables(_rows([known[k][0] for k in fetched if k in known]), tables)
    diff.fingerprints = fingerprints
    changes = store.write_diff(source, diff)
    if not progress.baseline:
        progress.changes += changes
    progress.columns += sum(len(t.columns) for t in tables)
    progress.rewritten += len(diff.added) + len(diff.changed) + len(diff.removed)
    rewritten = {pk for pk, _ in diff.changed}
    # Read again but found equal (a fingerprint that moved without a change): keep the new fingerprint.
    _set_fingerprints([(known[k][0], fingerprints[k]) for k in fetched
                       if k in known and known[k][0] not in rewritten and known[k][1] != fingerprints[k]])


def _rows(ids) -> list[tuple]:
    """Stored tables as diff_tables takes them, by id."""
    rows = []
    for start in range(0, len(ids), ID_CHUNK):
        rows += SchemaTable.objects.filter(pk__in=ids[start:start + ID_CHUNK]).values_list(*ROW)
    return rows


def _set_fingerprints(pairs):
    if pairs:
        SchemaTable.objects.bulk_update([SchemaTable(pk=pk, fingerprint=fp) for pk, fp in pairs], ["fingerprint"],
                                        batch_size=store.BATCH_SIZE)
