"""The demo tests keep the embedded services' state in a directory of their own."""

import shutil
import tempfile
from pathlib import Path

import pytest

from core import embedded_services


@pytest.fixture
def state_dir(monkeypatch):
    # Unix socket paths are limited to ~100 bytes and pytest's tmp_path can be longer: use /tmp.
    path = Path(tempfile.mkdtemp(prefix="tl", dir="/tmp"))
    # embedded_services reads the variable on every call, so its checks below look in this dir.
    monkeypatch.setenv("TRIPLINE_STATE_DIR", str(path))
    yield path
    embedded_services.stop(["redis", "postgres"])  # whatever a failed run left behind
    shutil.rmtree(path, ignore_errors=True)
