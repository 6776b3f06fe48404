"""QBO Customers and Vendors <-> plain values: the pure mappers the contacts sync stands on."""

import pytest

from werx_quickbooks.qbo.mappers import BadRecord
from werx_quickbooks.qbo.partners import (
    map_customer,
    map_vendor,
    mask_tax_id,
    party_to_qbo,
    unique_display_name,
)

CUSTOMER = {
    'Id': '58', 'SyncToken': '3', 'Active': True, 'DisplayName': 'Acme Corp:West', 'CompanyName': 'Acme Corp',
    'PrimaryEmailAddr': {'Address': 'ap@acme.example'}, 'PrimaryPhone': {'FreeFormNumber': '(415) 555-0100'},
    'Mobile': {'FreeFormNumber': '415 555 0101'}, 'WebAddr': {'URI': 'https://acme.example'},
    'BillAddr': {'Line1': '1 Market St', 'Line2': 'Suite 200', 'Line3': 'Floor 2', 'City': 'San Francisco',
                 'CountrySubDivisionCode': 'CA', 'PostalCode': '94105', 'Country': 'USA'},
    'Job': True, 'ParentRef': {'value': '57'}, 'BillWithParent': True, 'SalesTermRef': {'value': '3'},
    'Taxable': False, 'ResaleNum': 'SR-1', 'CurrencyRef': {'value': 'usd'}, 'Balance': 125.5,
    'MetaData': {'LastUpdatedTime': '2026-11-01T10:00:00-07:00'},
}


def test_a_sub_customer_keeps_its_parent_address_and_how_it_is_billed():
    values = map_customer(CUSTOMER)
    assert (values['qbo_id'], values['display_name'], values['company_name']) == ('58', 'Acme Corp:West',
                                                                                 'Acme Corp')
    assert values['is_company'] is True
    assert (values['email'], values['phone'], values['mobile']) == ('ap@acme.example', '(415) 555-0100',
                                                                    '415 555 0101')
    assert values['bill_address'] == {'street': '1 Market St', 'street2': 'Suite 200, Floor 2',
                                      'city': 'San Francisco', 'state_code': 'CA', 'zip': '94105',
                                      'country': 'USA'}
    assert values['ship_address'] is None
    assert (values['parent_qbo_id'], values['bill_with_parent']) == ('57', True)
    assert (values['term_qbo_id'], values['taxable'], values['resale_number']) == ('3', False, 'SR-1')
    assert (values['currency'], values['balance']) == ('USD', 125.5)


def test_a_person_is_not_a_company_and_a_top_level_customer_has_no_parent():
    values = map_customer({'Id': '9', 'DisplayName': 'Maria Garcia', 'GivenName': 'Maria',
                           'FamilyName': 'Garcia', 'CompanyName': 'Garcia Plumbing'})
    assert (values['is_company'], values['person_name'], values['parent_qbo_id']) == (
        False, 'Maria Garcia', None)


def test_a_vendor_tax_identifier_is_only_ever_kept_masked():
    values = map_vendor({'Id': '70', 'DisplayName': 'Bay Supply', 'Vendor1099': True,
                         'TaxIdentifier': '12-3456789', 'TermRef': {'value': '2'}, 'AcctNum': 'BS-9'})
    assert values['tax_id_masked'] == 'XXXXXX6789'
    assert '3456789' not in repr(values)
    assert (values['vendor_1099'], values['term_qbo_id'], values['account_number']) == (True, '2', 'BS-9')
    assert mask_tax_id('XXX-XX-1234') == 'XXXXXXX1234'
    assert mask_tax_id('123') == 'XXX'
    assert mask_tax_id('') == ''


@pytest.mark.parametrize('damage, said', [
    ({'DisplayName': 42}, 'whose name is not text'),
    ({'PrimaryEmailAddr': 'ap@acme.example'}, 'whose e-mail address is not readable'),
    ({'BillAddr': ['1 Market St']}, 'whose billing address is not an address'),
    ({'Balance': 'a lot'}, 'whose balance is "a lot", not a number'),
    ({'ParentRef': {'value': {'x': 1}}}, 'whose parent customer is not given by a QuickBooks ID'),
])
def test_a_damaged_customer_fails_alone_in_words(damage, said):
    with pytest.raises(BadRecord) as caught:
        map_customer(dict(CUSTOMER, **damage))
    assert said in caught.value.message


