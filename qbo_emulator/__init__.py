"""A stdlib-only QuickBooks Online emulator: OAuth 2.0, the v3 accounting API, throttling and webhooks.

from qbo_emulator import Emulator
emu = Emulator(seed="demo", client_id="a", client_secret="b").start()
...
emu.stop()
"""

from .server import Emulator
from .util import Clock, Fault

__all__ = ["Clock", "Emulator", "Fault"]
