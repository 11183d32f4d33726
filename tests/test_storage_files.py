"""Attachments and raw mail on disk: written whole or not at all under their hash name, and
checked against their hash (`claimpost check-storage`, the start-up log line)."""

import hashlib
import logging
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from models.storage import PARTIAL_PREFIX, FileStore, log_storage_check

CONTENT = b"%PDF-1.4 a marked-up schedule\n" * 1000

# A writer the kernel kills mid-write: a file-size limit of 1 MiB and SIGXFSZ at its default
# action (Python ignores it), so the process dies inside write() with the file half done.
CRASHING_WRITER = """
import resource, signal, sys
from models.storage import FileStore
signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
FileStore(sys.argv[1]).put(b"x" * (4 << 20))
"""


def stored_names(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.is_file())


def test_a_file_is_stored_once_under_its_hash_and_checks_sound(tmp_path):
    store = FileStore(tmp_path)
    sha256 = store.put(CONTENT)
    assert sha256 == hashlib.sha256(CONTENT).hexdigest()
    assert store.put(CONTENT) == sha256
    assert stored_names(tmp_path) == [sha256]
    assert store.read(sha256) == CONTENT
    report = store.check()
    assert (report.files, report.mismatched, report.partial) == (1, [], [])


def test_a_writer_killed_mid_write_leaves_no_half_file_under_a_hash_name(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", CRASHING_WRITER, str(tmp_path)],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
    )
    assert result.returncode == -signal.SIGXFSZ, result.stderr  # killed, not finished
    report = FileStore(tmp_path).check()
    assert report.files == 0 and report.mismatched == []
    [partial] = report.partial
    assert partial.name.startswith(PARTIAL_PREFIX) and partial.stat().st_size == 1 << 20


def test_a_failed_write_cleans_up_its_partial_file(tmp_path):
    store = FileStore(tmp_path)
    target = store.path(hashlib.sha256(CONTENT).hexdigest())
    (target / "occupied").mkdir(parents=True)  # the rename into place cannot succeed
    with pytest.raises(OSError):
        store.put(CONTENT)
    assert stored_names(tmp_path) == []


def test_a_file_cut_short_under_its_hash_is_reported_and_written_again(tmp_path):
    store = FileStore(tmp_path)
    sha256 = hashlib.sha256(CONTENT).hexdigest()
    store.path(sha256).parent.mkdir(parents=True)
    store.path(sha256).write_bytes(CONTENT[:100])  # as a non-atomic writer's crash left it
    assert store.check().mismatched == [store.path(sha256)]
    assert store.put(CONTENT) == sha256
    assert store.read(sha256) == CONTENT
    assert store.check().sound


def corrupt_store(root: Path) -> tuple[Path, Path]:
    """A store with one sound file, one whose content was altered, and one partial write."""
    store = FileStore(root)
    store.put(b"sound")
    altered = store.path(store.put(b"original bytes"))
    altered.write_bytes(b"altered bytes")
    partial = altered.parent / f"{PARTIAL_PREFIX}abc123"
    partial.write_bytes(b"half")
    return altered, partial


def test_claimpost_check_storage_reports_mismatched_and_partial_files(app, tmp_path):
    runner = app.test_cli_runner()
    saved = app.config["STORAGE_DIR"]
    app.config["STORAGE_DIR"] = str(tmp_path)
    try:
        FileStore(tmp_path).put(b"sound")
        result = runner.invoke(args=["check-storage"])
        assert result.exit_code == 0
        assert result.output == f"Checked 1 file(s) in {tmp_path}: each matches its SHA-256.\n"

        altered, partial = corrupt_store(tmp_path)
        result = runner.invoke(args=["check-storage"])
    finally:
        app.config["STORAGE_DIR"] = saved
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"MISMATCH {altered}",
        f"PARTIAL {partial} (an interrupted write; nothing refers to it)",
        f"Checked 2 file(s) in {tmp_path}: 1 do not.",
    ]


def test_the_start_up_check_logs_what_does_not_match(tmp_path, caplog):
    altered, _ = corrupt_store(tmp_path)
    with caplog.at_level(logging.INFO, logger="models.storage"):
        log_storage_check(tmp_path)
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.getMessage() == (
        f"storage check: 1 of 2 files in {tmp_path} do not match their SHA-256: {altered}"
    )
    assert any("1 partial writes" in r.getMessage() for r in caplog.records)
