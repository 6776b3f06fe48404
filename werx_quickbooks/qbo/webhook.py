"""Intuit webhooks: check the ``intuit-signature`` header and read the notifications.

Two payloads exist: the classic ``eventNotifications`` object and the
CloudEvents array (mandatory from 2026). Both become a list of Change.
A notification only says "this changed": the sync fetches the object itself.
"""

import base64
import binascii
import collections
import hashlib
import hmac
import json
import re

from .errors import QBOError

SIGNATURE_HEADER = 'intuit-signature'

Change = collections.namedtuple('Change', 'realm_id entity qbo_id operation last_updated')
Change.__doc__ = 'One changed QBO object: which company, which entity and Id, what happened, when.'

# CloudEvents verbs -> classic operation names.
_OPERATIONS = {
    'created': 'Create', 'updated': 'Update', 'deleted': 'Delete', 'merged': 'Merge',
    'voided': 'Void', 'emailed': 'Emailed',
}
# qbo.<entity>.<verb>.v<n>; entity in lower case ('customer', 'paymentmethod', 'journalentry').
_CLOUD_TYPE = re.compile(r'^qbo\.([a-z0-9_]+)\.([a-z]+)\.v\d+$', re.I)
# Lower-case CloudEvents entity names -> QBO entity names.
_ENTITY_NAMES = {name.lower(): name for name in (
    'Account', 'Bill', 'BillPayment', 'Budget', 'Class', 'CreditMemo', 'Currency', 'Customer',
    'Department', 'Deposit', 'Employee', 'Estimate', 'Invoice', 'Item', 'JournalCode',
    'JournalEntry', 'Payment', 'PaymentMethod', 'Preferences', 'Purchase', 'PurchaseOrder',
    'RefundReceipt', 'SalesReceipt', 'TaxAgency', 'Term', 'TimeActivity', 'Transfer', 'Vendor',
    'VendorCredit', 'CompanyInfo', 'TaxCode', 'TaxRate', 'Attachable',
)}


class WebhookError(QBOError):
    """A webhook body that is not a QBO notification."""

    default_message = 'The QuickBooks notification could not be read.'


def sign(body, verifier_token):
    """Return the ``intuit-signature`` value for ``body`` (base64 HMAC-SHA256 with the verifier token)."""
    if isinstance(body, str):
        body = body.encode('utf-8')
    digest = hmac.new(verifier_token.encode('utf-8'), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode('ascii')


def verify_signature(body, signature, verifier_token):
    """True if ``signature`` is the verifier token's HMAC of the raw ``body``; never raises."""
    if not signature or not verifier_token or body is None:
        return False
    try:
        if isinstance(body, str):
            body = body.encode('utf-8')
        if isinstance(signature, bytes):
            signature = signature.decode('ascii')
        given = base64.b64decode(signature.strip(), validate=True)
        expected = hmac.new(verifier_token.encode('utf-8'), bytes(body), hashlib.sha256).digest()
    except (binascii.Error, ValueError, TypeError, AttributeError, UnicodeError):
        return False
    return hmac.compare_digest(given, expected)


def parse_notifications(body):
    """Return the list of Change in a webhook body (classic object or CloudEvents array).

    Raises WebhookError for a body that is not JSON or not a notification.
    """
    if isinstance(body, (bytes, bytearray)):
        try:
            body = bytes(body).decode('utf-8')
        except UnicodeDecodeError:
            raise WebhookError(detail='body is not UTF-8 text') from None
    try:
        data = json.loads(body)
    except (TypeError, ValueError, RecursionError):   # RecursionError: deeply nested JSON
        raise WebhookError(detail='body is not JSON') from None
    if isinstance(data, list):
        return [_cloud_event_change(event, index) for index, event in enumerate(data)]
    if isinstance(data, dict) and 'eventNotifications' in data:
        return _classic_changes(data['eventNotifications'])
    raise WebhookError(detail='expected an eventNotifications object or a CloudEvents array')


def _classic_changes(notifications):
    if not isinstance(notifications, list):
        raise WebhookError(detail='eventNotifications is not a list')
    changes = []
    for index, notification in enumerate(notifications):
        where = 'eventNotifications[%d]' % index
        if not isinstance(notification, dict):
            raise WebhookError(detail='%s is not an object' % where)
        realm_id = _text(notification.get('realmId'), where + '.realmId')
        event = notification.get('dataChangeEvent')
        entities = event.get('entities') if isinstance(event, dict) else None
        if not isinstance(entities, list):
            raise WebhookError(detail='%s.dataChangeEvent.entities is not a list' % where)
        for position, entity in enumerate(entities):
            spot = '%s.dataChangeEvent.entities[%d]' % (where, position)
            if not isinstance(entity, dict):
                raise WebhookError(detail='%s is not an object' % spot)
            changes.append(Change(
                realm_id=realm_id,
                entity=_text(entity.get('name'), spot + '.name'),
                qbo_id=_text(entity.get('id'), spot + '.id'),
                operation=_text(entity.get('operation'), spot + '.operation'),
                last_updated=entity.get('lastUpdated') or None,
            ))
    return changes


def _cloud_event_change(event, index):
    where = 'event[%d]' % index
    if not isinstance(event, dict):
        raise WebhookError(detail='%s is not an object' % where)
    event_type = _text(event.get('type'), where + '.type')
    match = _CLOUD_TYPE.match(event_type)
    if not match:
        raise WebhookError(detail='%s.type %r is not a qbo.<entity>.<verb>.v<n> type'
                           % (where, event_type[:100]))
    entity, verb = match.group(1).lower(), match.group(2).lower()
    return Change(
        realm_id=_text(event.get('intuitaccountid'), where + '.intuitaccountid'),
        entity=_ENTITY_NAMES.get(entity, entity[:1].upper() + entity[1:]),
        qbo_id=_text(event.get('intuitentityid'), where + '.intuitentityid'),
        operation=_OPERATIONS.get(verb, verb.capitalize()),
        last_updated=event.get('time') or None,
    )


def _text(value, where):
    """Return a required id/name field as a non-empty string (QBO sends ids as strings)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == '':
        raise WebhookError(detail='%s is missing or not text' % where)
    return str(value)
