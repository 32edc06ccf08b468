"""Shared test settings: quiet TensorFlow, a private KERAS_HOME, the repository root."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("KERAS_HOME", tempfile.mkdtemp(prefix="keras-home-"))


@pytest.fixture
def root() -> Path:
    return ROOT
