"""Safe zip handling for uploaded table directories (Delta Lake, Iceberg, Hudi) and xlsx workbooks.

Every member is checked before a single byte is written: no absolute paths, no ``..``,
no symlinks or other special files, a bounded member count, a bounded total size and a
bounded compression ratio. While extracting, the bytes really written are counted too,
because the sizes a zip declares can lie. Limits come from settings with defaults:

- ``DATASOURCES_ARCHIVE_MAX_MEMBERS`` (10,000 entries),
- ``DATASOURCES_ARCHIVE_MAX_BYTES`` (2 GiB uncompressed in all),
- ``DATASOURCES_ARCHIVE_MAX_RATIO`` (200: uncompressed / compressed size of one member;
  checked for members above 1 MiB, where a high ratio starts to matter);
- ``DATASOURCES_ARCHIVE_TEMP_DIR`` (the system's temporary folder): where archives unpack.
"""
import os
import shutil
import stat
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from django.conf import settings

RATIO_CHECK_FROM = 1024 * 1024
CHUNK = 1024 * 1024


class UnsafeArchive(Exception):
    """The archive breaks a safety rule; the message names the rule, never a server path."""


def limits() -> tuple[int, int, int]:
    return (
        getattr(settings, "DATASOURCES_ARCHIVE_MAX_MEMBERS", 10_000),
        getattr(settings, "DATASOURCES_ARCHIVE_MAX_BYTES", 2 * 1024**3),
        getattr(settings, "DATASOURCES_ARCHIVE_MAX_RATIO", 200),
    )


def _is_link_or_special(info: zipfile.ZipInfo) -> bool:
    # Many writers (openpyxl among them) leave the file-type bits at 0: that means a plain file.
    return stat.S_IFMT(info.external_attr >> 16) not in (0, stat.S_IFREG, stat.S_IFDIR)


def _check_name(name: str) -> None:
    # Windows separators and drive letters count: another tool may extract this archive too.
    normal = name.replace("\\", "/")
    parts = PurePosixPath(normal).parts
    if normal.startswith("/") or (len(normal) > 1 and normal[1] == ":"):
        raise UnsafeArchive(f"The archive has an absolute path: {name!r}.")
    if ".." in parts:
        raise UnsafeArchive(f"The archive has a path that leaves its folder: {name!r}.")
    if "\x00" in name:
        raise UnsafeArchive("The archive has a member name with a NUL byte.")


def check_zip(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The archive's members once every rule holds; UnsafeArchive otherwise."""
    max_members, max_bytes, max_ratio = limits()
    members = archive.infolist()
    if len(members) > max_members:
        raise UnsafeArchive(f"The archive has {len(members)} members; at most {max_members} are allowed.")
    total = 0
    for info in members:
        _check_name(info.filename)
        if _is_link_or_special(info):
            raise UnsafeArchive(f"The archive has a symlink or special file: {info.filename!r}.")
        if info.flag_bits & 0x1:
            raise UnsafeArchive(f"The archive has an encrypted member: {info.filename!r}.")
        total += info.file_size
        if total > max_bytes:
            raise UnsafeArchive(f"The archive unpacks to more than {max_bytes} bytes.")
        if info.file_size > RATIO_CHECK_FROM and info.file_size > max_ratio * max(info.compress_size, 1):
            raise UnsafeArchive(
                f"The member {info.filename!r} is compressed more than {max_ratio}:1 (a zip bomb?)."
            )
    return members


def _copy_bounded(source, target, allowed: int) -> int:
    written = 0
    while chunk := source.read(CHUNK):
        written += len(chunk)
        if written > allowed:
            raise UnsafeArchive("The archive unpacks to more bytes than it declares.")
        target.write(chunk)
    return written


def extract_zip(fileobj, destination: Path) -> None:
    """Extract a checked zip into ``destination`` (an empty folder we own)."""
    root = destination.resolve()
    with zipfile.ZipFile(fileobj) as archive:
        members = check_zip(archive)
        budget = limits()[1]
        for info in members:
            target = (root / info.filename.replace("\\", "/")).resolve()
            if target != root and root not in target.parents:  # belt and braces after _check_name
                raise UnsafeArchive(f"The archive has a path that leaves its folder: {info.filename!r}.")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                out = open(target, "xb")
            except FileExistsError:
                raise UnsafeArchive(f"The archive holds {info.filename!r} twice.") from None
            with archive.open(info) as source, out:
                budget -= _copy_bounded(source, out, min(info.file_size, budget))


@contextmanager
def extracted_zip(fileobj):
    """A temporary folder holding the checked archive's contents, removed afterwards."""
    parent = getattr(settings, "DATASOURCES_ARCHIVE_TEMP_DIR", None)
    folder = Path(tempfile.mkdtemp(prefix="rivergen-archive-", dir=parent))
    try:
        os.chmod(folder, 0o700)
        extract_zip(fileobj, folder)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
