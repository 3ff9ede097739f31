"""Storing a catalogue read a chunk at a time: a worker holds one chunk, whatever the catalogue's size.

Each chunk of relations arrives with the server's fingerprints; only the tables whose fingerprint
differs from the stored one (or every table, for a full read) are read, diffed and written, as
they arrive. The whole discovery is one transaction: readers keep the previous catalogue until it
commits, and a discovery that fails, times out or whose worker dies is rolled back to it by the
database (README, "Discovery at estate scale").

The reader is driven with ``send``: ``send(None)`` gives the next chunk of relations
``(ref, schema, name, fingerprint)`` (None when there are no more), ``send(wanted)`` the
DiscoveredTables of the refs in ``wanted``.
"""
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from datasources.catalogue import diff as catalogue_diff
from datasources.catalogue import store
from datasources.connectors.base import gc_paused
from datasources.models import DataSource, Discovery, SchemaTable

STORED = ("id", "schema_name", "name", "signature", "kind", "fingerprint", "column_count")
PK, SIGNATURE, FINGERPRINT, COLUMN_COUNT = 0, 3, 5, 6
OR_BATCH = 200  # (schema, name) pairs per OR-ed lookup on backends without arrays


@dataclass
class _Progress:
    full: bool
    baseline: bool
    seen: set = field(default_factory=set)  # ids of the stored tables the server still lists
    changes: list = field(default_factory=list)
    tables: int = 0
    columns: int = 0


def catalogue_store_chunks(*, source: DataSource, reader, discovery: Discovery | None = None,
                           full: bool = False) -> store.StoreResult:
    """Make the stored catalogue equal what ``reader`` lists; readers see the old one or the new one.

    ``full`` reads every table's columns, whatever the fingerprints say.
    """
    with gc_paused(), transaction.atomic():
        discovered_at = store.lock_catalogue(source)
        stored = SchemaTable.objects.filter(data_source=source)
        baseline = discovered_at is None or stored.filter(signature="").exists()
        last_stored_id = stored.order_by("-pk").values_list("pk", flat=True).first() or 0
        progress = _Progress(full=full or baseline, baseline=baseline)
        while (relations := reader.send(None)) is not None:
            _store_chunk(source, reader, relations, progress)
        removed = _vanished(source, progress.seen, last_stored_id)
        changes = progress.changes + store.write_diff(source, catalogue_diff.TableDiff(removed=removed))
        if baseline:
            changes = []
        now = timezone.now()
        if discovery is not None and changes:
            store.record_changes(source, discovery, changes, now)
        DataSource.objects.filter(pk=source.pk).update(schema_discovered_at=now)
    return store.StoreResult(progress.tables, progress.columns, baseline, changes)


def _store_chunk(source, reader, relations, progress: _Progress):
    keys = {ref: (catalogue_diff.key_of(schema, name), fingerprint) for ref, schema, name, fingerprint in relations}
    stored = _stored(source, [key for key, _ in keys.values()])
    wanted = set()
    for ref, (key, fingerprint) in keys.items():
        row = stored.get(key)
        if row is not None:
            progress.seen.add(row[PK])
        if progress.full or row is None or not fingerprint or row[FINGERPRINT] != fingerprint:
            wanted.add(ref)
        else:
            progress.columns += row[COLUMN_COUNT]
    progress.tables += len(relations)
    tables = reader.send(wanted)
    fingerprints = dict(keys.values())
    fetched = [catalogue_diff.key(t) for t in tables]
    diff = catalogue_diff.diff_tables([stored[k][:5] for k in fetched if k in stored], tables)
    diff.fingerprints = fingerprints
    changes = store.write_diff(source, diff)
    if not progress.baseline:
        progress.changes += changes
    progress.columns += sum(len(t.columns) for t in tables)
    rewritten = {pk for pk, _ in diff.changed}
    # Read again but found equal (a fingerprint that moved without a change): keep the new fingerprint.
    _set_fingerprints([(stored[k][PK], fingerprints.get(k, "")) for k in fetched
                       if k in stored and stored[k][PK] not in rewritten and stored[k][FINGERPRINT] != fingerprints.get(k, "")])


def _stored(source, keys) -> dict:
    """The stored rows of the tables named in ``keys``, by key."""
    if not keys:
        return {}
    if connection.vendor == "postgresql":
        meta, quote = SchemaTable._meta, connection.ops.quote_name
        fields = ", ".join(f"t.{quote(meta.get_field(f).column)}" for f in STORED)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {fields} FROM {quote(meta.db_table)} t JOIN unnest(%s::text[], %s::text[]) AS k(s, n) "
                f"ON t.schema_name = k.s AND t.name = k.n WHERE t.data_source_id = %s",
                [[s for s, _ in keys], [n for _, n in keys], source.pk],
            )
            rows = cursor.fetchall()
    else:
        rows = []
        for start in range(0, len(keys), OR_BATCH):
            match = Q()
            for schema, name in keys[start:start + OR_BATCH]:
                match |= Q(schema_name=schema, name=name)
            rows += SchemaTable.objects.filter(match, data_source=source).values_list(*STORED)
    return {(row[1], row[2]): row for row in rows}


def _vanished(source, seen: set, last_stored_id: int) -> list:
    """The stored tables the server no longer lists, as TableDiff.removed wants them."""
    before = SchemaTable.objects.filter(data_source=source, pk__lte=last_stored_id)
    if before.count() == len(seen):
        return []
    rows = before.values_list("pk", "schema_name", "name", "kind").iterator(chunk_size=5000)
    return [(pk, (schema, name), kind) for pk, schema, name, kind in rows if pk not in seen]


def _set_fingerprints(pairs):
    if pairs:
        SchemaTable.objects.bulk_update([SchemaTable(pk=pk, fingerprint=fp) for pk, fp in pairs], ["fingerprint"],
                                        batch_size=store.BATCH_SIZE)
