"""Tier 1: the pure-Python layer and the emulator, without Odoo."""

import os
import sys
import types

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# werx_quickbooks/__init__.py loads the Odoo models, and tier 1 runs without Odoo:
# register the add-on folder as a bare package so that only werx_quickbooks.qbo
# (which imports nothing from Odoo) is loaded.
if "werx_quickbooks" not in sys.modules:
    _addon = types.ModuleType("werx_quickbooks")
    _addon.__path__ = [os.path.join(ROOT, "werx_quickbooks")]
    sys.modules["werx_quickbooks"] = _addon

from qbo_emulator import Emulator  # noqa: E402


@pytest.fixture
def emulator():
    """A demo company served over real HTTP on 127.0.0.1, stopped after the test."""
    emu = Emulator(seed="demo", client_id="test-client", client_secret="test-secret").start()
    try:
        yield emu
    finally:
        emu.stop()
