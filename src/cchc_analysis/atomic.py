"""Write files atomically: a temporary file in the same folder, fsync, then rename."""
from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path


_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(target: Path | str):
    """Yield a temporary path beside `target`; on success it replaces `target` in one rename.

    If the block raises (or the process is killed), `target` keeps its old content and the
    temporary file is removed (or left as a hidden `.tmp-*` file that nothing reads).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{target.name}-", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        _test_pause()
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _test_pause() -> None:
    """Test hook (tests/test_interrupt.py): with CCHC_TEST_SLOW_WRITE=<seconds> each finished
    temporary file waits that long before its rename, so a test can interrupt a write."""
    seconds = os.environ.get("CCHC_TEST_SLOW_WRITE")
    if seconds:
        time.sleep(float(seconds))


def atomic_write_bytes(target: Path | str, data: bytes) -> None:
    """Write bytes to `target` atomically (a temporary file renamed into place)."""
    with atomic_path(target) as tmp:
        Path(tmp).write_bytes(data)


def atomic_write_text(target: Path | str, text: str) -> None:
    """Write UTF-8 text to `target` atomically (a temporary file renamed into place)."""
    atomic_write_bytes(target, text.encode("utf-8"))
