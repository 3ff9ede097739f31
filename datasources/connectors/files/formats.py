"""Readers for single-file formats: each takes an open binary file and returns (version, tables).

CSV and JSON types are inferred from a bounded sample (``DATASOURCES_FILE_SAMPLE_ROWS``,
default 1,000 rows, and ``DATASOURCES_FILE_SAMPLE_BYTES``, default 4 MiB); Parquet and ORC
schemas come from the file footer without reading the data; an Excel workbook gives one
table per worksheet, typed from its first rows. Type names are Arrow's (``int64``,
``double``, ``string``, ``timestamp[us]``…) so that every file format speaks one vocabulary.
"""
import csv
import io
import json

from django.conf import settings

from datasources.connectors.base import (
    ConnectorError,
    DiscoveredColumn,
    DiscoveredTable,
)
from datasources.security.archives import check_zip


def sample_rows() -> int:
    return getattr(settings, "DATASOURCES_FILE_SAMPLE_ROWS", 1000)


def sample_bytes() -> int:
    return getattr(settings, "DATASOURCES_FILE_SAMPLE_BYTES", 4 * 1024 * 1024)


def invalid(what: str, reason: str = "") -> ConnectorError:
    detail = f": {reason}" if reason else "."
    return ConnectorError("INVALID_FILE", f"The file is not a readable {what}{detail}")


def unique_names(raw) -> list[str]:
    """Blank names become column_N and repeats get a suffix, so every column can be addressed."""
    seen, names = set(), []
    for position, name in enumerate(raw, start=1):
        name = str(name).strip() if name is not None else ""
        name = name or f"column_{position}"
        candidate, n = name, 2
        while candidate.casefold() in seen:
            candidate, n = f"{name}_{n}", n + 1
        seen.add(candidate.casefold())
        names.append(candidate)
    return names


def infer_type(values, mixed: str) -> str:
    """The Arrow type of a sample of Python values; ``mixed`` when they share none."""
    import pyarrow as pa

    try:
        arrow_type = pa.array(values, from_pandas=False).type
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
        return mixed
    return "string" if pa.types.is_null(arrow_type) else str(arrow_type)


def arrow_columns(schema, *, sampled: bool = False) -> list[DiscoveredColumn]:
    """Columns from an Arrow schema; a sampled schema (CSV) guarantees nothing about nulls."""
    import pyarrow as pa

    columns = []
    for position, field in enumerate(schema, start=1):
        data_type = "string" if pa.types.is_null(field.type) else str(field.type)
        nullable = True if sampled else field.nullable
        columns.append(DiscoveredColumn(field.name, data_type, nullable, False, position))
    return columns


class Prefix(io.RawIOBase):
    """The first ``limit`` bytes of a file, then end of file: pyarrow reads ahead greedily."""

    def __init__(self, handle, limit: int):
        super().__init__()
        self.handle, self.left = handle, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.handle.read(min(len(buffer), self.left)) if self.left > 0 else b""
        buffer[: len(data)] = data
        self.left -= len(data)
        return len(data)


def read_csv(handle, name: str):
    import pyarrow as pa
    from pyarrow import csv as pa_csv

    head = handle.read(64 * 1024)
    handle.seek(0)
    text = head.decode("utf-8-sig", errors="replace")
    try:
        delimiter = csv.Sniffer().sniff(text, delimiters=",;\t|").delimiter
    except csv.Error:  # one column, or nothing to go on
        delimiter = ","
    try:
        # Types come from the first block only; a second block's worth of bytes lets pyarrow
        # see that the first one is not the last, so it never parses a cut-off row.
        reader = pa_csv.open_csv(
            Prefix(handle, 2 * sample_bytes()),
            read_options=pa_csv.ReadOptions(block_size=sample_bytes(), use_threads=False),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        )
        schema = reader.schema
        try:
            reader.read_next_batch()  # parse that block, so a broken row shows now
        except StopIteration:  # a header and no rows is still a table
            pass
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError) as exc:
        raise invalid("CSV file", str(exc).splitlines()[0][:200]) from None
    renamed = schema.with_metadata(None)
    names = unique_names(renamed.names)
    renamed = pa.schema([field.with_name(n) for field, n in zip(renamed, names)])
    version = f"CSV (delimiter {delimiter!r}) via pyarrow {pa.__version__}"
    return version, [DiscoveredTable(None, name, columns=arrow_columns(renamed, sampled=True))]


