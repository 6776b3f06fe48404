"""Webhook deliveries: classic or CloudEvents payloads, signed like Intuit signs them."""

import base64
import hashlib
import hmac
import json
import logging
import queue
import threading
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

    Events that pile up while a delivery is in flight go out together, the way
    Intuit batches notifications.
    """

    def __init__(self, timeout=3.0):
        self.url = None
        self.fmt = "classic"
        self.verifier_token = None
        self.timeout = timeout
        self.deliveries = []  # {url, status, error, body, events}
        self._queue = queue.Queue()
        self._pending = 0
        self._cond = threading.Condition()
        self._thread = None
        self._stopping = False

    def configure(self, url, fmt="classic", verifier_token=None):
        if fmt not in ("classic", "cloudevents"):
            raise ValueError("fmt must be 'classic' or 'cloudevents'")
        self.url, self.fmt, self.verifier_token = url, fmt, verifier_token

    def start(self):
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="qbo-emulator-webhooks", daemon=True)
            self._thread.start()

    def stop(self):
        if self._thread is not None:
            self._stopping = True
            self._queue.put(None)
            self._thread.join(timeout=5)
            self._thread = None

    def enqueue(self, realm, entity, obj_id, operation, ts, *, deleted_id=None):
        """Queue one change; `deleted_id` is the merged (deleted) record of a Merge on `obj_id`."""
        if not self.url:
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
                "url": self.url,
                "fmt": self.fmt,
                "token": self.verifier_token,
            }
        )

    def flush(self, timeout=5.0):
        """Wait until every queued event was delivered (or failed); True if all done in time."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout=timeout)

    def _run(self):
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while True:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._stopping = True
                    break
                batch.append(nxt)
            groups = {}
            for ev in batch:
                groups.setdefault((ev["url"], ev["fmt"], ev["token"]), []).append(ev)
            for (url, fmt, token), events in groups.items():
                self._deliver(url, fmt, token, events)
            with self._cond:
                self._pending -= len(batch)
                self._cond.notify_all()
            if self._stopping:
                return

    def _deliver(self, url, fmt, token, events):
        payload = classic_payload(events) if fmt == "classic" else cloudevents_payload(events)
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", "intuit-t-id": str(uuid.uuid4())}
        if token:
            headers["intuit-signature"] = sign(token, body)
        record = {"url": url, "status": None, "error": None, "body": body, "events": len(events)}
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
        self.deliveries.append(record)
