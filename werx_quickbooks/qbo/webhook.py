"""Intuit webhooks: check the ``intuit-signature`` header and read the notifications.

Two payloads exist: the classic ``eventNotifications`` object and the
CloudEvents array (mandatory from 2026). Both become a list of Change.
A notification only says "this changed": the sync fetches the object itself. What to fetch,
and what is gone for good (a delete, the merged-away side of a merge), is decided here too.
"""

import base64
import binascii
import collections
import datetime
import hashlib
import hmac
import json
import re

from .errors import QBOError

SIGNATURE_HEADER = 'intuit-signature'

Change = collections.namedtuple(
    'Change', 'realm_id entity qbo_id operation last_updated event_id deleted_id', defaults=(None, None))
Change.__doc__ = """One changed QBO object: which company, which entity and Id, what happened, when.

``event_id`` tells one notification from another (a delivery Intuit sends again carries the same
ids): CloudEvents' own ``id``, for a classic notification one derived from what it says.
``deleted_id`` is the record a Merge removed (``qbo_id`` is the one that survived).
"""

EntityWork = collections.namedtuple('EntityWork', 'fetch_ids gone_ids merges')
EntityWork.__doc__ = """What the notifications of one entity of one company ask for.

``fetch_ids``: the Ids to read from QBO (each once); ``gone_ids``: those a Delete or a Merge
removed; ``merges``: (deleted Id, surviving Id) pairs in the order they came.
"""

# Longest id, entity name or event id kept from a notification; anything longer is not from Intuit.
TEXT_MAX = 255

# What each field of a notification may hold. QuickBooks Ids and company ids are digits; entity
# and operation names are words; event ids and times a short set of safe characters.
_DIGITS = re.compile(r'[0-9]{1,32}')
_NAME = re.compile(r'[A-Za-z]{1,64}')
_TIME = re.compile(r'[0-9TZtz:.+ -]{1,40}')
_EVENT_ID = re.compile(r'[A-Za-z0-9._:@/+=-]+')
_ANY = re.compile(r'.+', re.S)

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


def read_notifications(body):
    """Return (list of Change, list of skipped events' reasons) of a webhook body.

    Raises WebhookError only for a body that is not JSON or not a notification at all: one odd
    event (no id, an unknown type, an Id that is not a QuickBooks Id) is skipped with its reason,
    and the others are kept, so one bad entry never makes Intuit send the whole delivery again.
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
    changes, skipped = [], []
    if isinstance(data, list):
        for index, event in enumerate(data):
            try:
                changes.append(_cloud_event_change(event, index))
            except WebhookError as error:
                skipped.append(error.detail)
        return changes, skipped
    if isinstance(data, dict) and 'eventNotifications' in data:
        notifications = data['eventNotifications']
        if not isinstance(notifications, list):
            raise WebhookError(detail='eventNotifications is not a list')
        for index, notification in enumerate(notifications):
            try:
                changes += _classic_changes(notification, index, skipped)
            except WebhookError as error:
                skipped.append(error.detail)
        return changes, skipped
    raise WebhookError(detail='expected an eventNotifications object or a CloudEvents array')


def parse_notifications(body):
    """Return the list of Change in a webhook body (classic object or CloudEvents array).

    Malformed events are left out (``read_notifications`` says why); raises WebhookError for a
    body that is not JSON or not a notification.
    """
    return read_notifications(body)[0]


def _classic_changes(notification, index, skipped):
    """Return the changes of one classic notification; an odd entity's reason goes to ``skipped``."""
    where = 'eventNotifications[%d]' % index
    if not isinstance(notification, dict):
        raise WebhookError(detail='%s is not an object' % where)
    realm_id = _checked(notification.get('realmId'), where + '.realmId', _DIGITS)
    event = notification.get('dataChangeEvent')
    entities = event.get('entities') if isinstance(event, dict) else None
    if not isinstance(entities, list):
        raise WebhookError(detail='%s.dataChangeEvent.entities is not a list' % where)
    changes = []
    for position, entity in enumerate(entities):
        spot = '%s.dataChangeEvent.entities[%d]' % (where, position)
        try:
            if not isinstance(entity, dict):
                raise WebhookError(detail='%s is not an object' % spot)
            change = Change(
                realm_id=realm_id,
                entity=_checked(entity.get('name'), spot + '.name', _NAME),
                qbo_id=_checked(entity.get('id'), spot + '.id', _DIGITS),
                operation=_checked(entity.get('operation'), spot + '.operation', _NAME),
                last_updated=_optional(entity.get('lastUpdated'), spot + '.lastUpdated', _TIME),
                deleted_id=_optional(entity.get('deletedId'), spot + '.deletedId', _DIGITS),
            )
        except WebhookError as error:
            skipped.append(error.detail)
            continue
        changes.append(change._replace(event_id=classic_event_id(change)))
    return changes


