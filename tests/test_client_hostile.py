"""The client against a hostile or broken server: typed errors, never a crash or a secret in a message."""

import gc

import pytest
from helpers_client import FakeClock, StubServer, no_limit, tokens

from werx_quickbooks.qbo.auth import refresh_tokens
from werx_quickbooks.qbo.client import QBOClient
from werx_quickbooks.qbo.errors import BadReply, NeedsReconnect, QBOError, TransientError, parse_fault
from werx_quickbooks.qbo.webhook import (
    WebhookError,
    parse_notifications,
    read_notifications,
    verify_signature,
)

DEEP_OBJECT = b'{"a":' + b'[' * 100000 + b']' * 100000 + b'}'
DEEP_ARRAY = b'[' * 100000 + b']' * 100000
HUGE_NUMBER = b'{"QueryResponse": {"totalCount": 1' + b'0' * 5000 + b'}}'
NOT_UTF8 = b'{"Account": {"Id": "1", "Name": "\xff\xfe"}}'


@pytest.fixture(autouse=True)
def _no_garbage_collection_at_depth():
    """Collect before each test, not during it.

    The hostile bodies here make the parsers recurse to Python's limit; a collection that runs down
    there makes some unrelated finalizer fail on the limit, and pytest reports that as an error of
    whichever test was running (seen once in a full run), not as what the test checks.
    """
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.fixture
def stub():
    server = StubServer().start()
    yield server
    server.stop()


def make_client(stub, **kwargs):
    clock = FakeClock()
    return QBOClient(stub.endpoints, '4620816365', tokens(), client_id='cid', client_secret='cs',
                     rate_limiter=no_limit(), sleep=clock.sleep, now=clock.now, max_retries=1, **kwargs)


@pytest.mark.parametrize('body', [DEEP_OBJECT, DEEP_ARRAY, HUGE_NUMBER, b'{"Account": ', b'\x00\x01'])
def test_unreadable_success_replies_are_bad_reply(stub, body):
    stub.reply(200, body, {'Content-Type': 'application/json'})
    with pytest.raises(BadReply):
        make_client(stub).read('Account', '1')


def test_a_reply_that_is_not_utf8_is_still_read_or_refused_cleanly(stub):
    stub.reply(200, NOT_UTF8, {'Content-Type': 'application/json'})
    try:
        assert make_client(stub).read('Account', '1')['Id'] == '1'
    except BadReply:
        pass


@pytest.mark.parametrize('status', [400, 401, 429, 500])
@pytest.mark.parametrize('body', [DEEP_OBJECT, DEEP_ARRAY, b'<' * 50000, b'\xff' * 1000])
def test_unreadable_error_replies_are_typed_errors(stub, status, body):
    stub.default = (status, body, {'Content-Type': 'application/json'})
    client = make_client(stub, max_throttle_waits=0)
    client.refresher = lambda old: tokens(access='access-2')
    with pytest.raises(QBOError) as caught:
        client.read('Account', '1')
    assert 'access-' not in caught.value.message
    if status == 401:
        assert isinstance(caught.value, NeedsReconnect)
    if status == 500:
        assert isinstance(caught.value, TransientError)


@pytest.mark.parametrize('body', [DEEP_OBJECT, b'\xff\xfe', '{"fault": ' * 40000])
def test_parse_fault_never_raises(body):
    assert parse_fault(body) is None


@pytest.mark.parametrize('status', [200, 400])
def test_token_endpoint_hostile_replies(stub, status):
    stub.reply(status, DEEP_OBJECT, {'Content-Type': 'application/json'})
    with pytest.raises(QBOError):
        refresh_tokens(stub.endpoints, 'cid', 'cs', 'refresh-1')


def test_hostile_entity_names_and_ids_stay_out_of_the_url(stub):
    stub.reply(200, {'Account': {'Id': '1'}})
    client = make_client(stub)
    with pytest.raises(ValueError):
        client.read('Account/../../evil', '1')
    client.read('Account', '1/../../../oauth2?x=1')
    assert stub.requests[0]['path'] == '/v3/company/4620816365/account/1%2F..%2F..%2F..%2Foauth2%3Fx%3D1'
    with pytest.raises(ValueError):
        client.query_pages('Account', page_size=10 ** 9).__next__()


@pytest.mark.parametrize('body', [DEEP_OBJECT, DEEP_ARRAY, HUGE_NUMBER, b'\xff\xfe'])
def test_hostile_webhook_bodies_are_webhook_errors(body):
    with pytest.raises(WebhookError):
        parse_notifications(body)


@pytest.mark.parametrize('body', [b'[1, "x"]', b'{"eventNotifications": [{"realmId": {"x": 1}}]}'])
def test_hostile_webhook_events_are_skipped_not_kept(body):
    changes, skipped = read_notifications(body)
    assert changes == [] and skipped


@pytest.mark.parametrize('signature', ['\u00ff' * 44, '%%%', 'A' * 10000, b'\xff', '', None])
def test_hostile_signatures_are_just_wrong(signature):
    assert verify_signature(b'{}', signature, 'verifier') is False
