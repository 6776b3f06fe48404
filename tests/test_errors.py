"""QBO faults become typed errors with sentences a bookkeeper understands."""

import ast
import json
import os

import pytest

from werx_quickbooks.qbo.errors import (
    BadReply,
    DuplicateName,
    InvalidReference,
    NeedsReconnect,
    NotFound,
    QBOError,
    StaleObject,
    Throttled,
    TransientError,
    ValidationError,
    error_from_batch_item,
    error_from_fault,
)
from werx_quickbooks.qbo.mappers import BadRecord, map_term
from werx_quickbooks.qbo.sentences import all_sentences


def fault(code, message='', detail='', ftype='ValidationFault'):
    return {'Fault': {'Error': [{'Message': message, 'Detail': detail, 'code': code, 'element': ''}],
                      'type': ftype}, 'time': '2026-11-26T04:00:00.000-07:00'}


def test_duplicate_name_names_the_record_and_keeps_qbo_code():
    body = fault('6240', 'Duplicate Name Exists Error',
                 "The name supplied already exists. : Another customer named 'Acme' Id=58 uses it")
    error = error_from_fault(400, json.dumps(body))
    assert isinstance(error, DuplicateName)
    assert str(error) == "QuickBooks already has a record named 'Acme'; link it or rename this one."
    assert error.name == 'Acme'
    assert error.existing_id == '58'
    assert error.code == '6240'
    assert 'already exists' in error.detail
    assert error.http_status == 400


def test_duplicate_name_from_name_equals_detail():
    error = error_from_fault(400, fault('6240', 'Duplicate Name Exists Error',
                                        'The name supplied already exists. : Name=Acme Plumbing; Id=7'))
    assert error.name == 'Acme Plumbing'
    assert 'Acme Plumbing' in error.message


def test_duplicate_name_without_a_name_still_reads_well():
    error = error_from_fault(400, fault('6240', 'Duplicate Name Exists Error',
                                        'The name supplied already exists.'))
    assert isinstance(error, DuplicateName)
    assert error.message == 'QuickBooks already has a record with this name; link it or rename this one.'


def test_stale_sync_token_says_it_will_be_reread():
    error = error_from_fault(400, fault('5010', 'Stale Object Error',
                                        'You and root were working on this at the same time.'))
    assert isinstance(error, StaleObject)
    assert error.message == ('Someone changed this record in QuickBooks since it was last read; '
                             'it will be re-read and tried again.')
    assert error.code == '5010'


def test_lower_case_401_fault_asks_for_reconnect():
    body = {'fault': {'error': [{'message': 'message=AuthenticationFailed; errorCode=003200; '
                                            'statusCode=401', 'code': '3200'}],
                      'type': 'AUTHENTICATION'}}
    error = error_from_fault(401, json.dumps(body).encode())
    assert isinstance(error, NeedsReconnect)
    assert error.message == 'QuickBooks refused the saved sign-in; an administrator must reconnect.'
    assert error.code == '3200'
    assert 'AuthenticationFailed' in error.detail


def test_xml_429_is_throttled():
    body = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<IntuitResponse time="2026-11-26T04:00:00.000-07:00"><Fault type="SERVICE">'
            '<Error code="3001"><Message>message=ThrottleExceeded; errorCode=003001; statusCode=429'
            '</Message><Detail>The request limit was reached.</Detail></Error></Fault></IntuitResponse>')
    error = error_from_fault(429, body)
    assert isinstance(error, Throttled)
    assert isinstance(error, TransientError)
    assert error.code == '3001'
    assert error.detail == 'The request limit was reached.'


def test_not_found_invalid_reference_and_validation_keep_qbo_detail():
    missing = error_from_fault(400, fault('610', 'Object Not Found',
                                          'Object Not Found : Something you are trying to use '
                                          'has been made inactive.'))
    assert isinstance(missing, NotFound)
    assert 'no longer has this record' in missing.message

    reference = error_from_fault(400, fault('2500', 'Invalid Reference Id',
                                            'Invalid Reference Id : Accounts element id 99 not found'))
    assert isinstance(reference, InvalidReference)
    assert 'Accounts element id 99 not found' in reference.message

    invalid = error_from_fault(400, fault('6000', 'A business validation error has occurred',
                                          'Business Validation Error: Please select a customer.'))
    assert isinstance(invalid, ValidationError)
    assert invalid.message == ('QuickBooks rejected this record: Business Validation Error: '
                               'Please select a customer.')
    required = error_from_fault(400, fault('2020', 'Required param missing',
                                           'Required parameter Name is missing in the request'))
    assert isinstance(required, ValidationError)
    assert 'Name is missing' in str(required)


def test_other_validation_range_codes_are_validation_errors():
    error = error_from_fault(400, fault('2050', 'Invalid String Length', 'Name is too long'))
    assert isinstance(error, ValidationError)
    assert error.code == '2050'


