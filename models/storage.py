"""Content-addressed file storage: each file is kept once, under its SHA-256.

A file appears under its hash name only whole: it is written to a temporary file in the same
folder, fsynced, renamed into place (atomic on POSIX), and the folder fsynced so the rename
itself survives a crash. A crash mid-write leaves at most a `.partial-…` file, which nothing
reads; `check()` (`claimpost check-storage`, and a log line when web and worker start)
reports those and any file whose content does not hash to its name.
"""

import hashlib
import logging
import os
import re
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

PARTIAL_PREFIX = ".partial-"
_SHA256 = re.compile(r"[0-9a-f]{64}")

log = logging.getLogger(__name__)


@dataclass
class StorageReport:
    """What `FileStore.check` found: stored files, those whose hash does not match their
    name, and partial writes a crash left behind."""

    files: int = 0
    mismatched: list[Path] = field(default_factory=list)
    partial: list[Path] = field(default_factory=list)

    @property
    def sound(self) -> bool:
        return not self.mismatched


class FileStore:
    """Files under `root/ab/abcdef…`; writing the same bytes twice stores them once."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a SHA-256: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def put(self, content: bytes) -> str:
        """Store the bytes durably and atomically; return their hash. A file already there
        with another size (cut short by a writer before this one) is written again."""
        sha256 = hashlib.sha256(content).hexdigest()
        target = self.path(sha256)
        if target.is_file() and target.stat().st_size == len(content):
            return sha256
        new_folder = not target.parent.is_dir()
        target.parent.mkdir(parents=True, exist_ok=True)
        if new_folder:
            _fsync_directory(target.parent.parent)
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=PARTIAL_PREFIX)
        try:
            with os.fdopen(descriptor, "wb") as partial:
                partial.write(content)
                partial.flush()
                os.fsync(partial.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _fsync_directory(target.parent)
        return sha256

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def check(self) -> StorageReport:
        """Hash every stored file and compare it with its name."""
        report = StorageReport()
        if not self.root.is_dir():
            return report
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir()):
            for path in sorted(folder.iterdir()):
                if path.name.startswith(PARTIAL_PREFIX):
                    report.partial.append(path)
                elif _SHA256.fullmatch(path.name) and path.name[:2] == folder.name:
                    report.files += 1
                    if _file_sha256(path) != path.name:
                        report.mismatched.append(path)
        return report


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stored:
        while chunk := stored.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_directory(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def log_storage_check(root: str | Path) -> StorageReport:
    """The start-up check: one log line saying whether every stored file matches its hash."""
    report = FileStore(root).check()
    if report.sound:
        log.info("storage check: %d files in %s, each matches its SHA-256", report.files, root)
    else:
        log.error(
            "storage check: %d of %d files in %s do not match their SHA-256: %s",
            len(report.mismatched),
            report.files,
            root,
            ", ".join(str(p) for p in report.mismatched),
        )
    if report.partial:
        log.warning("storage check: %d partial writes left by a crash", len(report.partial))
    return report


def start_storage_check(root: str | Path) -> threading.Thread:
    """Run the start-up check beside the process's work: hashing a large store takes a while,
    and nothing waits for its answer but the log."""
    thread = threading.Thread(
        target=log_storage_check, args=(root,), name="storage-check", daemon=True
    )
    thread.start()
    return thread


def safe_filename(name: str) -> str:
    """The file's own name without any folder, control characters or quotes; never empty."""
    name = PureWindowsPath(PurePosixPath(name or "").name).name
    name = re.sub(r'[\x00-\x1f\x7f"\\/:*?<>|]', "_", name).strip(" .")
    return name[:150] or "attachment"
