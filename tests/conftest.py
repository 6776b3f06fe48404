"""Tier 1: the pure-Python layer and the emulator, without Odoo."""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from qbo_emulator import Emulator  # noqa: E402


@pytest.fixture
def emulator():
    """A demo company served over real HTTP on 127.0.0.1, stopped after the test."""
    emu = Emulator(seed="demo", client_id="test-client", client_secret="test-secret").start()
    try:
        yield emu
    finally:
        emu.stop()
