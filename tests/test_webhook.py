"""Intuit webhook deliveries: only signed ones are trusted, both payload shapes are read."""

import base64
import datetime
import hashlib
import hmac
import json

import pytest

from werx_quickbooks.qbo.webhook import (
    Change,
    WebhookError,
    by_realm,
    changed_at,
    confirmed_merges,
    entity_work,
    parse_notifications,
    read_notifications,
    sign,
    tombstones,
    verify_signature,
)

VERIFIER = 'verifier-token-123'

CLASSIC = {'eventNotifications': [{
    'realmId': '9130350000000001',
    'dataChangeEvent': {'entities': [
        {'name': 'Customer', 'id': '58', 'operation': 'Update',
         'lastUpdated': '2026-11-26T04:00:00.000Z'},
        {'name': 'Account', 'id': '7', 'operation': 'Delete', 'lastUpdated': '2026-11-26T04:01:00Z'},
    ]},
}]}

CLOUD = [
    {'specversion': '1.0', 'id': 'e1', 'source': 'intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=',
     'type': 'qbo.customer.updated.v1', 'time': '2026-11-26T04:00:00Z', 'intuitentityid': '58',
     'intuitaccountid': '9130350000000001', 'data': {}},
    {'specversion': '1.0', 'id': 'e2', 'source': 'intuit.x', 'type': 'qbo.paymentmethod.created.v1',
     'time': '2026-11-26T04:02:00Z', 'intuitentityid': '3', 'intuitaccountid': '9130350000000002',
     'data': {}},
]


def intuit_signature(body, token=VERIFIER):
    return base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest()).decode()


def test_genuine_delivery_is_accepted():
    body = json.dumps(CLASSIC).encode()
    assert verify_signature(body, intuit_signature(body), VERIFIER)
    assert sign(body, VERIFIER) == intuit_signature(body)


def test_forged_or_altered_delivery_is_refused():
    body = json.dumps(CLASSIC).encode()
    good = intuit_signature(body)
    assert not verify_signature(body.replace(b'58', b'59'), good, VERIFIER)
    assert not verify_signature(body, intuit_signature(body, 'someone-else'), VERIFIER)
    assert not verify_signature(body, good, 'other-verifier')


@pytest.mark.parametrize('header', [None, '', '   ', 'not base64!!', '%%%', 'YWJj', '\u00e9\u00e9',
                                    b'\xff', 12])
def test_missing_or_garbled_signature_is_refused_without_error(header):
    body = json.dumps(CLASSIC).encode()
    assert verify_signature(body, header, VERIFIER) is False


def test_no_verifier_configured_refuses_everything():
    body = b'{}'
    assert verify_signature(body, intuit_signature(body, ''), '') is False
    assert verify_signature(body, intuit_signature(body), None) is False


def test_classic_payload_lists_each_change():
    changes = parse_notifications(json.dumps(CLASSIC).encode())
    assert [change._replace(event_id=None) for change in changes] == [
        Change('9130350000000001', 'Customer', '58', 'Update', '2026-11-26T04:00:00.000Z'),
        Change('9130350000000001', 'Account', '7', 'Delete', '2026-11-26T04:01:00Z'),
    ]


def test_cloudevents_payload_mixing_companies():
    changes = parse_notifications(json.dumps(CLOUD))
    assert [change._replace(event_id=None) for change in changes] == [
        Change('9130350000000001', 'Customer', '58', 'Update', '2026-11-26T04:00:00Z'),
        Change('9130350000000002', 'PaymentMethod', '3', 'Create', '2026-11-26T04:02:00Z'),
    ]
    assert [change.event_id for change in changes] == ['e1', 'e2']


def test_cloudevents_other_verbs_and_empty_delivery():
    event = dict(CLOUD[0], type='qbo.invoice.voided.v1')
    assert parse_notifications(json.dumps([event]))[0].operation == 'Void'
    assert parse_notifications(json.dumps([dict(CLOUD[0], type='qbo.customer.merged.v2')]))[0] \
        .operation == 'Merge'
    assert parse_notifications('[]') == []
    assert parse_notifications(json.dumps({'eventNotifications': []})) == []


