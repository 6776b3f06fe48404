"""QBOClient against the QBO emulator over real HTTP: what a sync would live through."""

import datetime
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from helpers_client import FakeClock, StubServer, no_limit

from qbo_emulator import Emulator
from werx_quickbooks.qbo.auth import (
    Tokens,
    authorization_url,
    endpoints_for,
    exchange_code,
    new_state,
    refresh_tokens,
    revoke_token,
    utcnow,
)
from werx_quickbooks.qbo.client import QBOClient
from werx_quickbooks.qbo.errors import (
    BadReply,
    CDCTooManyChanges,
    CDCWindowExceeded,
    DuplicateName,
    InvalidReference,
    NeedsReconnect,
    NotFound,
    StaleObject,
    TransientError,
    ValidationError,
)
from werx_quickbooks.qbo.ratelimit import RateLimiter
from werx_quickbooks.qbo.webhook import parse_notifications, verify_signature

CLIENT_ID = 'test-client'
CLIENT_SECRET = 'test-secret'
REDIRECT = 'http://localhost:8069/werx_quickbooks/oauth/callback'
API = '/v3/company/'


@pytest.fixture
def emu():
    emulator = Emulator(seed='demo', client_id=CLIENT_ID, client_secret=CLIENT_SECRET).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def empty_emu():
    emulator = Emulator(seed='empty', client_id=CLIENT_ID, client_secret=CLIENT_SECRET).start()
    emulator.rate_limits = False
    yield emulator
    emulator.stop()


@pytest.fixture
def clock():
    return FakeClock(start=utcnow())


def connect(emu, clock, **kwargs):
    """A client holding fresh tokens for the emulator's company.

    Its sleeps are recorded, not slept, and move the emulator's clock as far as real
    waiting would (so QBO's throttle window passes).
    """
    def sleep(seconds):
        clock.sleep(seconds)
        emu.clock.advance(seconds)

    tokens = Tokens.from_reply(emu.issue_tokens(), now=clock.now())
    kwargs.setdefault('rate_limiter', no_limit())
    return QBOClient(endpoints_for('custom', emu.base_url), emu.realm_id, tokens,
                     client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                     sleep=sleep, now=clock.now, **kwargs)


def api_log(emu):
    return [entry for entry in emu.request_log if entry['path'].startswith(API)]


def a_customer(client):
    return next(client.query_pages('Customer', page_size=5))[0]


# === OAUTH === #

