"""Readers for table formats uploaded as a zip of the table folder: each takes the extracted
folder and returns (version, tables), reading only the table's metadata, never its data.

- Delta Lake: deltalake (delta-rs) reads ``_delta_log``;
- Iceberg: pyiceberg's ``StaticTable`` reads the current ``metadata/*.metadata.json``;
- Hudi: hudi (hudi-rs) reads ``.hoodie`` (the latest commit's writer schema).
"""
import json
import re
from pathlib import Path, PurePosixPath

from datasources.connectors.base import (
    ConnectorError,
    DiscoveredColumn,
    DiscoveredTable,
)
from datasources.connectors.files.formats import arrow_columns


def invalid(what: str, reason: str) -> ConnectorError:
    return ConnectorError("INVALID_FILE", f"The archive is not a readable {what}: {reason}")


def library_reason(exc: Exception, folder: Path) -> str:
    """The library's message without our temporary folder's path in it."""
    text = (str(exc).splitlines() or [type(exc).__name__])[0]
    return text.replace(f"file://{folder}", "").replace(str(folder), "")[:200] or type(exc).__name__


def find_root(folder: Path, marker: str, what: str) -> Path:
    """The shallowest folder holding ``marker`` (the zip may wrap the table in one folder)."""
    hits = sorted(folder.rglob(marker), key=lambda p: len(p.parts))
    if not hits:
        raise invalid(what, f"no {marker} found in it.")
    return hits[0].parent if "/" not in marker else hits[0].parent.parent


def table_name(root: Path, folder: Path, fallback: str) -> str:
    return root.name if root != folder else fallback


# --- Delta Lake -------------------------------------------------------------------------------

def delta_type(spec) -> str:
    """Delta's own type names, nested types spelled out (``array<string>``)."""
    if isinstance(spec, str):
        return spec
    kind = spec["type"]
    if kind == "array":
        return f"array<{delta_type(spec['elementType'])}>"
    if kind == "map":
        return f"map<{delta_type(spec['keyType'])}, {delta_type(spec['valueType'])}>"
    return "struct<" + ", ".join(f"{f['name']}: {delta_type(f['type'])}" for f in spec["fields"]) + ">"


def read_delta(folder: Path, fallback: str):
    import deltalake

    root = find_root(folder, "_delta_log", "Delta Lake table")
    try:
        table = deltalake.DeltaTable(str(root))
        fields = json.loads(table.schema().to_json())["fields"]
        metadata, protocol = table.metadata(), table.protocol()
    except Exception as exc:  # delta-rs raises its own error family; any of them means unreadable
        raise invalid("Delta Lake table", library_reason(exc, folder)) from None
    columns = [
        DiscoveredColumn(f["name"], delta_type(f["type"]), f.get("nullable", True), False, i)
        for i, f in enumerate(fields, start=1)
    ]
    version = (
        f"Delta Lake table version {table.version()} (reader {protocol.min_reader_version}, "
        f"writer {protocol.min_writer_version}) via deltalake {deltalake.__version__}"
    )
    name = metadata.name or table_name(root, folder, fallback)
    return version, [DiscoveredTable(None, name, columns=columns)]


# --- Iceberg ----------------------------------------------------------------------------------

METADATA_VERSION = re.compile(r"^v?(\d+)[-.]")


def current_metadata(metadata_dir: Path) -> Path:
    """The file version-hint.text points at, else the highest-numbered metadata file."""
    hint = metadata_dir / "version-hint.text"
    if hint.is_file():
        hinted = metadata_dir / f"v{hint.read_text().strip()}.metadata.json"
        if hinted.is_file():
            return hinted
    candidates = [p for p in metadata_dir.glob("*.metadata.json") if METADATA_VERSION.match(p.name)]
    if not candidates:
        raise invalid("Iceberg table", "no metadata/*.metadata.json found in it.")
    return max(candidates, key=lambda p: int(METADATA_VERSION.match(p.name)[1]))


def read_iceberg(folder: Path, fallback: str):
    import pyiceberg
    from pyiceberg.table import StaticTable

    root = find_root(folder, "metadata/*.metadata.json", "Iceberg table")
    try:
        table = StaticTable.from_metadata(str(current_metadata(root / "metadata")))
        schema = table.schema()
    except ConnectorError:
        raise
    except Exception as exc:  # pyiceberg raises validation, IO and value errors alike
        raise invalid("Iceberg table", library_reason(exc, folder)) from None
    keys = set(schema.identifier_field_ids)
    columns = [
        DiscoveredColumn(f.name, str(f.field_type), not f.required, f.field_id in keys, i)
        for i, f in enumerate(schema.fields, start=1)
    ]
    version = f"Iceberg format v{table.metadata.format_version} via pyiceberg {pyiceberg.__version__}"
    location = PurePosixPath(str(table.metadata.location)).name
    return version, [DiscoveredTable(None, location or table_name(root, folder, fallback), columns=columns)]


# --- Hudi -------------------------------------------------------------------------------------

COMMIT_SUFFIXES = (".commit", ".deltacommit", ".replacecommit")


def check_hudi_paths(hoodie: Path) -> None:
    """Commit files name the data files; none may point outside the table folder."""
    for instant in hoodie.rglob("*"):
        if not instant.is_file() or not instant.name.endswith(COMMIT_SUFFIXES):
            continue
        try:
            stats = json.loads(instant.read_text() or "{}").get("partitionToWriteStats") or {}
        except (ValueError, AttributeError, UnicodeDecodeError):
            continue  # not JSON (newer Avro timelines): hudi-rs resolves those relative to the table
        for entries in stats.values():
            for entry in entries or ():
                path = str((entry or {}).get("path") or "")
                if path.startswith("/") or "://" in path or ".." in PurePosixPath(path).parts:
                    raise ConnectorError("ARCHIVE_UNSAFE", "A Hudi commit names a file outside the table.")


def read_hudi(folder: Path, fallback: str):
    import hudi

    root = find_root(folder, ".hoodie/hoodie.properties", "Hudi table")
    check_hudi_paths(root / ".hoodie")
    try:
        table = hudi.HudiTable(str(root))
        schema, options = table.get_schema(), table.hudi_options()
    except Exception as exc:  # hudi-rs raises plain exceptions carrying its own messages
        raise invalid("Hudi table", library_reason(exc, folder)) from None
    keys = {k.strip() for k in options.get("hoodie.table.recordkey.fields", "").split(",") if k.strip()}
    columns = arrow_columns(schema)
    for column in columns:
        column.primary_key = column.name in keys
    version = (
        f"Hudi {table.table_type} table version {options.get('hoodie.table.version', '?')} "
        f"via hudi-rs {hudi.__version__}"
    )
    return version, [DiscoveredTable(None, table.table_name or table_name(root, folder, fallback), columns=columns)]


READERS = {"delta_lake": read_delta, "iceberg": read_iceberg, "hudi": read_hudi}
