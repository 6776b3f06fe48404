"""Test helpers for the qbo/ client tests: a scripted HTTP stub, a fake clock, token factories."""

import collections
import datetime
import http.server
import json
import threading
from urllib.parse import parse_qs, urlsplit

from werx_quickbooks.qbo.auth import Tokens, endpoints_for
from werx_quickbooks.qbo.ratelimit import RateLimiter

NOW = datetime.datetime(2026, 11, 26, 12, 0, 0)


class FakeClock:
    """Naive-UTC 'now' and a sleep that only records and moves the clock (tests never wait)."""

    def __init__(self, start=NOW):
        self.moment = start
        self.slept = []

    def now(self):
        return self.moment

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.moment += datetime.timedelta(seconds=seconds)


def no_limit():
    """A rate limiter that never holds a request back (bulk tests)."""
    return RateLimiter(per_second=None, per_minute=None, batch_per_minute=None)


def tokens(access='access-1', refresh='refresh-1', expires_in=3600, now=NOW):
    return Tokens(access, refresh, now + datetime.timedelta(seconds=expires_in),
                  now + datetime.timedelta(days=100))


class StubServer:
    """An HTTP server on 127.0.0.1 that answers from a script and records every request.

    ``reply(status, body, headers)`` queues one answer; when the queue is empty,
    ``default`` answers. A body that is a dict or list is sent as JSON.
    """

    def __init__(self):
        self.requests = []
        self._replies = collections.deque()
        self.default = (200, {}, {})
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _handle(self):
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length) if length else b''
                parts = urlsplit(self.path)
                stub.requests.append({
                    'method': self.command, 'path': parts.path,
                    'query': {k: v[0] for k, v in parse_qs(parts.query).items()},
                    'headers': dict(self.headers), 'body': body.decode('utf-8', 'replace'),
                })
                status, body, headers = stub._replies.popleft() if stub._replies else stub.default
                if isinstance(body, (dict, list)):
                    body = json.dumps(body)
                    headers = dict({'Content-Type': 'application/json'}, **headers)
                data = body.encode('utf-8') if isinstance(body, str) else body
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self._server.daemon_threads = True
        self.base_url = 'http://127.0.0.1:%d' % self._server.server_address[1]
        self.endpoints = endpoints_for('custom', self.base_url)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    def reply(self, status, body, headers=None, times=1):
        for _ in range(times):
            self._replies.append((status, body, dict(headers or {})))

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