def consent(emu, state):
    """Follow the emulator's consent page the way the browser would; return the callback query."""
    url = authorization_url(endpoints_for('custom', emu.base_url), CLIENT_ID, REDIRECT, state)
    reply = requests.get(url, allow_redirects=False, timeout=5)
    assert reply.status_code == 302
    location = reply.headers['Location']
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_connect_refresh_rotation_and_spent_refresh_token(emu):
    ends = endpoints_for('custom', emu.base_url)
    state = new_state()
    callback = consent(emu, state)
    assert callback['state'] == state
    assert callback['realmId'] == emu.realm_id
    first = exchange_code(ends, CLIENT_ID, CLIENT_SECRET, REDIRECT, callback['code'])
    assert first.expires_at > utcnow() + datetime.timedelta(minutes=55)
    assert first.refresh_hard_expires_at > utcnow() + datetime.timedelta(days=4 * 365)

    second = refresh_tokens(ends, CLIENT_ID, CLIENT_SECRET, first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    # The old refresh token was spent by the rotation: only the newest one works.
    with pytest.raises(NeedsReconnect) as info:
        refresh_tokens(ends, CLIENT_ID, CLIENT_SECRET, first.refresh_token)
    assert info.value.message == 'QuickBooks refused the saved sign-in; an administrator must reconnect.'
    third = refresh_tokens(ends, CLIENT_ID, CLIENT_SECRET, second.refresh_token)
    client = QBOClient(ends, callback['realmId'], third, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                       rate_limiter=no_limit())
    assert client.company_info()['CompanyName'] == 'Werx Demo Field Services'


def test_code_cannot_be_used_twice(emu):
    ends = endpoints_for('custom', emu.base_url)
    code = consent(emu, 's')['code']
    exchange_code(ends, CLIENT_ID, CLIENT_SECRET, REDIRECT, code)
    with pytest.raises(NeedsReconnect):
        exchange_code(ends, CLIENT_ID, CLIENT_SECRET, REDIRECT, code)


def test_wrong_client_secret_is_reported_as_such(emu):
    code = consent(emu, 's')['code']
    with pytest.raises(NeedsReconnect) as info:
        exchange_code(endpoints_for('custom', emu.base_url), CLIENT_ID, 'wrong', REDIRECT, code)
    assert 'client id or secret' in info.value.message


def test_revoked_connection_needs_reconnect(emu, clock):
    client = connect(emu, clock)
    client.company_info()
    revoke_token(client.endpoints, CLIENT_ID, CLIENT_SECRET, client.tokens.refresh_token)
    with pytest.raises(NeedsReconnect):
        client.company_info()


def test_401_refreshes_once_and_tokens_are_saved_before_the_retry(emu, clock):
    client = connect(emu, clock)
    old = client.tokens
    saved = []

    def on_tokens(tokens):
        # At this moment the emulator has seen the refused call and the token call, not the retry.
        saved.append((tokens, [(e['path'], e['status']) for e in emu.request_log]))

    client.on_tokens = on_tokens
    emu.reset_log()
    emu.inject('401', path_contains=API)
    info = client.company_info()
    assert info['CompanyName'] == 'Werx Demo Field Services'
    assert len(saved) == 1
    tokens, log_then = saved[0]
    assert tokens.refresh_token != old.refresh_token
    assert client.tokens is tokens
    assert [status for _path, status in log_then] == [401, 200]
    assert log_then[1][0] == '/oauth2/v1/tokens/bearer'
    assert [e['status'] for e in api_log(emu)] == [401, 200]
    assert client.api_calls == 2
    # The refresh token used is spent now; the saved one is the one that works.
    with pytest.raises(NeedsReconnect):
        refresh_tokens(client.endpoints, CLIENT_ID, CLIENT_SECRET, old.refresh_token)


def test_expired_access_token_is_refreshed_ahead_of_time(emu, clock):
    client = connect(emu, clock)
    emu.clock.advance(3540)          # the emulator's token has a minute left
    clock.sleep(3540)                # ... and so has the client's copy
    emu.reset_log()
    client.company_info()
    assert [e['path'] for e in emu.request_log][0] == '/oauth2/v1/tokens/bearer'
    assert [e['status'] for e in api_log(emu)] == [200]
    assert client.token_refreshes == 1


def test_token_expired_at_qbo_but_not_by_our_clock_recovers_by_refresh(emu, clock):
    client = connect(emu, clock)
    emu.clock.advance(3700)
    client.company_info()
    assert [e['status'] for e in api_log(emu)][-2:] == [401, 200]


# === RETRIES AND THROTTLING === #

def test_429_storm_is_waited_out(emu, clock):
    client = connect(emu, clock)
    emu.reset_log()
    emu.inject('429', count=4, path_contains=API)
    assert client.company_info()['CompanyName']
    assert client.throttled_waits == 4
    assert clock.slept == [60.0] * 4
    assert [e['status'] for e in api_log(emu)] == [429] * 4 + [200]


def test_client_side_limit_keeps_under_qbo_throttle(emu):
    # Real clock and sleep: 12 quick calls would trip the emulator's 10/s limit without our limiter.
    sleeps = []
    client = QBOClient(endpoints_for('custom', emu.base_url), emu.realm_id,
                       Tokens.from_reply(emu.issue_tokens()), client_id=CLIENT_ID,
                       client_secret=CLIENT_SECRET, sleep=sleeps.append,
                       rate_limiter=RateLimiter(per_second=8, per_minute=450))
    emu.reset_log()
    for _ in range(12):
        client.preferences()
    assert client.throttled_waits == 0
    assert sleeps == []
    assert all(e['status'] == 200 for e in api_log(emu))
    assert client.rate_limiter.waits >= 1


def test_without_client_limit_the_emulator_throttles_and_client_recovers(emu, clock):
    client = connect(emu, clock)
    for _ in range(40):
        assert client.preferences()
        if client.throttled_waits:
            break
    assert client.throttled_waits == 1
    assert clock.slept == [60.0]
    assert [e['status'] for e in api_log(emu)].count(429) == 1


def test_server_errors_recover_with_backoff(emu, clock):
    client = connect(emu, clock)
    emu.reset_log()
    emu.inject('500', path_contains=API)
    emu.inject('503', path_contains=API)
    assert client.read('Customer', a_customer(client)['Id'])
    assert clock.slept[:2] == [1.0, 2.0]
    assert [e['status'] for e in api_log(emu)][:3] == [500, 503, 200]


def test_gives_up_after_bounded_retries_with_transient_error(emu, clock):
    client = connect(emu, clock, max_retries=3)
    emu.reset_log()
    emu.inject('503', count=10, path_contains=API)
    with pytest.raises(TransientError) as info:
        client.company_info()
    assert info.value.message == 'QuickBooks is not answering right now; the sync will try again later.'
    assert client.api_calls == 4
    assert len(api_log(emu)) == 4
    assert clock.slept == [1.0, 2.0, 4.0]


def test_dropped_connection_on_create_replays_without_duplicate(emu, clock):
    client = connect(emu, clock)
    emu.reset_log()
    emu.inject('drop', path_contains='/customer')
    created = client.create('Customer', {'DisplayName': 'Dropped Line Plumbing'},
                            request_id='odoo-res.partner-41-r1')
    same_name = [c for c in emu.store.all(emu.realm_id, 'Customer')
                 if c['DisplayName'] == 'Dropped Line Plumbing']
    assert [c['Id'] for c in same_name] == [created['Id']]
    posts = [e for e in api_log(emu) if e['method'] == 'POST']
    assert [e['request_id'] for e in posts] == ['odoo-res.partner-41-r1'] * 2
    # A later run that crashed before saving the Id asks again: same object back.
    again = client.create('Customer', {'DisplayName': 'Dropped Line Plumbing'},
                          request_id='odoo-res.partner-41-r1')
    assert again['Id'] == created['Id']
    assert len([c for c in emu.store.all(emu.realm_id, 'Customer')
                if c['DisplayName'] == 'Dropped Line Plumbing']) == 1


def test_slow_reply_times_out_and_is_retried(emu, clock):
    emu.slow_seconds = 1.5
    client = connect(emu, clock, timeout=0.5)
    emu.inject('slow', path_contains='/customer')
    created = client.create('Customer', {'DisplayName': 'Slow Lane Electric'})
    time.sleep(1.5)   # let the slow request finish on the server: it must replay, not duplicate
    assert len([c for c in emu.store.all(emu.realm_id, 'Customer')
                if c['DisplayName'] == 'Slow Lane Electric']) == 1
    assert created['DisplayName'] == 'Slow Lane Electric'
    assert clock.slept[0] == 1.0


def test_non_json_200_is_bad_reply(emu, clock):
    client = connect(emu, clock)
    emu.inject('nonjson', path_contains=API)
    with pytest.raises(BadReply) as info:
        client.company_info()
    assert info.value.message == 'QuickBooks sent a reply that could not be read; try again later.'
    assert client.api_calls == 1


# === FAULTS === #

def test_stale_sync_token_is_stale_object(emu, clock):
    client = connect(emu, clock)
    customer = a_customer(client)
    client.update('Customer', {'Id': customer['Id'], 'SyncToken': customer['SyncToken'], 'Notes': 'first'})
    with pytest.raises(StaleObject) as info:
        client.update('Customer', {'Id': customer['Id'], 'SyncToken': customer['SyncToken'],
                                   'Notes': 'second'})
    assert info.value.message == ('Someone changed this record in QuickBooks since it was last read; '
                                  'it will be re-read and tried again.')
    assert info.value.code == '5010'
    assert client.read('Customer', customer['Id'])['Notes'] == 'first'


def test_duplicate_name_names_the_customer(emu, clock):
    client = connect(emu, clock)
    existing = a_customer(client)
    with pytest.raises(DuplicateName) as info:
        client.create('Customer', {'DisplayName': existing['DisplayName']})
    assert str(info.value) == ("QuickBooks already has a record named '%s'; link it or rename this one."
                               % existing['DisplayName'])
    assert info.value.code == '6240'
    assert info.value.existing_id == existing['Id']     # what a "link it" button needs
    assert info.value.detail


def test_missing_object_is_not_found(emu, clock):
    with pytest.raises(NotFound) as info:
        connect(emu, clock).read('Customer', '987654')
    assert info.value.code == '610'


def test_missing_required_name_is_validation_error_with_detail(emu, clock):
    with pytest.raises(ValidationError) as info:
        connect(emu, clock).create('Customer', {'Notes': 'no name at all'})
    assert info.value.code == '2020'
    assert 'DisplayName' in info.value.message
    assert info.value.message.startswith('QuickBooks rejected this record: ')


def test_unknown_reference_is_invalid_reference(emu, clock):
    with pytest.raises(InvalidReference) as info:
        connect(emu, clock).create('Customer', {'DisplayName': 'Ref Test', 'SalesTermRef': {'value': '9999'}})
    assert info.value.code == '2500'
    assert '9999' in info.value.message


# === PAGING, COUNT, CDC, BATCH === #

@pytest.mark.parametrize('rows, calls', [(0, 1), (999, 1), (1000, 2), (1001, 2), (2000, 3)])
def test_paging_returns_every_row_once(empty_emu, clock, rows, calls):
    for number in range(rows):
        empty_emu.store.create(empty_emu.realm_id, 'Class', {'Name': 'Class %04d' % number})
    client = connect(empty_emu, clock)
    pages = list(client.query_pages('Class'))
    assert [len(page) for page in pages] == [1000] * (rows // 1000) + ([rows % 1000] if rows % 1000 else [])
    ids = [obj['Id'] for page in pages for obj in page]
    assert len(ids) == len(set(ids)) == rows
    assert client.api_calls == calls
    assert client.count('Class') == rows


def test_inactive_records_only_when_asked(empty_emu, clock):
    for number in range(3):
        empty_emu.store.create(empty_emu.realm_id, 'Class', {'Name': 'C%d' % number})
    empty_emu.store.create(empty_emu.realm_id, 'Class', {'Name': 'Old', 'Active': False})
    client = connect(empty_emu, clock)
    assert sum(len(p) for p in client.query_pages('Class')) == 3
    assert sum(len(p) for p in client.query_pages('Class', include_inactive=True)) == 4
    assert client.count('Class', include_inactive=True) == 4
    assert [c['Name'] for p in client.query_pages('Class', where="Name LIKE 'C%'") for c in p] == \
        ['C0', 'C1', 'C2']


def test_cdc_lists_changes_since_the_cursor(emu, clock):
    client = connect(emu, clock)
    customer = a_customer(client)
    emu.clock.advance(5)
    cursor = utcnow() + datetime.timedelta(seconds=5)
    emu.clock.advance(2)
    client.update('Customer', {'Id': customer['Id'], 'SyncToken': customer['SyncToken'], 'Notes': 'cdc'})
    new = client.create('Customer', {'DisplayName': 'CDC New Customer'})
    changes = client.cdc(['Customer', 'Item'], cursor)
    assert sorted(c['Id'] for c in changes['Customer']) == sorted([customer['Id'], new['Id']])
    assert changes['Item'] == []


def test_cdc_reports_deleted_objects(emu, clock):
    client = connect(emu, clock)
    invoice = next(client.query_pages('Invoice', page_size=1))[0]
    emu.clock.advance(5)
    cursor = utcnow() + datetime.timedelta(seconds=4)    # after every seeded change
    emu.clock.advance(2)
    client.delete('Invoice', invoice)
    changes = client.cdc(['Invoice'], cursor)
    assert [(i['Id'], i.get('status')) for i in changes['Invoice']] == [(invoice['Id'], 'Deleted')]


def test_cdc_older_than_30_days_asks_for_a_full_read(emu, clock):
    client = connect(emu, clock)
    with pytest.raises(CDCWindowExceeded):
        client.cdc(['Customer'], utcnow() - datetime.timedelta(days=31))
    # The emulator's clock ran ahead of ours: QBO's own refusal gets the same error.
    emu.clock.advance(3 * 86400)
    with pytest.raises(CDCWindowExceeded):
        client.cdc(['Customer'], utcnow() - datetime.timedelta(days=29))


def test_cdc_cut_at_1000_changes_asks_for_a_full_read(empty_emu, clock):
    cursor = utcnow() - datetime.timedelta(minutes=1)
    for number in range(1001):
        empty_emu.store.create(empty_emu.realm_id, 'Class', {'Name': 'Class %04d' % number})
    client = connect(empty_emu, clock)
    with pytest.raises(CDCTooManyChanges) as info:
        client.cdc(['Class'], cursor)
    assert isinstance(info.value, CDCWindowExceeded)      # the same fallback applies
    assert 'full read' in info.value.message


def test_batch_keeps_order_and_reports_the_failing_item(emu, clock):
    client = connect(emu, clock)
    existing = a_customer(client)['DisplayName']
    items = [{'operation': 'create', 'Customer': {'DisplayName': 'Batch Customer %02d' % n}}
             for n in range(40)]
    items[33] = {'operation': 'create', 'Customer': {'DisplayName': existing}}
    emu.reset_log()
    replies = client.batch(items)
    assert emu.counters['POST batch'] == 2
    assert len(replies) == 40
    assert [r['Customer']['DisplayName'] for i, r in enumerate(replies) if i != 33] == \
        ['Batch Customer %02d' % n for n in range(40) if n != 33]
    assert 'Fault' in replies[33]
    error = client.item_error(replies[33], items[33])
    assert isinstance(error, DuplicateName)
    assert str(error) == "QuickBooks already has a record named '%s'; link it or rename this one." % existing
    assert client.item_error(replies[0]) is None
    assert all(e['request_id'] for e in api_log(emu))


def test_company_info_and_preferences(emu, clock):
    client = connect(emu, clock)
    assert client.company_info()['Id']
    assert 'AccountingInfoPrefs' in client.preferences()


def test_python_quickbooks_objects_use_the_same_guarded_path(emu, clock):
    from quickbooks.objects.customer import Customer

    client = connect(emu, clock)
    wanted = a_customer(client)
    emu.inject('503', path_contains=API)
    customer = Customer.get(wanted['Id'], qb=client.qb)
    assert customer.DisplayName == wanted['DisplayName']
    assert clock.slept == [1.0]
    with pytest.raises(ValueError):
        client.qb.get_current_user()        # the token never goes to another address


# === WEBHOOKS === #

@pytest.mark.parametrize('fmt', ['classic', 'cloudevents'])
def test_webhook_from_qbo_is_verified_and_read(emu, clock, fmt):
    receiver = StubServer().start()
    try:
        emu.set_webhook(receiver.base_url + '/hook', fmt=fmt, verifier_token='verifier-xyz')
        created = connect(emu, clock).create('Customer', {'DisplayName': 'Webhook Customer %s' % fmt})
        emu.flush_webhooks()
        deadline = time.time() + 5
        while not receiver.requests and time.time() < deadline:
            time.sleep(0.02)
        delivery = receiver.requests[0]
        body = delivery['body'].encode()
        signature = {k.lower(): v for k, v in delivery['headers'].items()}['intuit-signature']
        assert verify_signature(body, signature, 'verifier-xyz')
        assert not verify_signature(body, signature, 'another-app')
        forged = body.replace(created['Id'].encode(), b'999999', 1)
        assert not verify_signature(forged, signature, 'verifier-xyz')
        changes = parse_notifications(body)
        assert (emu.realm_id, 'Customer', created['Id'], 'Create') in \
            [(c.realm_id, c.entity, c.qbo_id, c.operation) for c in changes]
        json.loads(body)
    finally:
        receiver.stop()