@pytest.mark.parametrize('body, reason', [
    (b'not json', 'not JSON'),
    (b'\xff\xfe', 'UTF-8'),
    (b'{"hello": 1}', 'eventNotifications'),
    (b'"text"', 'eventNotifications'),
    (b'{"eventNotifications": {}}', 'not a list'),
])
def test_a_body_that_is_no_notification_at_all_raises_webhook_error(body, reason):
    with pytest.raises(WebhookError) as info:
        read_notifications(body)
    assert reason in info.value.detail
    assert info.value.message == 'The QuickBooks notification could not be read.'


GOOD_CLASSIC_ENTITY = {'name': 'Class', 'id': '4', 'operation': 'Update',
                       'lastUpdated': '2026-11-26T04:00:00Z'}


@pytest.mark.parametrize('bad, reason', [
    ({'id': '1'}, 'name'),
    ({'name': 'Class', 'operation': 'Update'}, '.id'),
    ({'name': 'Class', 'id': '9' * 300, 'operation': 'Update'}, 'longer than'),
    ({'name': 'Class', 'id': "1' OR Id > '0", 'operation': 'Update'}, 'id is not a valid value'),
    ({'name': 'Class', 'id': '-1', 'operation': 'Update'}, 'id is not a valid value'),
    ({'name': 'Cla ss', 'id': '1', 'operation': 'Update'}, 'name is not a valid value'),
    ({'name': 'Customer', 'id': '5', 'operation': 'Merge', 'deletedId': '2\n7'}, 'deletedId'),
    ({'name': 'Class', 'id': '1', 'operation': 'Update', 'lastUpdated': "'; drop"}, 'lastUpdated'),
    (5, 'not an object'),
])
def test_an_odd_classic_entity_is_skipped_and_the_others_kept(bad, reason):
    body = {'eventNotifications': [{'realmId': '1', 'dataChangeEvent': {
        'entities': [bad, GOOD_CLASSIC_ENTITY]}}]}
    changes, skipped = read_notifications(json.dumps(body))
    assert [(c.entity, c.qbo_id) for c in changes] == [('Class', '4')]
    assert len(skipped) == 1 and reason in skipped[0], skipped


@pytest.mark.parametrize('bad, reason', [
    ({'type': 'customer.updated'}, 'qbo.<entity>'),
    ({'type': 'qbo.customer.updated.v1', 'intuitentityid': '1'}, 'intuitaccountid'),
    (5, 'not an object'),
    ({'type': 'qbo.customer.updated.v1', 'intuitentityid': '1', 'intuitaccountid': '2'}, '.id'),
    ({'type': 'qbo.customer.merged.v1', 'intuitentityid': '1', 'intuitaccountid': '2', 'id': 'e', 'data': []},
     'data is not an object'),
    ({'type': 'qbo.customer.updated.v1', 'intuitentityid': 'abc', 'intuitaccountid': '2', 'id': 'e'},
     'intuitentityid is not a valid value'),
    ({'type': 'qbo.customer.updated.v1', 'intuitentityid': '1', 'intuitaccountid': 'x y', 'id': 'e'},
     'intuitaccountid is not a valid value'),
    ({'type': 'qbo.customer.updated.v1', 'intuitentityid': '1', 'intuitaccountid': '2', 'id': 'e\x00'},
     '.id is not a valid value'),
])
def test_an_odd_cloud_event_is_skipped_and_the_others_kept(bad, reason):
    changes, skipped = read_notifications(json.dumps([bad, CLOUD[1]]))
    assert [c.event_id for c in changes] == ['e2']
    assert len(skipped) == 1 and reason in skipped[0], skipped


def test_a_notification_without_its_company_or_entities_is_skipped_alone():
    body = {'eventNotifications': [{'realmId': '1'}, {'dataChangeEvent': {'entities': []}}, 7,
                                   CLASSIC['eventNotifications'][0]]}
    changes, skipped = read_notifications(json.dumps(body))
    assert [c.qbo_id for c in changes] == ['58', '7']
    assert ['entities' in skipped[0], 'realmId' in skipped[1], 'not an object' in skipped[2]] == [True] * 3
    assert parse_notifications(json.dumps(body)) == changes


