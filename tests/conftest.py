"""Tier 1: the pure-Python layer and the emulator, without Odoo."""

import os
import sys
import threading
import time
import types
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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

from helpers_emulator import Api  # noqa: E402
from quickbooks import QuickBooks  # noqa: E402
from requests_oauthlib import OAuth2Session  # noqa: E402

from qbo_emulator import Emulator  # noqa: E402

EMU_CLIENT_ID = "entity-client"


@pytest.fixture
def emulator():
    """A demo company served over real HTTP on 127.0.0.1, stopped after the test."""
    emu = Emulator(seed="demo", client_id="test-client", client_secret="test-secret").start()
    try:
        yield emu
    finally:
        emu.stop()


# For the tests of the emulator's entities: a demo company without rate limits, raw HTTP to it
# (api) and python-quickbooks' own client on it (qb).
@pytest.fixture
def emu():
    emulator = Emulator(
        seed="demo", client_id=EMU_CLIENT_ID, client_secret="entity-secret", rate_limits=False
    ).start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def api(emu):
    return Api(emu)


@pytest.fixture
def qb(emu, monkeypatch):
    """python-quickbooks on the emulator: plain http on loopback allowed for this test only."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    token = emu.issue_tokens()
    client = QuickBooks(company_id=emu.realm_id, minorversion=75)
    client.session = OAuth2Session(
        EMU_CLIENT_ID, token={"access_token": token["access_token"], "token_type": "Bearer"}
    )
    client.api_url_v3 = client.sandbox_api_url_v3 = f"{emu.base_url}/v3"
    return client


class _Sink(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.got.append((dict(self.headers), body))
        # The next scripted reply: a status, or ("slow", seconds) before a 200.
        reply = self.server.replies.pop(0) if self.server.replies else 200
        if isinstance(reply, tuple):
            time.sleep(reply[1])
            reply = 200
        self.send_response(reply)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class WebhookSink:
    """An HTTP endpoint on 127.0.0.1 that keeps every webhook delivery as (headers, body)."""

    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
        self.server.got = self.got = []
        self.server.replies = self.replies = []  # scripted replies to the next deliveries, then 200
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, timeout=5, count=1):
        """Wait until ``count`` deliveries arrived (or ``timeout`` seconds passed); return the deliveries."""
        deadline = time.monotonic() + timeout
        while len(self.got) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.got

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_sink():
    sink = WebhookSink()
    try:
        yield sink
    finally:
        sink.close()
