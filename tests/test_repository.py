"""The working tree: what a build or a run leaves behind is never offered to git."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.backend_free

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "path",
    [
        "build/lib/bandstand/app.py",  # pip wheel / python -m build
        "dist/bandstand-0.1.0.tar.gz",
        "src/bandstand.egg-info/PKG-INFO",
        "var/bandstand.db",  # the embedded data folder
        "bench/out/results.json",
        ".env",
    ],
)
def test_build_and_run_leftovers_are_ignored(path: str) -> None:
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    # --no-index: whether or not such a file exists or is tracked, the rule must match.
    done = subprocess.run(
        [git, "-C", str(ROOT), "check-ignore", "--no-index", "-q", path], check=False
    )
    assert done.returncode == 0, f"{path} is not ignored by .gitignore"