def test_a_contact_goes_to_quickbooks_as_a_customer_and_as_a_vendor():
    values = {'display_name': 'Acme: Corp\tWest', 'company_name': 'Acme Corp', 'email': 'ap@acme.example',
              'phone': '415 555 0100', 'bill_address': {'street': '1 Market St', 'street2': 'Suite 200',
                                                        'city': 'San Francisco', 'state_code': 'CA',
                                                        'zip': '94105', 'country': 'US'},
              'term_qbo_id': '3', 'currency': 'USD', 'parent_qbo_id': '57', 'bill_with_parent': True,
              'vendor_1099': True}
    customer = party_to_qbo(values, 'Customer')
    assert customer['DisplayName'] == 'Acme Corp West'
    assert customer['BillAddr'] == {'Line1': '1 Market St', 'Line2': 'Suite 200', 'City': 'San Francisco',
                                    'CountrySubDivisionCode': 'CA', 'PostalCode': '94105', 'Country': 'US'}
    assert (customer['SalesTermRef'], customer['CurrencyRef']) == ({'value': '3'}, {'value': 'USD'})
    assert (customer['Job'], customer['ParentRef'], customer['BillWithParent']) == (
        True, {'value': '57'}, True)
    assert 'Vendor1099' not in customer
    vendor = party_to_qbo(dict(values, display_name=unique_display_name('Acme Corp', '(Vendor)')), 'Vendor')
    assert vendor['DisplayName'] == 'Acme Corp (Vendor)'
    assert (vendor['TermRef'], vendor['Vendor1099']) == ({'value': '3'}, True)
    assert 'ParentRef' not in vendor and 'SalesTermRef' not in vendor
    update = party_to_qbo(values, 'Customer', current={'Id': '58', 'SyncToken': '4'})
    assert (update['Id'], update['SyncToken'], update['sparse']) == ('58', '4', True)
    assert 'CurrencyRef' not in update, 'QuickBooks never changes a currency once set'
    with pytest.raises(ValueError):
        party_to_qbo(values, 'Employee')


def test_a_differentiated_name_stays_within_quickbooks_limit():
    name = unique_display_name('N' * 600, '(Vendor)')
    assert len(name) == 500 and name.endswith(' (Vendor)')


def test_a_customer_shown_under_its_company_name_is_a_company_with_a_contact_person():
    values = map_customer({'Id': '1', 'DisplayName': "Amy's Bird Sanctuary",
                           'CompanyName': "Amy's Bird Sanctuary",
                           'GivenName': 'Amy', 'FamilyName': 'Lauterbach'})
    assert (values['is_company'], values['given_name'], values['family_name']) == (True, 'Amy', 'Lauterbach')


def test_an_update_clears_in_quickbooks_what_was_cleared_in_odoo():
    values = {'display_name': 'Acme Corp', 'email': False, 'phone': '415 555 0100', 'mobile': '',
              'company_name': 'Acme Corp', 'given_name': False, 'taxable': False}
    update = party_to_qbo(values, 'Customer', current={'Id': '58', 'SyncToken': '4'})
    assert update['PrimaryEmailAddr'] == {'Address': ''} and update['Mobile'] == {'FreeFormNumber': ''}
    assert update['GivenName'] == '' and update['Taxable'] is False
    assert 'WebAddr' not in update, 'a value Odoo does not keep is left as QuickBooks has it'
    create = party_to_qbo(values, 'Customer')
    assert 'PrimaryEmailAddr' not in create and 'GivenName' not in create


def test_a_vendor_tax_identifier_is_sent_only_when_given():
    vendor = party_to_qbo({'display_name': 'Bay Supply', 'tax_id': ' 12-345 6789 '}, 'Vendor')
    assert vendor['TaxIdentifier'] == '12-3456789'
    assert 'TaxIdentifier' not in party_to_qbo({'display_name': 'Bay Supply'}, 'Vendor')


def test_a_tax_exemption_reason_is_read_as_text_or_as_a_number():
    assert map_customer(dict(CUSTOMER, TaxExemptionReasonId=9))['tax_exemption_reason'] == '9'
    assert map_customer(dict(CUSTOMER, TaxExemptionReasonId='9'))['tax_exemption_reason'] == '9'
    with pytest.raises(BadRecord):
        map_customer(dict(CUSTOMER, TaxExemptionReasonId=[9]))
