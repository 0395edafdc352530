"""Real file systems for the tests of saving: a small tmpfs, a read-only one and a read-only folder.

A tmpfs is mounted in a private mount namespace (``unshare --mount``, with ``--map-root-user`` when
not root), so it exists only for the one subprocess that runs the test's script and vanishes with
it; nothing on the machine changes. Where that is impossible (not Linux, no ``unshare``, no user
namespaces) the test is skipped, saying why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

NO_MOUNT = 97  # exit code of the wrapper when the tmpfs could not be mounted


def run_on_tmpfs(folder: Path, script: str, size_kib: int = 64) -> dict[str, Any]:
    """Run the Python ``script`` with ``sys.argv[1]`` = ``folder``, a fresh tmpfs of ``size_kib`` KiB.

    The script prints one JSON object on its last line of output, which is returned. It may make
    the tmpfs read-only with ``subprocess.run(["mount", "-o", "remount,ro", folder])``.
    """
    unshare, mount = shutil.which("unshare"), shutil.which("mount")
    if not sys.platform.startswith("linux") or unshare is None or mount is None:
        pytest.skip("a private tmpfs needs Linux with unshare and mount")
    folder.mkdir(parents=True, exist_ok=True)
    flags = ["--mount"] if os.geteuid() == 0 else ["--mount", "--map-root-user"]
    shell = f'mount -t tmpfs -o size="$1" tmpfs "$2" || exit {NO_MOUNT}; shift 2; exec "$@"'
    cmd = [unshare, *flags, "sh", "-c", shell, "sh", f"{size_kib}k", str(folder), sys.executable, "-c", script,
           str(folder)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    if proc.returncode == NO_MOUNT or (proc.returncode != 0 and not proc.stdout and "Traceback" not in proc.stderr):
        pytest.skip(f"cannot mount a private tmpfs here: {proc.stderr.strip()[:200]}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def read_only_folder(folder: Path) -> Path:
    """``folder`` created and made read-only (mode 0o555); skips when the user can write there anyway (root)."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o555)
    probe = folder / ".probe"
    try:
        probe.write_bytes(b"")
    except PermissionError:
        return folder
    probe.unlink()
    folder.chmod(0o755)
    pytest.skip("this user can write into a 0o555 folder (running as root?), so it is not read-only")
