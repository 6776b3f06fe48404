"""QBO Customers and Vendors <-> plain values, both ways. Pure functions, no Odoo.

``map_customer`` / ``map_vendor`` read a QBO Customer or Vendor as the API returns it (the
shape of the other mappers: ``qbo_id``, ``sync_token``, ``qbo_updated_at``, ``active``,
``name`` … plus what a contact needs). ``party_to_qbo`` writes the JSON of a Customer or a
Vendor from plain values, for a create or a sparse update.

The DisplayName is unique across Customers, Vendors and Employees in QuickBooks (6240):
``unique_display_name`` gives the name a contact is sent under when it is both a customer and
a vendor, or when its name is taken.
"""

import re

from .errors import Words
from .mappers import BadRecord, _checked_ref, _number, _text, common_values
from .matcher import normalise

DISPLAY_NAME_LIMIT = 500        # QBO's own limits
NAME_PART_LIMIT = 100
EMAIL_LIMIT = 100
PHONE_LIMIT = 30
LINE_LIMIT = 500
NOTES_LIMIT = 4000
BALANCE_MAX = 1e15
ADDRESS_LINES = ('Line1', 'Line2', 'Line3', 'Line4', 'Line5')
# Characters QBO refuses in a DisplayName.
_NAME_BAD = re.compile(r'[:\t\n\r]+')
# What QBO shows of a tax identifier: only its last four characters.
TAX_ID_SHOWN = 4


def _address(obj, key):
    """Return a QBO address as {street, street2, city, state_code, zip, country} (empty: None)."""
    addr = obj.get(key)
    if addr is None:
        return None
    if not isinstance(addr, dict):
        label = Words('billing address') if key == 'BillAddr' else Words('shipping address')
        raise BadRecord(obj, Words('whose %s is not an address', (label,)))
    lines = [_text(addr, line, 'address line', LINE_LIMIT) for line in ADDRESS_LINES]
    lines = [line for line in lines if line]
    values = {
        'street': lines[0] if lines else False,
        'street2': ', '.join(lines[1:]) or False,
        'city': _text(addr, 'City', 'city', NAME_PART_LIMIT) or False,
        'state_code': _text(addr, 'CountrySubDivisionCode', 'state', NAME_PART_LIMIT) or False,
        'zip': _text(addr, 'PostalCode', 'postal code', NAME_PART_LIMIT) or False,
        'country': _text(addr, 'Country', 'country', NAME_PART_LIMIT) or False,
    }
    return values if any(values.values()) else None


def _nested_text(obj, key, inner, label, limit):
    """Return obj[key][inner] as text ('' when absent), e.g. PrimaryEmailAddr.Address."""
    holder = obj.get(key)
    if holder is None:
        return ''
    if not isinstance(holder, dict):
        raise BadRecord(obj, Words('whose %s is not readable', (Words(label),)))
    return _text(holder, inner, label, limit)


def _party_values(obj):
    values = common_values(dict(obj, Name=obj.get('DisplayName')) if isinstance(obj, dict) else obj)
    company = _text(obj, 'CompanyName', 'company name', DISPLAY_NAME_LIMIT)
    given = _text(obj, 'GivenName', 'first name', NAME_PART_LIMIT)
    family = _text(obj, 'FamilyName', 'last name', NAME_PART_LIMIT)
    currency = obj.get('CurrencyRef')
    values.update({
        'display_name': values['name'],
        'company_name': company or False,
        'person_name': ' '.join(part for part in (given, family) if part) or False,
        # A company in Odoo: a record with a company name and no person's name, or one shown
        # under its company name (QuickBooks' usual "Acme Corp" with a contact person).
        'is_company': bool(company) and (not (given or family)
                                         or normalise(company) == normalise(values['name'])),
        'given_name': given or False,
        'family_name': family or False,
        'email': _nested_text(obj, 'PrimaryEmailAddr', 'Address', 'e-mail address', EMAIL_LIMIT) or False,
        'phone': _nested_text(obj, 'PrimaryPhone', 'FreeFormNumber', 'phone number', PHONE_LIMIT) or False,
        'mobile': _nested_text(obj, 'Mobile', 'FreeFormNumber', 'mobile number', PHONE_LIMIT) or False,
        'website': _nested_text(obj, 'WebAddr', 'URI', 'website', LINE_LIMIT) or False,
        'notes': _text(obj, 'Notes', 'notes', NOTES_LIMIT) or False,
        'bill_address': _address(obj, 'BillAddr'),
        'ship_address': _address(obj, 'ShipAddr'),
        'currency': (str(currency.get('value')).strip().upper()[:3] or False)
        if isinstance(currency, dict) and currency.get('value') else False,
        'balance': _number(obj, 'Balance', 'balance', -BALANCE_MAX, BALANCE_MAX),
    })
    return values


def _ids_as_text(obj, key):
    """Return ``obj`` with a numeric ``key`` as text (an Id sent as a number), else ``obj`` as it is."""
    value = obj.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return dict(obj, **{key: str(value)})
    return obj


def map_customer(obj):
    """Return the values of a QBO Customer (a sub-customer keeps its parent and how it is billed)."""
    values = _party_values(obj)
    job = obj.get('Job') is True or (obj.get('ParentRef') is not None and obj.get('Job') is not False)
    values.update({
        'parent_qbo_id': _checked_ref(obj, 'ParentRef', 'parent customer') if job else None,
        'bill_with_parent': job and obj.get('BillWithParent') is True,
        'term_qbo_id': _checked_ref(obj, 'SalesTermRef', 'payment terms'),
        'taxable': obj.get('Taxable') is not False,
        'tax_code_qbo_id': _checked_ref(obj, 'DefaultTaxCodeRef', 'tax code'),
        'resale_number': _text(obj, 'ResaleNum', 'resale number', NAME_PART_LIMIT) or False,
        # An Id QuickBooks documents as text and is seen as a number: both are read.
        'tax_exemption_reason': _text(_ids_as_text(obj, 'TaxExemptionReasonId'), 'TaxExemptionReasonId',
                                      'tax exemption reason', NAME_PART_LIMIT) or False,
    })
    return values


