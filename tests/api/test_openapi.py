"""Schemathesis, with every check, against the live server's own /openapi.json (bounded, with a fixed seed).

It sends what the document allows and what it forbids, on every operation, and fails on any 5xx, any status or
body the document does not describe, any valid request refused or invalid one accepted. The one cross-field
rule JSON Schema cannot state lives in schemathesis_hooks.py; schemathesis.toml explains why 413 is a refusal.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent

pytestmark = pytest.mark.slow  # a subprocess sending a few hundred requests


def test_schemathesis_with_all_checks_finds_nothing(live_server, tmp_path):
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks", "PYTHONPATH": str(HERE.parents[1])}
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(HERE / "schemathesis.toml"), "run",
               f"{live_server}/openapi.json", "--checks", "all", "--max-examples", "40", "--seed", "14",
               "--workers", "1", "--suppress-health-check", "all", "--request-timeout", "60", "--no-color"]
    # Run in a temporary folder: schemathesis keeps a cache (.schemathesis/) in its working directory.
    r = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]
    assert "No issues found" in r.stdout, r.stdout[-3000:]
