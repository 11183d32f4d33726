"""Content-addressed file storage: each file is kept once, under its SHA-256."""

import hashlib
import os
import re
import tempfile
from pathlib import Path, PurePosixPath, PureWindowsPath


class FileStore:
    """Files under `root/ab/abcdef…`; writing the same bytes twice stores them once."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a SHA-256: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def put(self, content: bytes) -> str:
        """Store the bytes durably (written, fsynced, renamed into place); return their hash."""
        sha256 = hashlib.sha256(content).hexdigest()
        target = self.path(sha256)
        if target.exists():
            return sha256
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
            tmp.write(content)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp.name, target)
        return sha256

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()


def safe_filename(name: str) -> str:
    """The file's own name without any folder, control characters or quotes; never empty."""
    name = PureWindowsPath(PurePosixPath(name or "").name).name
    name = re.sub(r'[\x00-\x1f\x7f"\\/:*?<>|]', "_", name).strip(" .")
    return name[:150] or "attachment"
