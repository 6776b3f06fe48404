"""QBOClient's request path against a scripted stub: what every call carries, retries, waits, refresh."""

import datetime
import json

import pytest
from helpers_client import NOW, FakeClock, StubServer, no_limit, tokens

from werx_quickbooks.qbo.auth import Tokens, endpoints_for
from werx_quickbooks.qbo.client import QBOClient
from werx_quickbooks.qbo.errors import (
    BadReply,
    CDCWindowExceeded,
    DuplicateName,
    InsecureTransport,
    NeedsReconnect,
    StaleObject,
    Throttled,
    TransientError,
)
from werx_quickbooks.qbo.ratelimit import RateLimiter

XML_429 = ('<?xml version="1.0" encoding="UTF-8"?><IntuitResponse><Fault type="SERVICE">'
           '<Error code="3001"><Message>message=ThrottleExceeded; errorCode=003001; statusCode=429'
           '</Message><Detail>ThrottleExceeded</Detail></Error></Fault></IntuitResponse>')
AUTH_401 = {'fault': {'error': [{'message': 'message=AuthenticationFailed; errorCode=003200; '
                                            'statusCode=401', 'code': '3200'}], 'type': 'AUTHENTICATION'}}
ACCOUNT = {'Account': {'Id': '1', 'Name': 'Checking', 'SyncToken': '0'}, 'time': 't'}


@pytest.fixture
def stub():
    server = StubServer().start()
    yield server
    server.stop()


@pytest.fixture
def clock():
    return FakeClock()


def make_client(stub, clock, **kwargs):
    kwargs.setdefault('rate_limiter', no_limit())
    kwargs.setdefault('client_id', 'cid')
    kwargs.setdefault('client_secret', 'csecret')
    return QBOClient(stub.endpoints, '4620816365', kwargs.pop('tokens', tokens()),
                     sleep=clock.sleep, now=clock.now, **kwargs)


def test_every_call_asks_for_json_minor_version_75_with_bearer_token(stub, clock):
    stub.reply(200, ACCOUNT)
    stub.reply(200, {'Customer': {'Id': '9', 'DisplayName': 'Acme'}})
    client = make_client(stub, clock)
    assert client.read('Account', '1')['Name'] == 'Checking'
    client.create('Customer', {'DisplayName': 'Acme'}, request_id='odoo-partner-7-r1')
    read, create = stub.requests
    assert read['method'] == 'GET' and read['path'] == '/v3/company/4620816365/account/1'
    assert create['method'] == 'POST' and create['path'] == '/v3/company/4620816365/customer'
    for request in (read, create):
        assert request['query']['minorversion'] == '75'
        assert request['headers']['Accept'] == 'application/json'
        assert request['headers']['Authorization'] == 'Bearer access-1'
    assert create['query']['requestid'] == 'odoo-partner-7-r1'
    assert json.loads(create['body']) == {'DisplayName': 'Acme'}
    assert client.api_calls == 2


def test_writes_without_request_id_still_get_one(stub, clock):
    stub.reply(200, {'Customer': {'Id': '9'}})
    stub.reply(200, {'Customer': {'Id': '9', 'SyncToken': '1'}})
    stub.reply(200, {'BatchItemResponse': [{'bId': '1', 'Customer': {'Id': '10'}}]})
    client = make_client(stub, clock)
    client.create('Customer', {'DisplayName': 'Acme'})
    client.update('Customer', {'Id': '9', 'SyncToken': '0', 'Notes': 'x'})
    client.batch([{'operation': 'create', 'Customer': {'DisplayName': 'B'}}])
    ids = [r['query'].get('requestid') for r in stub.requests]
    assert all(ids) and len(set(ids)) == 3
    assert json.loads(stub.requests[1]['body']) == {'Id': '9', 'SyncToken': '0', 'Notes': 'x',
                                                    'sparse': True}


def test_request_id_longer_than_qbo_allows_is_refused(stub, clock):
    with pytest.raises(ValueError):
        make_client(stub, clock).create('Customer', {}, request_id='x' * 51)
    assert stub.requests == []


