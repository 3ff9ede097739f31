"""Safe zip extraction on real archives: every unsafe one refused before anything is written."""
import io
import zipfile

import pytest

from datasources.security.archives import UnsafeArchive, extract_zip, extracted_zip
from tests.support.files import zip_members, zip_with_symlink


def refused(archive: bytes, folder) -> str:
    with pytest.raises(UnsafeArchive) as caught:
        extract_zip(io.BytesIO(archive), folder)
    return str(caught.value)


def test_safe_archive_is_extracted_with_its_folders(tmp_path):
    archive = zip_members({"table/_delta_log/0.json": b"{}", "table/part-0.parquet": b"data", "table/empty/": b""})

    extract_zip(io.BytesIO(archive), tmp_path)

    assert (tmp_path / "table" / "_delta_log" / "0.json").read_bytes() == b"{}"
    assert (tmp_path / "table" / "part-0.parquet").read_bytes() == b"data"
    assert (tmp_path / "table" / "empty").is_dir()


@pytest.fixture
def temp_parent(settings, tmp_path):
    """The folder extracted_zip makes its temporary folders in, to see what it leaves behind."""
    settings.DATASOURCES_ARCHIVE_TEMP_DIR = str(tmp_path)
    return tmp_path


def test_extracted_folder_is_removed_afterwards(temp_parent):
    with extracted_zip(io.BytesIO(zip_members({"a.txt": b"x"}))) as folder:
        assert folder.parent == temp_parent
        assert (folder / "a.txt").read_bytes() == b"x"

    assert list(temp_parent.iterdir()) == []


def test_extracted_folder_is_removed_when_the_archive_is_refused(temp_parent):
    entered = False
    with pytest.raises(UnsafeArchive):
        with extracted_zip(io.BytesIO(zip_members({"ok.txt": b"x", "../bad.txt": b"y"}))):
            entered = True  # pragma: no cover - never entered

    assert entered is False
    assert list(temp_parent.iterdir()) == []


def test_extracted_folder_is_removed_when_the_caller_fails(temp_parent):
    with pytest.raises(RuntimeError):
        with extracted_zip(io.BytesIO(zip_members({"a.txt": b"x"}))):
            raise RuntimeError("the reader failed")

    assert list(temp_parent.iterdir()) == []


@pytest.mark.parametrize("name", ["../escaped.txt", "table/../../escaped.txt", "..\\escaped.txt"])
def test_zip_slip_is_refused_and_nothing_is_written(tmp_path, name):
    inner = tmp_path / "inner"
    inner.mkdir()

    message = refused(zip_members({"fine.txt": b"x", name: b"pwned"}), inner)

    assert "leaves its folder" in message
    assert list(tmp_path.rglob("*")) == [inner]  # not even the safe member was written


@pytest.mark.parametrize("name", ["/etc/cron.d/evil", "C:/Windows/evil.dll", "\\\\server\\share\\x"])
def test_absolute_paths_are_refused(tmp_path, name):
    assert "absolute path" in refused(zip_members({name: b"x"}), tmp_path)


def test_symlink_member_is_refused(tmp_path):
    message = refused(zip_with_symlink("table/_delta_log", "/etc"), tmp_path)

    assert "symlink" in message
    assert not (tmp_path / "table").exists()


def test_too_many_members_are_refused(tmp_path, settings):
    settings.DATASOURCES_ARCHIVE_MAX_MEMBERS = 5

    message = refused(zip_members({f"f{i}.txt": b"x" for i in range(6)}), tmp_path)

    assert "6 members" in message


def test_total_size_over_the_limit_is_refused(tmp_path, settings):
    settings.DATASOURCES_ARCHIVE_MAX_BYTES = 1000

    archive = zip_members({"a.bin": b"a" * 600, "b.bin": b"b" * 600}, zipfile.ZIP_STORED)

    assert "more than 1000 bytes" in refused(archive, tmp_path)


def test_zip_bomb_ratio_is_refused(tmp_path):
    archive = zip_members({"bomb.bin": b"\0" * (16 * 1024 * 1024)})
    assert len(archive) < 100_000  # a real bomb: 16 MiB from a few KiB

    assert "compressed more than" in refused(archive, tmp_path)
    assert not (tmp_path / "bomb.bin").exists()


def test_ratio_limit_follows_the_setting(tmp_path, settings):
    settings.DATASOURCES_ARCHIVE_MAX_RATIO = 100_000
    archive = zip_members({"zeros.bin": b"\0" * (2 * 1024 * 1024)})

    extract_zip(io.BytesIO(archive), tmp_path)

    assert (tmp_path / "zeros.bin").stat().st_size == 2 * 1024 * 1024


def test_member_written_twice_is_refused(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("dup.txt", b"first")
        with pytest.warns(UserWarning):
            archive.writestr("dup.txt", b"second")

    assert "twice" in refused(buffer.getvalue(), tmp_path)


def test_member_bigger_than_it_declares_never_writes_more_than_declared(tmp_path):
    """A zip whose headers claim fewer bytes than the member inflates to: refused (the standard
    library's CRC check or ours), and never more than the declared size on disk."""
    payload = b"x" * 5000
    archive = bytearray(zip_members({"liar.bin": payload}, zipfile.ZIP_DEFLATED))
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # local and central headers
        start = archive.find(signature)
        archive[start + offset:start + offset + 4] = (100).to_bytes(4, "little")

    with pytest.raises((UnsafeArchive, zipfile.BadZipFile)):
        extract_zip(io.BytesIO(bytes(archive)), tmp_path)
    written = tmp_path / "liar.bin"
    assert not written.exists() or written.stat().st_size <= 100


def test_the_copy_stops_at_the_declared_size():
    """Our own bound, for a reader that does not stop at the declared size by itself."""
    from datasources.security.archives import _copy_bounded

    written = io.BytesIO()
    with pytest.raises(UnsafeArchive):
        _copy_bounded(io.BytesIO(b"x" * 300_000), written, 100)
    assert len(written.getvalue()) <= 100