def json_records(text: str, complete: bool) -> list:
    """Up to the sample's row limit of values from a JSON array, JSON lines or concatenated JSON."""
    decoder, limit = json.JSONDecoder(), sample_rows()
    position = len(text) - len(text.lstrip())
    if position == len(text):
        raise invalid("JSON file", "it is empty")
    in_array = text[position] == "["
    position += in_array
    records = []
    while len(records) < limit:
        while position < len(text) and (text[position].isspace() or (in_array and text[position] == ",")):
            position += 1
        if position >= len(text) or (in_array and text[position] == "]"):
            break
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            if not complete and records:
                break  # the sample ends inside a record: keep the whole ones
            if not complete:
                raise invalid("JSON file", f"its first record is larger than the {len(text)}-byte sample") from None
            raise invalid("JSON file", f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
        records.append(value)
    if not records or not all(isinstance(r, dict) for r in records):
        raise invalid("JSON file", "expected an array of objects or one object per line")
    return records


def read_json(handle, name: str):
    import pyarrow as pa

    raw = handle.read(sample_bytes() + 1)
    complete = len(raw) <= sample_bytes()
    try:
        text = raw[: sample_bytes()].decode("utf-8-sig", errors="strict" if complete else "ignore")
    except UnicodeDecodeError:
        raise invalid("JSON file", "it is not UTF-8 text") from None
    records = json_records(text, complete)
    keys = list(dict.fromkeys(k for record in records for k in record))
    columns = [
        DiscoveredColumn(key, infer_type([r.get(key) for r in records], mixed="json"), True, False, i)
        for i, key in enumerate(keys, start=1)
    ]
    return f"JSON ({len(records)} records sampled) via pyarrow {pa.__version__}", [
        DiscoveredTable(None, name, columns=columns)
    ]


def read_parquet(handle, name: str):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(handle)
        schema, meta = parquet.schema_arrow, parquet.metadata
    except (pa.ArrowInvalid, OSError) as exc:
        raise invalid("Parquet file", str(exc).splitlines()[0][:200]) from None
    version = f"Parquet {meta.format_version} ({meta.num_rows} rows) via pyarrow {pa.__version__}"
    return version, [DiscoveredTable(None, name, columns=arrow_columns(schema))]


def read_orc(handle, name: str):
    import pyarrow as pa
    from pyarrow import orc

    try:
        orc_file = orc.ORCFile(handle)
        schema = orc_file.schema
    except (pa.ArrowInvalid, OSError) as exc:
        raise invalid("ORC file", str(exc).splitlines()[0][:200]) from None
    version = f"ORC {orc_file.file_version} ({orc_file.nrows} rows) via pyarrow {pa.__version__}"
    return version, [DiscoveredTable(None, name, columns=arrow_columns(schema))]


def sheet_table(sheet) -> DiscoveredTable:
    rows = sheet.iter_rows(max_row=sample_rows() + 1, values_only=True)
    header = next((row for row in rows if any(v is not None for v in row)), ())
    width = max((i + 1 for i, v in enumerate(header) if v is not None), default=0)
    body = [row[:width] + (None,) * (width - len(row)) for row in rows]
    columns = [
        DiscoveredColumn(column, infer_type([row[i] for row in body], mixed="string"), True, False, i + 1)
        for i, column in enumerate(unique_names(header[:width]))
    ]
    return DiscoveredTable(None, sheet.title, columns=columns)


def read_excel(handle, name: str):
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with zipfile.ZipFile(handle) as archive:
            check_zip(archive)  # an xlsx is a zip: refuse bombs before openpyxl inflates it
        handle.seek(0)
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise invalid("Excel workbook (.xlsx)", str(exc).splitlines()[0][:200] if str(exc) else "") from None
    try:
        tables = [sheet_table(sheet) for sheet in workbook.worksheets]
    finally:
        workbook.close()
    return f"Excel workbook, {len(tables)} sheet(s), via openpyxl {openpyxl.__version__}", tables


READERS = {"csv": read_csv, "json": read_json, "parquet": read_parquet, "orc": read_orc, "excel": read_excel}

# The format of an object (the ``s3`` type) follows from its extension.
EXTENSIONS = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv",
    ".json": "json", ".jsonl": "json", ".ndjson": "json",
    ".parquet": "parquet", ".pq": "parquet", ".orc": "orc",
    ".xlsx": "excel", ".xlsm": "excel",
}


def format_from_extension(filename: str) -> str:
    lowered = filename.lower()
    for extension, file_format in EXTENSIONS.items():
        if lowered.endswith(extension):
            return file_format
    raise ConnectorError(
        "UNSUPPORTED_FORMAT",
        f"Cannot tell the format of {filename!r} from its extension; "
        f"use one of {', '.join(sorted(EXTENSIONS))}.",
    )


def read_file(file_format: str, handle, name: str):
    return READERS[file_format](handle, name)