def map_vendor(obj):
    """Return the values of a QBO Vendor; its tax identifier only as QuickBooks shows it (masked)."""
    values = _party_values(obj)
    values.update({
        'term_qbo_id': _checked_ref(obj, 'TermRef', 'payment terms'),
        'vendor_1099': obj.get('Vendor1099') is True,
        'tax_id_masked': mask_tax_id(_text(obj, 'TaxIdentifier', 'tax identifier', NAME_PART_LIMIT)) or False,
        'account_number': _text(obj, 'AcctNum', 'account number', NAME_PART_LIMIT) or False,
    })
    return values


def mask_tax_id(value):
    """Return a tax identifier as QuickBooks shows it: only the last four characters, never more."""
    value = ''.join(str(value or '').split())
    if not value:
        return ''
    shown = value[-TAX_ID_SHOWN:] if len(value) > TAX_ID_SHOWN else ''
    return 'X' * (len(value) - len(shown)) + shown


def clean_display_name(name):
    """Return ``name`` as QuickBooks takes a DisplayName: no colon, tab or newline, at most 500."""
    name = ' '.join(_NAME_BAD.sub(' ', name or '').split())
    return name[:DISPLAY_NAME_LIMIT].rstrip()


def unique_display_name(name, suffix):
    """Return ``name`` with ``suffix`` added (a vendor's " (Vendor)", a differentiator), within 500."""
    suffix = ' ' + clean_display_name(suffix)[:100]
    return clean_display_name(name)[:DISPLAY_NAME_LIMIT - len(suffix)].rstrip() + suffix


def _qbo_address(address):
    if not address:
        return None
    lines = [address.get('street'), address.get('street2')]
    data = {key: value for key, value in zip(ADDRESS_LINES[:2], lines, strict=True) if value}
    for key, name in (('City', 'city'), ('CountrySubDivisionCode', 'state_code'), ('PostalCode', 'zip'),
                      ('Country', 'country')):
        if address.get(name):
            data[key] = str(address[name])
    return data or None


def party_to_qbo(values, entity, current=None):
    """Return the QBO Customer or Vendor JSON for a contact described by plain ``values``.

    ``values``: display_name, company_name, given_name, family_name, email, phone, mobile,
    website, notes, bill_address / ship_address (the mapper's shape), term_qbo_id, currency (a
    create only: QuickBooks never changes it), active; a Customer also parent_qbo_id,
    bill_with_parent and taxable (only when given); a Vendor also vendor_1099 and tax_id (only
    when given: a new or changed identifier). ``current`` ({Id, SyncToken}) makes it a sparse
    update of that record, where an empty value is sent empty, so that what was cleared in Odoo
    is cleared in QuickBooks too.
    """
    if entity not in ('Customer', 'Vendor'):
        raise ValueError('Not a QuickBooks party: %r' % (entity,))
    update = bool(current)
    data = {}
    # An update names only what changed: QuickBooks keeps its name and state otherwise.
    if not update or values.get('display_name'):
        data['DisplayName'] = clean_display_name(values['display_name'])
    if not update or 'active' in values:
        data['Active'] = bool(values.get('active', True))
    for key, field, limit in (('CompanyName', 'company_name', DISPLAY_NAME_LIMIT),
                              ('GivenName', 'given_name', NAME_PART_LIMIT),
                              ('FamilyName', 'family_name', NAME_PART_LIMIT),
                              ('Notes', 'notes', NOTES_LIMIT)):
        if values.get(field):
            data[key] = str(values[field])[:limit]
        elif update and field in values:
            data[key] = ''
    for key, inner, field, limit in (('PrimaryEmailAddr', 'Address', 'email', EMAIL_LIMIT),
                                     ('PrimaryPhone', 'FreeFormNumber', 'phone', PHONE_LIMIT),
                                     ('Mobile', 'FreeFormNumber', 'mobile', PHONE_LIMIT),
                                     ('WebAddr', 'URI', 'website', LINE_LIMIT)):
        if values.get(field):
            data[key] = {inner: str(values[field])[:limit]}
        elif update and field in values:
            data[key] = {inner: ''}
    for key, field in (('BillAddr', 'bill_address'), ('ShipAddr', 'ship_address')):
        address = _qbo_address(values.get(field))
        if address:
            data[key] = address
    term_key = 'SalesTermRef' if entity == 'Customer' else 'TermRef'
    if values.get('term_qbo_id'):
        data[term_key] = {'value': str(values['term_qbo_id'])}
    if entity == 'Customer':
        if values.get('parent_qbo_id'):
            data.update(Job=True, ParentRef={'value': str(values['parent_qbo_id'])},
                        BillWithParent=bool(values.get('bill_with_parent')))
        if values.get('taxable') is not None:
            data['Taxable'] = bool(values['taxable'])
    if entity == 'Vendor':
        if 'vendor_1099' in values:
            data['Vendor1099'] = bool(values['vendor_1099'])
        if values.get('tax_id'):
            data['TaxIdentifier'] = ''.join(str(values['tax_id']).split())[:NAME_PART_LIMIT]
    if current:
        data.update(Id=current['Id'], SyncToken=current['SyncToken'], sparse=True)
    elif values.get('currency'):
        data['CurrencyRef'] = {'value': str(values['currency'])}
    return data