def test_a_classic_notification_delivered_again_has_the_same_event_id():
    first = parse_notifications(json.dumps(CLASSIC))
    again = parse_notifications(json.dumps(CLASSIC).encode())
    assert [c.event_id for c in first] == [c.event_id for c in again]
    assert len({c.event_id for c in first}) == 2
    later = json.loads(json.dumps(CLASSIC))
    later['eventNotifications'][0]['dataChangeEvent']['entities'][0]['lastUpdated'] = '2026-11-26T05:00:00Z'
    assert parse_notifications(json.dumps(later))[0].event_id != first[0].event_id, \
        'a later change of the same record is another event'


@pytest.mark.parametrize('fmt', ['classic', 'cloudevents'])
def test_a_merge_names_the_deleted_record(fmt):
    if fmt == 'classic':
        body = {'eventNotifications': [{'realmId': '1', 'dataChangeEvent': {'entities': [
            {'name': 'Customer', 'id': '5', 'operation': 'Merge', 'deletedId': '27',
             'lastUpdated': '2026-11-26T04:00:00Z'}]}}]}
    else:
        body = [dict(CLOUD[0], type='qbo.customer.merged.v1', intuitentityid='5', intuitaccountid='1',
                     data={'deletedid': '27'})]
    change, = parse_notifications(json.dumps(body))
    assert (change.operation, change.qbo_id, change.deleted_id) == ('Merge', '5', '27')


def test_changes_are_grouped_by_company_then_read_once_per_record():
    changes = [
        Change('A', 'Class', '1', 'Update', None, 'e1'),
        Change('B', 'Class', '1', 'Update', None, 'e2'),
        Change('A', 'Class', '1', 'Update', None, 'e3'),
        Change('A', 'Class', '2', 'Delete', None, 'e4'),
        Change('A', 'Item', '9', 'Create', None, 'e5'),
        Change('A', 'Customer', '5', 'Merge', None, 'e6', '27'),
        Change('A', 'Customer', '5', 'Merge', None, 'e7', '27'),
    ]
    grouped = by_realm(changes)
    assert list(grouped) == ['A', 'B']
    assert [c.event_id for c in grouped['A']] == ['e1', 'e3', 'e4', 'e5', 'e6', 'e7']
    work = entity_work(grouped['A'])
    assert work['Class'].fetch_ids == ['1', '2']
    assert work['Class'].gone_ids == {'2'}
    assert work['Class'].merges == []
    assert work['Item'].fetch_ids == ['9']
    assert work['Customer'].fetch_ids == ['5', '27']
    assert work['Customer'].gone_ids == {'27'}
    assert work['Customer'].merges == [('27', '5')]


def test_only_records_qbo_no_longer_returns_become_tombstones():
    objects = [{'Id': '2', 'Name': 'Back'}, {'Id': '5', 'Name': 'Survivor'}]
    assert tombstones({'2', '27'}, objects) == [{'Id': '27', 'status': 'Deleted'}]
    assert tombstones(set(), objects) == []


def test_a_merge_is_followed_only_once_quickbooks_no_longer_returns_the_merged_away_record():
    merges = [('27', '5'), ('28', '5')]
    assert confirmed_merges(merges, [{'Id': '5'}, {'Id': '28', 'Name': 'Still there'}]) == [('27', '5')]
    assert confirmed_merges(merges, []) == merges
    assert confirmed_merges([], [{'Id': '5'}]) == []


@pytest.mark.parametrize('text, expected', [
    ('2026-11-26T04:00:00Z', datetime.datetime(2026, 11, 26, 4, 0)),
    ('2026-11-26T04:00:00.000Z', datetime.datetime(2026, 11, 26, 4, 0)),
    ('2026-11-25T20:00:00-08:00', datetime.datetime(2026, 11, 26, 4, 0)),
    (None, None),
    ('2026-13-45', None),
])
def test_when_a_change_happened_is_read_in_utc(text, expected):
    assert changed_at(Change('1', 'Class', '1', 'Update', text)) == expected
