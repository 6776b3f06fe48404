"""Intuit webhook deliveries: only signed ones are trusted, both payload shapes are read."""

import base64
import hashlib
import hmac
import json

import pytest

from werx_quickbooks.qbo.webhook import Change, WebhookError, parse_notifications, sign, verify_signature

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
    assert changes == [
        Change('9130350000000001', 'Customer', '58', 'Update', '2026-11-26T04:00:00.000Z'),
        Change('9130350000000001', 'Account', '7', 'Delete', '2026-11-26T04:01:00Z'),
    ]


def test_cloudevents_payload_mixing_companies():
    changes = parse_notifications(json.dumps(CLOUD))
    assert changes == [
        Change('9130350000000001', 'Customer', '58', 'Update', '2026-11-26T04:00:00Z'),
        Change('9130350000000002', 'PaymentMethod', '3', 'Create', '2026-11-26T04:02:00Z'),
    ]


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
    (b'{"eventNotifications": [{"realmId": "1"}]}', 'entities'),
    (b'{"eventNotifications": [{"dataChangeEvent": {"entities": []}}]}', 'realmId'),
    (b'{"eventNotifications": [{"realmId": "1", "dataChangeEvent": {"entities": [{"id": "1"}]}}]}',
     'name'),
    (b'[{"type": "customer.updated"}]', 'qbo.<entity>'),
    (b'[{"type": "qbo.customer.updated.v1", "intuitentityid": "1"}]', 'intuitaccountid'),
    (b'[5]', 'not an object'),
])
def test_malformed_payloads_raise_webhook_error(body, reason):
    with pytest.raises(WebhookError) as info:
        parse_notifications(body)
    assert reason in info.value.detail
    assert info.value.message == 'The QuickBooks notification could not be read.'
