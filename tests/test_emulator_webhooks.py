"""The emulator posts webhooks as Intuit does: per company, batched, sent again when late or refused."""

import json

import pytest

from qbo_emulator import Emulator
from werx_quickbooks.qbo.webhook import parse_notifications, verify_signature


@pytest.fixture
def fast_retrying():
    """A demo company whose webhooks time out after 0.3 s and are tried again after 0.05 s, then 0.1 s."""
    emu = Emulator(seed="demo", client_id="w", client_secret="w", rate_limits=False,
                   webhook_timeout=0.3, webhook_retry_delays=(0.05, 0.1)).start()
    try:
        yield emu
    finally:
        emu.stop()


def signature(headers):
    return {name.lower(): value for name, value in headers.items()}["intuit-signature"]


def rename_class(emu, realm=None, suffix=" (renamed)"):
    realm = realm or emu.realm_id
    klass = emu.store.all(realm, "Class")[0]
    emu.store.update(realm, "Class", klass["Id"], {"Name": klass["Name"] + suffix})
    return klass["Id"]


@pytest.mark.parametrize("fmt", ["classic", "cloudevents"])
def test_a_refused_delivery_is_sent_again_the_same(fast_retrying, webhook_sink, fmt):
    webhook_sink.replies.extend([500, 503])
    fast_retrying.set_webhook(webhook_sink.url, fmt, "verifier")
    rename_class(fast_retrying)
    assert fast_retrying.flush_webhooks(5)
    got = webhook_sink.wait(count=3)
    assert len(got) == 3, "two refusals, then accepted"
    bodies = {body for _headers, body in got}
    assert len(bodies) == 1, "a retry sends the very same body (same event ids)"
    assert all(verify_signature(body, signature(headers), "verifier") for headers, body in got)
    attempts = [(d["attempt"], d["status"], d["retried"]) for d in fast_retrying.webhooks.deliveries]
    assert attempts == [(1, 500, True), (2, 503, True), (3, 200, False)]


def test_a_late_reply_counts_as_failed_and_is_sent_again(fast_retrying, webhook_sink):
    webhook_sink.replies.append(("slow", 0.6))
    fast_retrying.set_webhook(webhook_sink.url, "cloudevents", "verifier")
    rename_class(fast_retrying)
    assert fast_retrying.flush_webhooks(5)
    got = webhook_sink.wait(count=2)
    assert len(got) == 2
    assert got[0][1] == got[1][1]
    first, second = fast_retrying.webhooks.deliveries
    assert first["retried"] and first["attempt"] == 1
    assert (second["attempt"], second["status"], second["retried"]) == (2, 200, False)


def test_retries_stop_after_the_last_delay(fast_retrying, webhook_sink):
    webhook_sink.replies.extend([500] * 10)
    fast_retrying.set_webhook(webhook_sink.url, "classic", "verifier")
    rename_class(fast_retrying)
    assert fast_retrying.flush_webhooks(5)
    assert len(webhook_sink.got) == 3, "the first try and one per retry delay"
    assert not fast_retrying.webhooks.deliveries[-1]["retried"]


def test_an_unreachable_receiver_is_retried_then_given_up(fast_retrying):
    fast_retrying.set_webhook("http://127.0.0.1:9/hook", "classic", "verifier")
    rename_class(fast_retrying)
    assert fast_retrying.flush_webhooks(5)
    deliveries = fast_retrying.webhooks.deliveries
    assert [d["attempt"] for d in deliveries] == [1, 2, 3]
    assert all(d["status"] is None and d["error"] for d in deliveries)


def test_companies_sharing_a_receiver_are_delivered_together(fast_retrying, webhook_sink):
    emu = fast_retrying
    second = emu.add_company("demo", name="Second Co")
    for realm in (emu.realm_id, second):
        emu.set_webhook(webhook_sink.url, "cloudevents", "shared", realm=realm)
    with emu.holding_webhooks():
        rename_class(emu)
        rename_class(emu, second)
    assert emu.flush_webhooks(5)
    (headers, body), = webhook_sink.wait()
    assert verify_signature(body, signature(headers), "shared")
    assert {c.realm_id for c in parse_notifications(body)} == {emu.realm_id, second}


def test_a_company_can_have_its_own_receiver_and_format(fast_retrying, webhook_sink):
    emu = fast_retrying
    second = emu.add_company("demo", name="Second Co")
    emu.set_webhook("http://127.0.0.1:9/elsewhere", "classic", "one")
    emu.set_webhook(webhook_sink.url, "cloudevents", "two", realm=second)
    emu.webhooks.retry_delays = ()
    rename_class(emu, second)
    assert emu.flush_webhooks(5)
    (headers, body), = webhook_sink.wait()
    assert isinstance(json.loads(body), list), "CloudEvents for this company"
    assert verify_signature(body, signature(headers), "two")
    assert parse_notifications(body)[0].realm_id == second
