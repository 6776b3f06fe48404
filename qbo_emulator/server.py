"""The HTTP side: OAuth endpoints, the v3 API, throttling, fault injection, and the Emulator facade."""

import base64
import contextlib
import json
import logging
import socket
import threading
import time
import traceback
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit

from . import query as qlang
from .oauth import SCOPE_ACCOUNTING, OAuthError, OAuthServer
from .seed import seed_company
from .store import NOT_IN_CDC, Store, canon_entity
from .util import (
    Clock,
    Fault,
    fault,
    invalid,
    invalid_ref,
    iso_ms,
    loads,
    parse_time,
    required,
    system_failure,
    unsupported,
)
from .webhooks import WebhookSender

_logger = logging.getLogger(__name__)

MAX_BODY = 10 * 1024 * 1024  # bytes; a larger request is refused with 413 before it is read
SOCKET_TIMEOUT = 30.0  # seconds a client may stall mid-request before its connection is dropped
BATCH_LIMIT = 30
CDC_LOOKBACK = 30 * 86400
CDC_LIMIT = 1000
PER_SECOND = 10
PER_MINUTE = 500
BATCHES_PER_MINUTE = 120
INJECTION_KINDS = ("500", "503", "slow", "drop", "401", "429", "nonjson")

AUTH_FAULT = {
    "fault": {
        "error": [
            {"message": "message=AuthenticationFailed; errorCode=003200; statusCode=401", "code": "3200"}
        ],
        "type": "AUTHENTICATION",
    }
}