def classic_event_id(change):
    """Return a stable id for a classic notification, which has none of its own.

    The same change delivered again gives the same id; another change of the same record has
    another lastUpdated, so another id.
    """
    parts = (change.realm_id, change.entity, change.qbo_id, change.operation, change.last_updated or '',
             change.deleted_id or '')
    return 'classic-' + hashlib.sha256('\x1f'.join(parts).encode('utf-8')).hexdigest()


def _cloud_event_change(event, index):
    where = 'event[%d]' % index
    if not isinstance(event, dict):
        raise WebhookError(detail='%s is not an object' % where)
    event_type = _checked(event.get('type'), where + '.type', _ANY)
    match = _CLOUD_TYPE.match(event_type)
    if not match:
        raise WebhookError(detail='%s.type %r is not a qbo.<entity>.<verb>.v<n> type'
                           % (where, event_type[:100]))
    entity, verb = match.group(1).lower(), match.group(2).lower()
    data = event.get('data')
    if data is not None and not isinstance(data, dict):
        raise WebhookError(detail='%s.data is not an object' % where)
    return Change(
        realm_id=_checked(event.get('intuitaccountid'), where + '.intuitaccountid', _DIGITS),
        entity=_ENTITY_NAMES.get(entity, entity[:1].upper() + entity[1:]),
        qbo_id=_checked(event.get('intuitentityid'), where + '.intuitentityid', _DIGITS),
        operation=_OPERATIONS.get(verb, verb.capitalize()),
        last_updated=_optional(event.get('time'), where + '.time', _TIME),
        event_id=_checked(event.get('id'), where + '.id', _EVENT_ID),
        deleted_id=_optional((data or {}).get('deletedid'), where + '.data.deletedid', _DIGITS),
    )


def _checked(value, where, pattern):
    """Return a required field as a string of the shape ``pattern`` allows (QBO sends ids as strings).

    QuickBooks Ids and company ids are digits; checking it here means nothing odd from a
    delivery ever reaches a query or the log.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == '':
        raise WebhookError(detail='%s is missing or not text' % where)
    text = str(value)
    if len(text) > TEXT_MAX:
        raise WebhookError(detail='%s is longer than %d characters' % (where, TEXT_MAX))
    if not pattern.fullmatch(text):
        raise WebhookError(detail='%s is not a valid value' % where)
    return text


def _optional(value, where, pattern):
    return None if value is None or value == '' else _checked(value, where, pattern)


def changed_at(change):
    """Return when QuickBooks says the change happened (naive UTC datetime), or None if it does not say."""
    text = change.last_updated
    if not text:
        return None
    try:
        when = datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))
    except ValueError:
        return None
    if when.tzinfo:
        when = when.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return when


# === WHAT TO FETCH === #

def by_realm(changes):
    """Return {realm_id: [Change]}, in the order the changes came (a delivery may mix companies)."""
    grouped = {}
    for change in changes:
        grouped.setdefault(change.realm_id, []).append(change)
    return grouped


def entity_work(changes):
    """Return {entity: EntityWork} for the changes of one company.

    Every Id named is read once, whatever happened to it: QBO's current state is the truth,
    and a record a notification says was deleted is only taken for gone if QBO no longer
    returns it (``tombstones``).
    """
    work = {}
    for change in changes:
        fetch, gone, merges = work.setdefault(change.entity, EntityWork({}, set(), []))
        fetch.setdefault(change.qbo_id)
        if change.operation == 'Delete':
            gone.add(change.qbo_id)
        if change.operation == 'Merge' and change.deleted_id:
            fetch.setdefault(change.deleted_id)
            gone.add(change.deleted_id)
            if (change.deleted_id, change.qbo_id) not in merges:
                merges.append((change.deleted_id, change.qbo_id))
    return {entity: EntityWork(list(fetch), gone, merges) for entity, (fetch, gone, merges) in work.items()}


def tombstones(gone_ids, objects):
    """Return the change feed's ``{'Id', 'status': 'Deleted'}`` for each gone Id QBO did not return."""
    returned = _returned_ids(objects)
    return [{'Id': qbo_id, 'status': 'Deleted'} for qbo_id in sorted(gone_ids) if qbo_id not in returned]


def confirmed_merges(merges, objects):
    """Return the (deleted Id, surviving Id) pairs whose deleted record QBO no longer returns.

    A merge moves Odoo's links for good: it is followed only once QuickBooks shows the merged-away
    record gone, never on the word of a notification alone (a replayed or mistaken one).
    """
    returned = _returned_ids(objects)
    return [(deleted, kept) for deleted, kept in merges if deleted not in returned]


def _returned_ids(objects):
    return {str(obj.get('Id')) for obj in objects if isinstance(obj, dict)}