def test_server_errors_are_retried_with_growing_waits(stub, clock):
    stub.reply(500, 'Internal error')
    stub.reply(503, '<html>down</html>')
    stub.reply(502, '')
    stub.reply(200, ACCOUNT)
    client = make_client(stub, clock)
    assert client.read('Account', '1')['Id'] == '1'
    assert clock.slept == [1.0, 2.0, 4.0]
    assert client.api_calls == 4
    assert client.throttled_waits == 0


def test_gives_up_after_bounded_retries(stub, clock):
    stub.default = (503, 'down', {})
    client = make_client(stub, clock, max_retries=2)
    with pytest.raises(TransientError) as info:
        client.read('Account', '1')
    assert info.value.message == 'QuickBooks is not answering right now; the sync will try again later.'
    assert info.value.http_status == 503
    assert client.api_calls == 3
    assert clock.slept == [1.0, 2.0]


def test_unreachable_server_is_transient_after_retries(clock):
    ends = endpoints_for('custom', 'http://127.0.0.1:9')
    client = QBOClient(ends, '1', tokens(), sleep=clock.sleep, now=clock.now, rate_limiter=no_limit(),
                       max_retries=1, timeout=2)
    with pytest.raises(TransientError) as info:
        client.read('Account', '1')
    assert 'ConnectionError' in info.value.detail
    assert client.api_calls == 2


def test_429_waits_as_told_then_succeeds(stub, clock):
    stub.reply(429, XML_429, {'Content-Type': 'application/xml', 'Retry-After': '7'})
    stub.reply(429, XML_429, {'Content-Type': 'application/xml'})
    stub.reply(200, ACCOUNT)
    client = make_client(stub, clock)
    assert client.read('Account', '1')['Id'] == '1'
    assert clock.slept == [7.0, 60.0]
    assert client.throttled_waits == 2
    assert client.api_calls == 3


def test_retry_after_as_http_date_and_oversized_values(stub, clock):
    stub.reply(429, XML_429, {'Retry-After': 'Thu, 26 Nov 2026 12:00:30 GMT'})   # NOW + 30 s
    stub.reply(503, 'down', {'Retry-After': '86400'})
    stub.reply(200, ACCOUNT)
    client = make_client(stub, clock)
    client.read('Account', '1')
    assert clock.slept == [30.0, 600.0]     # a day-long Retry-After is capped at 10 minutes


def test_fault_3001_in_a_400_is_a_throttle_too(stub, clock):
    body = {'Fault': {'Error': [{'Message': 'ThrottleExceeded', 'code': '3001'}], 'type': 'SERVICE'}}
    stub.reply(400, body)
    stub.reply(200, ACCOUNT)
    client = make_client(stub, clock)
    client.read('Account', '1')
    assert clock.slept == [60.0]
    assert client.throttled_waits == 1


def test_endless_throttling_ends_in_throttled(stub, clock):
    stub.default = (429, XML_429, {})
    client = make_client(stub, clock, max_throttle_waits=3)
    with pytest.raises(Throttled) as info:
        client.read('Account', '1')
    assert info.value.code == '3001'
    assert client.throttled_waits == 3
    assert client.api_calls == 4
    assert sum(clock.slept) == 180.0


def test_401_refreshes_once_and_persists_tokens_before_retrying(stub, clock):
    seen = []
    new = tokens('access-2', 'refresh-2')

    def refresher(old):
        seen.append(('refresh', old.refresh_token))
        return new

    def on_tokens(fresh):
        # The retried request must not have been sent yet.
        seen.append(('saved', fresh.access_token, len(stub.requests)))

    stub.reply(401, AUTH_401)
    stub.reply(200, ACCOUNT)
    client = make_client(stub, clock, refresher=refresher, on_tokens=on_tokens)
    client.read('Account', '1')
    assert seen == [('refresh', 'refresh-1'), ('saved', 'access-2', 1)]
    assert [r['headers']['Authorization'] for r in stub.requests] == ['Bearer access-1',
                                                                      'Bearer access-2']
    assert client.tokens is new
    assert client.token_refreshes == 1


def test_second_401_after_refresh_needs_reconnect(stub, clock):
    stub.default = (401, AUTH_401, {})
    client = make_client(stub, clock, refresher=lambda old: tokens('access-2', 'refresh-2'))
    with pytest.raises(NeedsReconnect) as info:
        client.read('Account', '1')
    assert info.value.message == 'QuickBooks refused the saved sign-in; an administrator must reconnect.'
    assert client.api_calls == 2
    assert client.token_refreshes == 1