class Reply:
    def __init__(self, status, body=b"", content_type="application/json;charset=UTF-8", headers=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.content_type = content_type
        self.headers = headers or {}


def _json(status, payload, **headers):
    return Reply(status, payload, headers=headers)


def _html(status, title, text):
    body = (
        f"<!DOCTYPE html><html><head><title>{title}</title></head>"
        f"<body><h1>{title}</h1><p>{text}</p></body></html>"
    )
    return Reply(status, body.encode(), "text/html;charset=UTF-8")


def _bad_body(status, message, detail):
    """A request whose body was not read: a Fault reply, without the `time` the clock would give."""
    error = {"Message": message, "Detail": detail, "code": "2010", "element": ""}
    return _json(status, {"Fault": {"Error": [error], "type": "ValidationFault"}})


def throttle_xml(now):
    body = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<IntuitResponse xmlns="http://schema.intuit.com/finance/v3" time="{iso_ms(now)}">'
        '<Fault type="SERVICE"><Error code="3001" element="">'
        "<Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>"
        "<Detail>The request limit was reached.</Detail>"
        "</Error></Fault></IntuitResponse>"
    )
    return Reply(429, body.encode(), "text/xml;charset=UTF-8")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "QBOEmulator/1.0"
    # headers and body go out in separate writes; without this, Nagle plus delayed ACK costs 40 ms a call
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
        _logger.debug("%s - %s", self.address_string(), format % args)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def setup(self):
        # a client that stops sending mid-request frees its thread after this many seconds
        self.timeout = self.server.emu.socket_timeout
        super().setup()

    def _body(self):
        """The request body, or an error Reply when it can't be read safely (the connection closes)."""
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return _bad_body(411, "Length Required", "Send the body with a Content-Length, not chunked.")
        raw = (self.headers.get("Content-Length") or "0").strip()
        if not raw.isdigit():
            self.close_connection = True
            return _bad_body(400, "Bad Content-Length", f"Content-Length {raw[:40]!r} is not a byte count.")
        length = int(raw)
        if length > MAX_BODY:
            self.close_connection = True
            detail = f"The body is {length} bytes; at most {MAX_BODY} are accepted."
            return _bad_body(413, "Request Entity Too Large", detail)
        return self.rfile.read(length) if length else b""

    def _dispatch(self, method):
        emu = self.server.emu
        url = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        body = self._body()
        refused = body if isinstance(body, Reply) else None
        ctx = {
            "method": method,
            "path": url.path,
            "params": params,
            "body": b"" if refused else body,
            "headers": self.headers,
            "entity": None,
            "query": None,
            "request_id": params.get("requestid"),
            "counter": None,
        }
        injection = None if refused else emu._take_injection(url.path)
        try:
            if injection == "slow":
                time.sleep(emu.slow_seconds)
            if refused or injection in ("500", "503", "401", "429", "nonjson"):
                emu._route_name(ctx)
                reply = refused or emu._injected(injection)
            else:
                reply = emu._route(ctx)
        except Exception:
            _logger.error("emulator failure on %s %s\n%s", method, self.path, traceback.format_exc())
            reply = emu._fault(system_failure("emulator internal error"))
        emu._record(ctx, reply.status if injection != "drop" else 0)
        if injection == "drop":
            # the work is done (and a requestid reply stored); only the answer is lost
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._send(method, reply)

    def _send(self, method, reply):
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("intuit_tid", uuid.uuid4().hex)
        for k, v in reply.headers.items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(reply.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Emulator:
    """A QuickBooks Online stand-in served over real HTTP on 127.0.0.1."""

    def __init__(
        self,
        seed="demo",
        *,
        client_id="client-id",
        client_secret="client-secret",
        verifier_token=None,
        access_token_ttl=3600,
        seed_scale=1,
        rate_limits=True,
        port=0,
        company_name=None,
        webhook_url=None,
        webhook_format="classic",
        webhook_timeout=3.0,
        webhook_retry_delays=(1.0, 2.0, 4.0),
    ):
        self.clock = Clock()
        self.lock = threading.RLock()
        self.client_id = client_id
        self.client_secret = client_secret
        self.verifier_token = verifier_token
        self.rate_limits = rate_limits
        self.port = int(port or 0)
        self.slow_seconds = 2.0
        self.socket_timeout = SOCKET_TIMEOUT
        self.deny_consent = False
        self.consent_realm = None
        self.request_log = []
        self.counters = Counter()
        self.webhooks = WebhookSender(timeout=webhook_timeout, retry_delays=webhook_retry_delays)
        self.store = Store(self.clock, self.lock, on_change=self.webhooks.enqueue)
        self.oauth = OAuthServer(self.clock, client_id, client_secret, access_token_ttl)
        self._injections = []
        self._server = None
        self._thread = None
        self.realm_id = self.add_company(seed=seed, name=company_name, seed_scale=seed_scale)
        if webhook_url:
            self.set_webhook(webhook_url, webhook_format, verifier_token)

    # === LIFECYCLE === #

    def start(self):
        self._server = _Server(("127.0.0.1", self.port), _Handler)
        self._server.emu = self
        self.port = self._server.server_address[1]
        # a short poll interval makes stop() quick, which keeps test suites fast
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="qbo-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.webhooks.stop()

    def __enter__(self):
        return self.start() if self._server is None else self

    def __exit__(self, *exc):
        self.stop()

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self):
        return f"{self.base_url}/v3/company"

    # === COMPANIES AND TOKENS === #

    def add_company(self, seed="empty", name=None, seed_scale=1):
        if seed not in ("demo", "empty"):
            raise ValueError("seed must be 'demo' or 'empty'")
        with self.lock:
            realm_id = str(9341453000000000 + len(self.store.companies) + 1)
            default = "Werx Demo Field Services" if seed == "demo" else "My Company"
            if self.store.companies:
                default = f"{default} {len(self.store.companies) + 1}"
            self.store.add_company(realm_id, name or default)
            seed_company(self.store, realm_id, name or default, seed, seed_scale)
            return realm_id

    def issue_tokens(self, realm_id=None):
        with self.lock:
            return self.oauth.issue(str(realm_id or self.realm_id))

    # === TEST CONTROLS === #

    def inject(self, kind, count=1, path_contains=None):
        """Make the next `count` matching requests fail in the given way."""
        kind = str(kind)
        if kind not in INJECTION_KINDS:
            raise ValueError(f"kind must be one of {INJECTION_KINDS}")
        with self.lock:
            self._injections.append([kind, int(count), path_contains])

    def _take_injection(self, path):
        with self.lock:
            for inj in self._injections:
                if inj[1] > 0 and (not inj[2] or inj[2] in path):
                    inj[1] -= 1
                    kind = inj[0]
                    self._injections = [i for i in self._injections if i[1] > 0]
                    return kind
        return None

    def set_webhook(self, url, fmt="classic", verifier_token=None, realm=None):
        """Post change notifications to `url`: for every company, or for `realm` only."""
        token = verifier_token or self.verifier_token
        self.webhooks.configure(url, fmt, token, realm=realm)
        if url:
            self.webhooks.start()

    @contextlib.contextmanager
    def holding_webhooks(self):
        """Queue the notifications of the changes made in the block; they go out together after it."""
        self.webhooks.hold()
        try:
            yield
        finally:
            self.webhooks.release()

    def flush_webhooks(self, timeout=5.0):
        return self.webhooks.flush(timeout)

    def reset_log(self):
        with self.lock:
            self.request_log.clear()
            self.counters.clear()

    def _record(self, ctx, status):
        with self.lock:
            self.counters[ctx["counter"] or f"{ctx['method']} ?"] += 1
            self.request_log.append(
                {
                    "method": ctx["method"],
                    "path": ctx["path"],
                    "entity": ctx["entity"],
                    "status": status,
                    "query": ctx["query"],
                    "request_id": ctx["request_id"],
                    "time": self.clock.time(),
                }
            )

    def _injected(self, kind):
        if kind == "500":
            detail = (
                "An unexpected error occurred while accessing or saving your data. Please wait and try again."
            )
            return self._fault(system_failure(detail))
        if kind == "503":
            return _html(503, "503 Service Unavailable", "The service is temporarily unavailable.")
        if kind == "401":
            return _json(401, AUTH_FAULT)
        if kind == "429":
            return throttle_xml(self.clock.time())
        return _html(200, "QuickBooks", "We're making improvements. Please come back later.")

    # === ROUTING === #

    def _route_name(self, ctx):
        path = ctx["path"]
        if path.startswith("/oauth2/authorize"):
            ctx["counter"] = f"{ctx['method']} authorize"
        elif path.endswith("/tokens/bearer"):
            ctx["counter"] = f"{ctx['method']} token"
        elif path.endswith("/tokens/revoke"):
            ctx["counter"] = f"{ctx['method']} revoke"
        elif path.startswith("/v3/company/"):
            parts = path.split("/")
            seg = parts[4].lower() if len(parts) > 4 else ""
            ctx["counter"] = f"{ctx['method']} {seg}"
            ctx["entity"] = canon_entity(seg)
        else:
            ctx["counter"] = f"{ctx['method']} {path}"

    def _route(self, ctx):
        self._route_name(ctx)
        path, method = ctx["path"], ctx["method"]
        if path.startswith("/oauth2/authorize") and method == "GET":
            return self._authorize(ctx)
        if path.endswith("/tokens/bearer") and method == "POST":
            return self._token(ctx)
        if path.endswith("/tokens/revoke") and method == "POST":
            return self._revoke(ctx)
        if path.startswith("/v3/company/"):
            return self._api(ctx)
        if path in ("/", "") and method == "GET":
            return _json(
                200,
                {"emulator": "QuickBooks Online", "realms": list(self.store.companies), "api": self.api_url},
            )
        return _json(404, {"error": "not_found"})

    # === OAUTH === #

    def _authorize(self, ctx):
        p = ctx["params"]
        if p.get("client_id") != self.client_id:
            return _html(400, "Invalid client", "The app's client ID is not recognised.")
        redirect_uri = p.get("redirect_uri")
        if not redirect_uri:
            return _html(400, "Invalid request", "redirect_uri is missing.")
        state = p.get("state", "")

        def back(**values):
            sep = "&" if "?" in redirect_uri else "?"
            return Reply(302, b"", "text/plain", {"Location": redirect_uri + sep + urlencode(values)})

        if p.get("response_type") != "code":
            return back(error="unsupported_response_type", state=state)
        if self.deny_consent or p.get("simulate") == "deny":
            return back(error="access_denied", state=state)
        scope = p.get("scope", "")
        if SCOPE_ACCOUNTING not in scope.split():
            return back(error="invalid_scope", state=state)
        with self.lock:
            realm = str(self.consent_realm or self.realm_id)
            code = self.oauth.new_code(realm, redirect_uri, scope)
        return back(code=code, state=state, realmId=realm)

    def _client_credentials(self, ctx, form):
        auth = ctx["headers"].get("Authorization") or ""
        if auth.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(auth[6:].strip()).decode()
            except ValueError:  # binascii.Error, UnicodeDecodeError, non-ASCII text
                return None, None
            cid, _sep, secret = decoded.partition(":")
            return unquote_plus(cid), unquote_plus(secret)
        return form.get("client_id"), form.get("client_secret")

    @staticmethod
    def _form(ctx):
        text = ctx["body"].decode("utf-8", "replace")
        ctype = (ctx["headers"].get("Content-Type") or "").lower()
        if "json" in ctype or text.lstrip().startswith("{"):
            try:
                data = loads(text or "{}")
            except ValueError:
                return {}
            return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}

    def _token(self, ctx):
        form = self._form(ctx)
        cid, secret = self._client_credentials(ctx, form)
        headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        try:
            with self.lock:
                self.oauth.check_client(cid, secret)
                grant = form.get("grant_type")
                if grant == "authorization_code":
                    reply = self.oauth.exchange_code(form.get("code"), form.get("redirect_uri"))
                elif grant == "refresh_token":
                    reply = self.oauth.refresh_grant(form.get("refresh_token"))
                else:
                    raise OAuthError(400, "unsupported_grant_type")
        except OAuthError as e:
            return _json(e.status, e.body(), **headers)
        return _json(200, reply, **headers)

    def _revoke(self, ctx):
        form = self._form(ctx)
        cid, secret = self._client_credentials(ctx, form)
        try:
            with self.lock:
                self.oauth.check_client(cid, secret)
                if not form.get("token"):
                    raise OAuthError(400, "invalid_request", "token is missing")
                self.oauth.revoke(form["token"])
        except OAuthError as e:
            return _json(e.status, e.body())
        return Reply(200, b"", "application/json")

    # === API === #

    def _fault(self, error):
        return _json(error.status, {"Fault": error.fault(), "time": iso_ms(self.clock.time())})

    def _ok(self, payload):
        payload["time"] = iso_ms(self.clock.time())
        return _json(200, payload)

    def _throttled(self, co, is_batch):
        now = self.clock.time()
        hits = co.hits
        while hits and hits[0] <= now - 60:
            hits.popleft()
        recent = 0
        for t in reversed(hits):
            if t <= now - 1:
                break
            recent += 1
        if recent >= PER_SECOND or len(hits) >= PER_MINUTE:
            return True
        if is_batch:
            while co.batch_hits and co.batch_hits[0] <= now - 60:
                co.batch_hits.popleft()
            if len(co.batch_hits) >= BATCHES_PER_MINUTE:
                return True
            co.batch_hits.append(now)
        hits.append(now)
        return False

    def _api(self, ctx):
        parts = ctx["path"].split("/")[3:]
        realm = parts[0] if parts else ""
        rest = [p for p in parts[1:] if p]
        auth = ctx["headers"].get("Authorization") or ""
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        with self.lock:
            if not token or self.oauth.realm_for_access(token) != realm or realm not in self.store.companies:
                return _json(401, AUTH_FAULT)
            co = self.store.company(realm)
            # any minorversion is accepted: since 2025-08-01 QBO serves 1-74 (and none at all) as 75
            is_batch = bool(rest) and rest[0].lower() == "batch"
            if self.rate_limits and self._throttled(co, is_batch):
                return throttle_xml(self.clock.time())
            request_id = ctx["request_id"]
            if ctx["method"] == "POST" and request_id:
                cached = co.request_ids.get(request_id)
                if cached is not None:
                    return cached
            try:
                reply = self._api_work(ctx, realm, co, rest)
            except Fault as f:
                reply = self._fault(f)
            if ctx["method"] == "POST" and request_id and reply.status < 500:
                co.request_ids[request_id] = reply
            return reply

    def _api_work(self, ctx, realm, co, rest):
        method = ctx["method"]
        if not rest:
            raise unsupported(method, "company")
        seg = rest[0].lower()
        if seg == "query":
            text = ctx["params"].get("query")
            if method == "POST" and ctx["body"]:
                text = ctx["body"].decode("utf-8", "replace")
            ctx["query"] = text
            q = qlang.parse(text or "")
            ctx["entity"] = q.entity
            return self._ok({"QueryResponse": qlang.run(co, q)})
        if seg == "batch" and method == "POST":
            return self._batch(ctx, realm, co)
        if seg == "cdc" and method == "GET":
            return self._cdc(ctx, co)
        if seg == "taxservice" and len(rest) > 1 and rest[1].lower() == "taxcode" and method == "POST":
            return self._taxservice(ctx, realm, co)
        entity = canon_entity(seg)
        if entity is None:
            raise invalid(f"Unsupported entity or endpoint '{rest[0]}'", rest[0])
        ctx["entity"] = entity
        if method == "GET":
            if entity in ("CompanyInfo", "Preferences"):
                return self._ok({entity: self.store.read(realm, entity, "1")})
            if len(rest) < 2:
                raise invalid(f"GET /{seg} needs an Id: /{seg}/<Id>", "Id")
            return self._ok({entity: self.store.read(realm, entity, rest[1])})
        if method == "POST":
            data = self._body_json(ctx)
            operation = ctx["params"].get("operation")
            return self._ok({entity: self.store.write(realm, entity, data, operation)})
        raise unsupported(method, entity)

    @staticmethod
    def _body_json(ctx):
        try:
            data = loads(ctx["body"] or b"null")
        except ValueError:
            raise invalid("Request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise invalid("Request body must be a JSON object")
        return data

    def _batch(self, ctx, realm, co):
        data = self._body_json(ctx)
        items = data.get("BatchItemRequest")
        if not isinstance(items, list) or not items:
            raise required("BatchItemRequest")
        if len(items) > BATCH_LIMIT:
            detail = f"A batch can hold at most {BATCH_LIMIT} items; this one has {len(items)}."
            raise fault("1040", detail, "BatchItemRequest")
        out = []
        for item in items:
            bid = item.get("bId") if isinstance(item, dict) else None
            try:
                if not isinstance(item, dict):
                    raise invalid("Each BatchItemRequest item must be an object")
                if "Query" in item:
                    if not isinstance(item["Query"], str):
                        raise invalid("A batch Query must be a string", "Query")
                    out.append({"bId": bid, "QueryResponse": qlang.run(co, item["Query"])})
                    continue
                keys = [k for k in item if k not in ("bId", "operation", "optionsData") and canon_entity(k)]
                if len(keys) != 1:
                    raise invalid("Each batch item needs exactly one entity object or a Query")
                entity = canon_entity(keys[0])
                op = str(item.get("operation") or "").lower()
                if op not in ("create", "update", "delete", "void"):
                    raise invalid(f"Unsupported batch operation '{item.get('operation')}'", "operation")
                payload = item[keys[0]]
                if op == "create" and isinstance(payload, dict):
                    payload = {k: v for k, v in payload.items() if k not in ("Id", "SyncToken")}
                obj = self.store.write(realm, entity, payload, op)
                out.append({"bId": bid, entity: obj})
            except Fault as f:
                out.append({"bId": bid, "Fault": f.fault()})
        return self._ok({"BatchItemResponse": out})

    def _cdc(self, ctx, co):
        p = ctx["params"]
        if not p.get("entities"):
            raise required("entities")
        if not p.get("changedSince"):
            raise required("changedSince")
        since = parse_time(p["changedSince"])
        if since is None:
            raise invalid(f"changedSince '{p['changedSince']}' is not an ISO 8601 date-time", "changedSince")
        now = self.clock.time()
        if since < now - CDC_LOOKBACK:
            raise invalid(
                "changedSince can't be more than 30 days ago. Use a query on "
                "MetaData.LastUpdatedTime for older changes.",
                "changedSince",
            )
        names = []
        for raw in p["entities"].split(","):
            if not raw.strip():
                continue
            entity = canon_entity(raw.strip())
            if entity is None:
                raise invalid(f"Unknown entity '{raw.strip()}' in entities", "entities")
            if entity in NOT_IN_CDC:
                raise unsupported("ChangeDataCapture", entity)
            if entity not in names:
                names.append(entity)
        # MetaData keeps whole seconds, so compare at second precision and never miss a change
        floor = int(since)
        found = []
        for order, entity in enumerate(names):
            for obj in co.objects[entity].values():
                ts = parse_time(obj["MetaData"]["LastUpdatedTime"])
                if ts is not None and ts >= floor:
                    found.append((ts, order, obj["Id"], entity, obj))
            for tomb in co.deleted[entity].values():
                if tomb["_ts"] >= floor:
                    public = {k: v for k, v in tomb.items() if k != "_ts"}
                    found.append((tomb["_ts"], order, tomb["Id"], entity, public))
        found.sort(key=lambda r: (r[0], r[1], qlang.id_sort_key(r[2])))
        found = found[:CDC_LIMIT]
        grouped = {e: [] for e in names}
        for _ts, _o, _id, entity, obj in found:
            grouped[entity].append(json.loads(json.dumps(obj)))
        responses = []
        for entity in names:
            rows = grouped[entity]
            if rows:
                responses.append(
                    {entity: rows, "startPosition": 1, "maxResults": len(rows), "totalCount": len(rows)}
                )
            else:
                responses.append({})
        return self._ok({"CDCResponse": [{"QueryResponse": responses}]})

    def _taxservice(self, ctx, realm, co):
        data = self._body_json(ctx)
        code_name = str(data.get("TaxCode") or "").strip()
        if not code_name:
            raise required("TaxCode")
        details = data.get("TaxRateDetails")
        if not isinstance(details, list) or not details:
            raise required("TaxRateDetails")
        store = self.store
        out = []
        rate_refs = []
        # validate everything first so a bad detail leaves nothing half-created
        for i, det in enumerate(details):
            if not isinstance(det, dict):
                raise invalid("Each TaxRateDetails item must be an object", f"TaxRateDetails[{i}]")
            if det.get("TaxRateId"):
                if str(det["TaxRateId"]) not in co.objects["TaxRate"]:
                    raise invalid_ref(f"TaxRateDetails[{i}].TaxRateId", "TaxRate", det["TaxRateId"])
            else:
                if not det.get("TaxRateName"):
                    raise required(f"TaxRateDetails[{i}].TaxRateName")
                if det.get("RateValue") in (None, ""):
                    raise required(f"TaxRateDetails[{i}].RateValue")
                try:
                    det["RateValue"] = float(det["RateValue"])
                except (TypeError, ValueError, OverflowError):
                    raise invalid("RateValue must be a number", f"TaxRateDetails[{i}].RateValue") from None
                if not det.get("TaxAgencyId"):
                    raise required(f"TaxRateDetails[{i}].TaxAgencyId")
        for det in details:
            applicable = det.get("TaxApplicableOn") or "Sales"
            if det.get("TaxRateId"):
                rate = co.objects["TaxRate"][str(det["TaxRateId"])]
            else:
                rate = store._create(
                    co,
                    "TaxRate",
                    {
                        "Name": det["TaxRateName"],
                        "RateValue": float(det["RateValue"]),
                        "AgencyRef": {"value": str(det["TaxAgencyId"])},
                        "SpecialTaxType": "NONE",
                        "DisplayType": "ReadOnly",
                        "EffectiveTaxRate": [
                            {"RateValue": float(det["RateValue"]), "EffectiveDate": iso_ms(self.clock.time())}
                        ],
                    },
                )
            rate_refs.append(
                (
                    {"TaxRateRef": {"value": rate["Id"]}, "TaxTypeApplicable": "TaxOnAmount", "TaxOrder": 0},
                    applicable,
                )
            )
            out.append(
                {
                    "TaxRateName": rate["Name"],
                    "TaxRateId": rate["Id"],
                    "RateValue": rate["RateValue"],
                    "TaxAgencyId": rate["AgencyRef"]["value"],
                    "TaxApplicableOn": applicable,
                }
            )
        code = store._create(
            co,
            "TaxCode",
            {
                "Name": code_name,
                "Description": code_name,
                "Taxable": True,
                "TaxGroup": len(rate_refs) > 1,
                "SalesTaxRateList": {"TaxRateDetail": [r for r, a in rate_refs if a == "Sales"]},
                "PurchaseTaxRateList": {"TaxRateDetail": [r for r, a in rate_refs if a == "Purchase"]},
            },
        )
        return _json(200, {"TaxCode": code["Name"], "TaxCodeId": code["Id"], "TaxRateDetails": out})