def test_non_json_bodies_by_status():
    assert isinstance(error_from_fault(502, '<html>Bad gateway</html>'), TransientError)
    assert isinstance(error_from_fault(200, 'Service temporarily unavailable'), BadReply)
    assert isinstance(error_from_fault(401, ''), NeedsReconnect)
    bad = error_from_fault(400, '<html>' + 'x' * 5000)
    assert isinstance(bad, BadReply)
    assert len(bad.detail) <= 500


def test_unknown_code_is_a_plain_qbo_error_with_its_text():
    error = error_from_fault(400, fault('1234', 'Something odd', 'Odd detail'))
    assert type(error) is QBOError
    assert 'Odd detail' in error.message
    assert error.code == '1234'


def test_every_error_reads_as_its_message():
    for error in (NeedsReconnect(), StaleObject(code='5010'), BadReply(detail='x'), Throttled()):
        assert str(error) == error.message
        assert error.message.endswith('.')


def test_batch_item_fault_becomes_typed_error():
    item = {'bId': '2', 'Fault': fault('6240', 'Duplicate Name Exists Error',
                                       "Another customer named 'Bob' exists")['Fault']}
    error = error_from_batch_item(item)
    assert isinstance(error, DuplicateName)
    assert error.name == 'Bob'
    assert error_from_batch_item({'bId': '1', 'Customer': {'Id': '1'}}) is None


@pytest.mark.parametrize('body', [None, 5, [], {'Fault': 'x'}, {'Fault': {'Error': []}}, b'\xff\xfe'])
def test_garbage_never_crashes(body):
    error = error_from_fault(400, body)
    assert isinstance(error, QBOError)


def test_duplicate_name_takes_the_name_from_what_was_sent():
    qbo_detail = ('The name supplied already exists. : Another customer, vendor or employee is already '
                  'using this name. Please use a different name.')
    item = {'bId': '3', 'Fault': fault('6240', 'Duplicate Name Exists Error', qbo_detail)['Fault']}
    sent = {'bId': '3', 'operation': 'create', 'Customer': {'DisplayName': 'Acme Plumbing'}}
    error = error_from_batch_item(item, sent)
    assert str(error) == "QuickBooks already has a record named 'Acme Plumbing'; link it or rename this one."
    assert error.detail == qbo_detail
    assert error.code == '6240'
    assert error_from_batch_item(item).name is None


def test_app_no_longer_authorized_for_the_company_needs_reconnect():
    body = {'Fault': {'Error': [{'Message': 'message=ApplicationAuthorizationFailed; errorCode=003100; '
                                            'statusCode=403', 'code': '003100'}], 'type': 'SERVICE'}}
    error = error_from_fault(403, body)
    assert isinstance(error, NeedsReconnect)
    assert error.code == '3100'


# --- in the user's language --- #

def _listed_for_translation():
    """The templates the add-on lists as _lt in models/qbo_sentences.py (read as text: no Odoo here)."""
    path = os.path.join(os.path.dirname(__file__), '..', 'werx_quickbooks', 'models', 'qbo_sentences.py')
    with open(path, encoding='utf-8') as handle:
        tree = ast.parse(handle.read())
    return {node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, 'id', None) == '_lt'}


def test_every_sentence_of_the_qbo_layer_is_listed_for_translation():
    said = all_sentences()
    listed = _listed_for_translation()
    assert said - listed == set(), 'add these to models/qbo_sentences.py'
    assert listed - said == set(), 'no longer said by qbo/: remove from models/qbo_sentences.py'
    assert len(said) > 50


def test_an_error_is_translated_template_first_then_filled():
    french = {
        'QuickBooks sent %(record)s %(problem)s; correct it in QuickBooks and sync again.':
            'QuickBooks a envoyé %(record)s %(problem)s ; corrigez-le dans QuickBooks.',
        'whose %s is not a number': 'dont le champ %s n’est pas un nombre',
        'number of days to pay': 'délai de paiement',
        '"%(name)s" (QuickBooks ID %(id)s)': '« %(name)s » (ID QuickBooks %(id)s)',
    }
    with pytest.raises(BadRecord) as caught:
        map_term({'Id': '7', 'Name': 'Net %s', 'DueDays': {'x': 1}})
    error = caught.value
    assert error.message == ('QuickBooks sent "Net %s" (QuickBooks ID 7) whose number of days to pay is not '
                             'a number; correct it in QuickBooks and sync again.')
    assert error.in_words(lambda text: french.get(text, text)) == (
        'QuickBooks a envoyé « Net %s » (ID QuickBooks 7) dont le champ délai de paiement n’est pas un '
        'nombre ; corrigez-le dans QuickBooks.')
    # A translation whose placeholders do not fit falls back to English, never to an error.
    assert error.in_words(lambda text: text + ' %(missing)s').startswith('QuickBooks sent')


def test_a_fault_sentence_keeps_quickbooks_own_words_untranslated():
    error = error_from_fault(400, fault('6000', 'Business Validation Error', 'Amount is negative'))
    french = {'QuickBooks rejected this record: %s': 'Refusé : %s'}
    assert error.in_words(lambda text: french.get(text, text)) == 'Refusé : Amount is negative.'