def test_built_in_refresh_uses_token_endpoint(stub, clock):
    stub.reply(401, AUTH_401)
    stub.reply(200, {'access_token': 'access-2', 'refresh_token': 'refresh-2', 'expires_in': 3600,
                     'x_refresh_token_expires_in': 8726400, 'token_type': 'bearer'})
    stub.reply(200, ACCOUNT)
    saved = []
    client = make_client(stub, clock, on_tokens=saved.append)
    client.read('Account', '1')
    assert [r['path'] for r in stub.requests] == ['/v3/company/4620816365/account/1',
                                                 '/oauth2/v1/tokens/bearer',
                                                 '/v3/company/4620816365/account/1']
    assert saved[0].refresh_token == 'refresh-2'
    assert saved[0].expires_at == NOW + datetime.timedelta(hours=1)
    assert client.api_calls == 2   # the token call is not an accounting API call


def test_token_expiring_within_five_minutes_is_refreshed_first(stub, clock):
    stub.reply(200, ACCOUNT)
    saved = []
    client = make_client(stub, clock, tokens=tokens(expires_in=240),
                         refresher=lambda old: tokens('access-2', 'refresh-2'), on_tokens=saved.append)
    client.read('Account', '1')
    assert len(saved) == 1
    assert stub.requests[0]['headers']['Authorization'] == 'Bearer access-2'


def test_token_with_time_left_is_not_refreshed(stub, clock):
    stub.reply(200, ACCOUNT)
    client = make_client(stub, clock, tokens=tokens(expires_in=600),
                         refresher=lambda old: pytest.fail('refreshed too early'))
    client.read('Account', '1')


def test_refresh_without_credentials_needs_reconnect(stub, clock):
    stub.reply(401, AUTH_401)
    client = make_client(stub, clock, client_id=None, client_secret=None)
    with pytest.raises(NeedsReconnect):
        client.read('Account', '1')


@pytest.mark.parametrize('body', ['<html>Gateway</html>', '', '{"Account": {"Id": "1"', '[1, 2]', '42'])
def test_unreadable_200_reply_is_bad_reply(stub, clock, body):
    stub.reply(200, body, {'Content-Type': 'text/html'})
    client = make_client(stub, clock)
    with pytest.raises(BadReply) as info:
        client.read('Account', '1')
    assert info.value.message == 'QuickBooks sent a reply that could not be read; try again later.'
    assert client.api_calls == 1


def test_reply_without_the_object_is_bad_reply(stub, clock):
    stub.reply(200, {'time': 't'})
    with pytest.raises(BadReply) as info:
        make_client(stub, clock).read('Account', '1')
    assert 'Account' in info.value.detail


def test_fault_reply_becomes_typed_error_without_retry(stub, clock):
    stub.reply(400, {'Fault': {'Error': [{'Message': 'Duplicate Name Exists Error', 'code': '6240',
                                          'Detail': "The name supplied already exists. : 'Acme'"}],
                               'type': 'ValidationFault'}})
    client = make_client(stub, clock)
    with pytest.raises(DuplicateName) as info:
        client.create('Customer', {'DisplayName': 'Acme'})
    assert str(info.value) == "QuickBooks already has a record named 'Acme'; link it or rename this one."
    assert client.api_calls == 1


def test_duplicate_name_without_name_in_detail_names_what_was_sent(stub, clock):
    stub.reply(400, {'Fault': {'Error': [{'Message': 'Duplicate Name Exists Error', 'code': '6240',
                                          'Detail': 'The name supplied already exists. : Another account '
                                                    'is already using this name.'}],
                               'type': 'ValidationFault'}})
    with pytest.raises(DuplicateName) as info:
        make_client(stub, clock).create('Account', {'Name': 'Sales', 'AccountType': 'Income'})
    assert str(info.value) == "QuickBooks already has a record named 'Sales'; link it or rename this one."


