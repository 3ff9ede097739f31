"""Benchmark: how much of a large file the file connectors read to discover its schema.

Writes (once, into a scratch folder) a CSV, a JSON-lines and a Parquet file of --rows rows,
then for each times the reader our connectors use and counts the bytes it pulled from the
file, beside a full read of the same file with pyarrow (what "just load it" would cost).

Usage:  .venv/bin/python bench/file_discovery.py [--rows 2000000] [--runs 3]
"""
import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
SCRATCH = Path(tempfile.gettempdir()) / "rivergen-bench-files"


class CountingFile(io.FileIO):
    """A file that counts the bytes read from it."""

    def __init__(self, path):
        super().__init__(path, "rb")
        self.bytes_read = 0

    def readinto(self, buffer):
        count = super().readinto(buffer) or 0
        self.bytes_read += count
        return count

    def read(self, size=-1):
        data = super().read(size)
        self.bytes_read += len(data)
        return data


def build(rows: int) -> dict[str, Path]:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyarrow import csv as pa_csv

    SCRATCH.mkdir(exist_ok=True)
    formats = (("csv", "csv"), ("json", "jsonl"), ("parquet", "parquet"))
    paths = {fmt: SCRATCH / f"rows_{rows}.{ext}" for fmt, ext in formats}
    if all(p.exists() for p in paths.values()):
        return paths
    table = pa.table({
        "id": pa.array(range(rows), pa.int64()),
        "name": pa.array([f"customer {i}" for i in range(rows)]),
        "amount": pa.array([i * 1.25 for i in range(rows)]),
        "active": pa.array([i % 2 == 0 for i in range(rows)]),
    })
    pa_csv.write_csv(table, paths["csv"])
    pq.write_table(table, paths["parquet"])
    with open(paths["json"], "w") as out:
        for i in range(rows):
            active = "true" if i % 2 == 0 else "false"
            out.write(f'{{"id": {i}, "name": "customer {i}", "amount": {i * 1.25}, "active": {active}}}\n')
    return paths


def full_read(fmt: str, path: Path):
    import pyarrow.parquet as pq
    from pyarrow import csv as pa_csv
    from pyarrow import json as pa_json

    return {"csv": pa_csv.read_csv, "json": pa_json.read_json, "parquet": pq.read_table}[fmt](str(path))


def timed(work, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rivergen.test_settings")
    import django

    django.setup()
    from datasources.connectors.files.formats import read_file

    paths = build(args.rows)
    print(f"{args.rows} rows; median of {args.runs} runs")
    print(f"{'format':8} {'file MiB':>9} {'ours s':>8} {'ours MiB read':>14} {'full read s':>12} {'ratio':>7}")
    for fmt, path in paths.items():
        counted = []

        def ours():
            with CountingFile(path) as handle:
                read_file(fmt, handle, "bench")
                counted.append(handle.bytes_read)

        ours_s = timed(ours, args.runs)
        full_s = timed(lambda: full_read(fmt, path), args.runs)
        size = path.stat().st_size / 2**20
        print(f"{fmt:8} {size:9.1f} {ours_s:8.3f} {counted[-1] / 2**20:14.2f} {full_s:12.3f} {full_s / ours_s:6.0f}x")


if __name__ == "__main__":
    main()
