"""Webhook deliveries: classic or CloudEvents payloads, signed like Intuit signs them."""

import base64
import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
import uuid

from .util import iso_utc

_logger = logging.getLogger(__name__)

VERBS = {"Create": "created", "Update": "updated", "Delete": "deleted", "Void": "voided", "Merge": "merged"}


def sign(verifier_token, body):
    """intuit-signature: base64(HMAC-SHA256(verifier token, raw body))."""
    digest = hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def classic_payload(events):
    by_realm = {}
    for ev in events:
        entity = {
            "name": ev["entity"],
            "id": ev["id"],
            "operation": ev["operation"],
            "lastUpdated": iso_utc(ev["ts"]),
        }
        if ev.get("deleted_id") is not None:
            entity["deletedId"] = ev["deleted_id"]  # a merge: `id` survived, `deletedId` was merged into it
        by_realm.setdefault(ev["realm"], []).append(entity)
    return {
        "eventNotifications": [
            {"realmId": realm, "dataChangeEvent": {"entities": entities}}
            for realm, entities in by_realm.items()
        ]
    }


def cloudevents_payload(events):
    return [
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=",
            "type": f"qbo.{ev['entity'].lower()}.{VERBS.get(ev['operation'], 'updated')}.v1",
            "datacontenttype": "application/json",
            "time": iso_utc(ev["ts"]),
            "intuitentityid": ev["id"],
            "intuitaccountid": ev["realm"],
            "data": {} if ev.get("deleted_id") is None else {"deletedid": ev["deleted_id"]},
        }
        for ev in events
    ]


class WebhookSender:
    """Queues change events and posts them from one background thread.

    Events that pile up while a delivery is in flight (or while deliveries are held) go out
    together, the way Intuit batches notifications; a delivery may then mix companies that
    share a URL, a format and a verifier token. Like Intuit, a delivery answered late (after
    ``timeout`` seconds) or not with a 2xx is sent again, the same body, after each of
    ``retry_delays`` seconds in turn, then given up.
    """

    def __init__(self, timeout=3.0, retry_delays=(1.0, 2.0, 4.0)):
        self.url = None
        self.fmt = "classic"
        self.verifier_token = None
        self.realms = {}  # realm -> (url, fmt, token): a company's own webhook settings
        self.timeout = timeout
        self.retry_delays = tuple(retry_delays)
        self.deliveries = []  # {url, status, error, body, events, attempt, seconds, retried}
        self._queue = queue.Queue()
        self._pending = 0
        self._cond = threading.Condition()
        self._open = threading.Event()
        self._open.set()
        self._timers = set()
        self._thread = None
        self._stopping = False

    def configure(self, url, fmt="classic", verifier_token=None, realm=None):
        """Where (and how) to post: for every company, or only for ``realm`` (``url`` None: stop)."""
        if fmt not in ("classic", "cloudevents"):
            raise ValueError("fmt must be 'classic' or 'cloudevents'")
        if realm is None:
            self.url, self.fmt, self.verifier_token = url, fmt, verifier_token
        else:
            self.realms[str(realm)] = (url, fmt, verifier_token)

    def settings(self, realm):
        """Return (url, fmt, token) for ``realm``: its own, else the emulator's."""
        return self.realms.get(str(realm)) or (self.url, self.fmt, self.verifier_token)

    def start(self):
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="qbo-emulator-webhooks", daemon=True)
            self._thread.start()

    def stop(self):
        with self._cond:
            for timer in list(self._timers):
                timer.cancel()
            self._pending -= len(self._timers)
            self._timers.clear()
            self._cond.notify_all()
        self._open.set()
        if self._thread is not None:
            self._stopping = True
            self._queue.put(None)
            self._thread.join(timeout=5)
            self._thread = None

    def hold(self):
        """Keep the events queued (not posted) until ``release``: they then go out together."""
        self._open.clear()

    def release(self):
        self._open.set()

    def enqueue(self, realm, entity, obj_id, operation, ts, *, deleted_id=None):
        """Queue one change; `deleted_id` is the merged (deleted) record of a Merge on `obj_id`."""
        url, fmt, token = self.settings(realm)
        if not url:
            return
        with self._cond:
            self._pending += 1
        self._queue.put(
            {
                "realm": realm,
                "entity": entity,
                "id": obj_id,
                "operation": operation,
                "ts": ts,
                "deleted_id": deleted_id,
                "url": url,
                "fmt": fmt,
                "token": token,
            }
        )

    def flush(self, timeout=5.0):
        """Wait until every queued event was delivered (or given up, retries included); True if in time."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout=timeout)

    def _run(self):
        while True:
            first = self._queue.get()
            if first is None:
                return
            self._open.wait()
            if "retry" in first:
                self._post(first["retry"])
                self._done(1)
                continue
            batch = [first]
            retries = []
            while True:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._stopping = True
                    break
                (retries if "retry" in nxt else batch).append(nxt)
            groups = {}
            for ev in batch:
                groups.setdefault((ev["url"], ev["fmt"], ev["token"]), []).append(ev)
            for (url, fmt, token), events in groups.items():
                self._deliver(url, fmt, token, events)
            for item in retries:
                self._post(item["retry"])
            self._done(len(batch) + len(retries))
            if self._stopping:
                return

    def _done(self, count):
        with self._cond:
            self._pending -= count
            self._cond.notify_all()

    def _deliver(self, url, fmt, token, events):
        payload = classic_payload(events) if fmt == "classic" else cloudevents_payload(events)
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if token:
            headers["intuit-signature"] = sign(token, body)
        self._post({"url": url, "body": body, "headers": headers, "events": len(events), "attempt": 1})

    def _post(self, delivery):
        """Post one delivery (a first try or a retry) and record it; a late or failed reply is retried."""
        url, body, attempt = delivery["url"], delivery["body"], delivery["attempt"]
        # Intuit gives each try its own transport id; the body (and its signature) stay the same.
        headers = dict(delivery["headers"], **{"intuit-t-id": str(uuid.uuid4())})
        record = {"url": url, "status": None, "error": None, "body": body, "events": delivery["events"],
                  "attempt": attempt, "seconds": None, "retried": False}
        started = time.monotonic()
        try:
            req = urllib.request.Request(url, data=body, headers=headers, method="POST")
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                record["status"] = resp.status
        except urllib.error.HTTPError as e:
            record["status"] = e.code
            record["error"] = str(e)
            _logger.warning("webhook to %s answered %s", url, e.code)
        except Exception as e:  # a failed delivery is logged, never raised into the emulator
            record["error"] = str(e)
            _logger.warning("webhook to %s failed: %s", url, e)
        record["seconds"] = time.monotonic() - started
        late = record["seconds"] > self.timeout
        if late and not record["error"]:
            record["error"] = "answered after %.1f s" % record["seconds"]
        failed = late or record["status"] is None or not 200 <= record["status"] < 300
        if failed and attempt <= len(self.retry_delays) and not self._stopping:
            record["retried"] = True
            self._schedule(dict(delivery, attempt=attempt + 1), self.retry_delays[attempt - 1])
        self.deliveries.append(record)

    def _schedule(self, delivery, delay):
        """Queue ``delivery`` again after ``delay`` seconds (flush waits for it)."""
        def due():
            with self._cond:
                if timer not in self._timers:
                    return  # stopped meanwhile
                self._timers.discard(timer)
            self._queue.put({"retry": delivery})

        timer = threading.Timer(delay, due)
        timer.daemon = True
        with self._cond:
            self._pending += 1
            self._timers.add(timer)
        timer.start()