def test_fault_inside_a_200_reply_is_still_a_typed_error(stub, clock):
    stub.reply(200, {'Fault': {'Error': [{'Message': 'Stale Object Error', 'code': '5010',
                                          'Detail': 'Stale Object Error : You and root were working'}],
                               'type': 'ValidationFault'}})
    with pytest.raises(StaleObject) as info:
        make_client(stub, clock).update('Customer', {'Id': '1', 'SyncToken': '0', 'Notes': 'x'})
    assert info.value.code == '5010'
    assert 'You and root' in info.value.detail


def test_plain_http_to_another_host_is_refused():
    ends = endpoints_for('production')
    insecure = type(ends)(ends.authorize_url, ends.token_url, ends.revoke_url,
                          'http://quickbooks.api.intuit.com/v3/company')
    with pytest.raises(InsecureTransport):
        QBOClient(insecure, '1', tokens())


def test_cdc_further_back_than_30_days_is_refused_before_any_call(stub, clock):
    client = make_client(stub, clock)
    with pytest.raises(CDCWindowExceeded) as info:
        client.cdc(['Account'], NOW - datetime.timedelta(days=31))
    assert 'full read' in info.value.message
    assert stub.requests == []


def test_cdc_sends_utc_time_and_fills_every_entity(stub, clock):
    stub.reply(200, {'CDCResponse': [{'QueryResponse': [
        {'Account': [{'Id': '1'}, {'Id': '2', 'status': 'Deleted'}], 'startPosition': 1},
        {'startPosition': 1, 'maxResults': 0},
    ]}], 'time': 't'})
    client = make_client(stub, clock)
    since = datetime.datetime(2026, 11, 20, 5, 6, 7, tzinfo=datetime.timezone(datetime.timedelta(hours=-7)))
    changes = client.cdc(['Account', 'Item'], since)
    assert changes == {'Account': [{'Id': '1'}, {'Id': '2', 'status': 'Deleted'}], 'Item': []}
    assert stub.requests[0]['query']['changedSince'] == '2026-11-20T12:06:07+00:00'
    assert stub.requests[0]['query']['entities'] == 'Account,Item'


def test_cdc_for_tax_lists_is_refused_before_any_call(stub, clock):
    with pytest.raises(ValueError) as info:
        make_client(stub, clock).cdc(['Account', 'TaxCode'], NOW)
    assert 'TaxCode' in str(info.value)
    assert stub.requests == []


def test_entity_names_cannot_inject_into_urls_or_queries(stub, clock):
    client = make_client(stub, clock)
    for bad in ('Account; DROP', 'account/1', '', None):
        with pytest.raises(ValueError):
            client.count(bad)
    assert stub.requests == []


def test_rate_limiter_holds_requests_to_the_per_second_limit():
    moments = []
    ticks = [0.0]

    def monotonic():
        return ticks[0]

    def sleep(seconds):
        ticks[0] += seconds

    limiter = RateLimiter(per_second=8, per_minute=450, batch_per_minute=36, clock=monotonic, sleep=sleep)
    for _ in range(20):
        limiter.acquire()
        moments.append(ticks[0])
    # 8 in the first second, 8 in the next, the rest in the third.
    assert moments[:8] == [0.0] * 8
    assert moments[8:16] == [1.0] * 8
    assert moments[16:] == [2.0] * 4
    assert limiter.waits == 2


def test_rate_limiter_minute_and_batch_windows():
    ticks = [0.0]
    limiter = RateLimiter(per_second=1000, per_minute=450, batch_per_minute=36,
                          clock=lambda: ticks[0], sleep=lambda s: ticks.__setitem__(0, ticks[0] + s))
    for _ in range(36):
        limiter.acquire(batch=True)
    assert ticks[0] == 0.0
    limiter.acquire(batch=True)
    assert ticks[0] == 60.0          # the 37th batch waits for the minute window
    for _ in range(449):
        limiter.acquire()
    assert ticks[0] == 60.0
    limiter.acquire()
    assert ticks[0] == 120.0         # the 451st request within a minute waits too


def test_refresher_result_must_be_tokens(stub, clock):
    stub.reply(401, AUTH_401)
    client = make_client(stub, clock, refresher=lambda old: {'access_token': 'x'})
    with pytest.raises(BadReply):
        client.read('Account', '1')
    assert isinstance(client.tokens, Tokens)
