"""The disk file store: content-addressed, atomic, verified on read."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from engine.errors import NotFound, ValidationError
from engine.storage import DiskFileStore, StorageError, file_store_from_env


def test_put_returns_the_sha256_and_get_gives_the_same_bytes(tmp_path: Path) -> None:
    store = DiskFileStore(tmp_path / "files")
    content = "Bản sao văn bằng".encode()
    stored = store.put(content)
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert stored.size == len(content)
    assert store.get(stored.sha256) == content
    assert store.exists(stored.sha256)
    path = store.path_of(stored.sha256)
    assert path == tmp_path / "files" / stored.sha256[:2] / stored.sha256[2:4] / stored.sha256


def test_the_same_bytes_are_stored_once(tmp_path: Path) -> None:
    store = DiskFileStore(tmp_path)
    first = store.put(b"abc")
    second = store.put(b"abc")
    assert first == second
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [store.path_of(first.sha256)]


def test_a_damaged_file_is_refused_on_read(tmp_path: Path) -> None:
    store = DiskFileStore(tmp_path)
    stored = store.put(b"original")
    store.path_of(stored.sha256).write_bytes(b"tampered")
    with pytest.raises(StorageError, match="đã bị thay đổi"):
        store.get(stored.sha256)


def test_a_damaged_file_is_rewritten_by_a_new_put(tmp_path: Path) -> None:
    store = DiskFileStore(tmp_path)
    stored = store.put(b"original")
    store.path_of(stored.sha256).write_bytes(b"tampered")
    store.put(b"original")
    assert store.get(stored.sha256) == b"original"


def test_missing_file_and_bad_digest(tmp_path: Path) -> None:
    store = DiskFileStore(tmp_path)
    with pytest.raises(NotFound, match="Không tìm thấy tệp"):
        store.get("a" * 64)
    assert not store.exists("a" * 64)
    for bad in ("../../etc/passwd", "A" * 63, "g" * 64, ""):
        with pytest.raises(ValidationError, match="không hợp lệ"):
            store.get(bad)


def test_no_temporary_files_are_left_behind(tmp_path: Path) -> None:
    store = DiskFileStore(tmp_path)
    for i in range(5):
        store.put(f"tệp {i}".encode())
    assert not [p for p in tmp_path.rglob(".tmp-*")]


def test_unwritable_root_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_bytes(b"x")
    with pytest.raises(StorageError, match="Không ghi được tệp"):
        DiskFileStore(blocker / "files").put(b"abc")


def test_root_is_configurable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MOTCUA_FILES_DIR", str(tmp_path / "elsewhere"))
    assert file_store_from_env().root == tmp_path / "elsewhere"
    monkeypatch.delenv("MOTCUA_FILES_DIR")
    assert file_store_from_env().root == Path("var") / "files"
