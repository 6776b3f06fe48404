"""QBO list objects -> plain dicts of the values Odoo needs. Pure functions, no Odoo.

Each ``map_<list>(obj)`` takes the QBO JSON object as the API returns it and gives back a
flat dict: the mapping's own values (``qbo_id``, ``sync_token``, ``qbo_updated_at``,
``active``, ``name`` …) and the values of the Odoo record it stands for, keyed by what
they mean. The models decide which Odoo fields they become.
"""

import re
from datetime import datetime, timezone

from . import const

_CODE_BAD_CHARS = re.compile(r'[^A-Za-z0-9.]+')


# === COMMON === #

def parse_qbo_time(value):
    """Return a QBO timestamp ('2024-01-02T10:00:00-08:00') as a naive UTC datetime, or None."""
    if not value:
        return None
    text = value.strip()
    if text.endswith('Z'):
        text = text[:-1] + '+00:00'
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def ref_id(ref):
    """Return the Id inside a QBO reference ({'value': '3', 'name': ...}) or None."""
    if isinstance(ref, dict):
        return ref.get('value') or None
    return None


def common_values(obj):
    """Return what every mapped list record keeps: id, sync token, update time, active, name."""
    meta = obj.get('MetaData') or {}
    return {
        'qbo_id': str(obj['Id']),
        'sync_token': obj.get('SyncToken'),
        'qbo_updated_at': parse_qbo_time(meta.get('LastUpdatedTime')),
        'active': obj.get('Active', True) is not False,
        'name': (obj.get('Name') or '').strip() or 'QuickBooks %s' % obj['Id'],
        'deleted': obj.get('status') == 'Deleted',
    }


def full_name(obj):
    """Return the record's FullyQualifiedName ('Parent:Child'), falling back to its Name."""
    return (obj.get('FullyQualifiedName') or obj.get('Name') or '').strip()


def hierarchy_depth(obj):
    """Return how deep a list record sits (0 for a top-level one), from its full name."""
    return full_name(obj).count(':')


# === ACCOUNTS === #

def odoo_account_type(account_type, sub_type=None, classification=None):
    """Return the Odoo account_type for a QBO AccountType / AccountSubType pair."""
    if (account_type, sub_type) in const.ACCOUNT_SUBTYPES:
        return const.ACCOUNT_SUBTYPES[(account_type, sub_type)]
    if account_type in const.ACCOUNT_TYPES:
        return const.ACCOUNT_TYPES[account_type]
    return const.ACCOUNT_TYPE_FALLBACK.get(classification, 'asset_current')


def account_code_from_number(acct_num):
    """Return a QBO account number as an Odoo code (letters, digits, dots), or None if blank."""
    if not acct_num:
        return None
    code = _CODE_BAD_CHARS.sub('.', str(acct_num).strip()).strip('.')
    return code[:64] or None


def generated_account_code(qbo_id):
    """Return the stable code of a QBO account without a number: 'QB' + its Id."""
    return '%s%s' % (const.GENERATED_ACCOUNT_CODE_PREFIX, _CODE_BAD_CHARS.sub('', str(qbo_id)))


def unique_code(code, taken):
    """Return ``code`` if not in ``taken``, else the first free ``code.2``, ``code.3`` …"""
    if code not in taken:
        return code
    n = 2
    while '%s.%d' % (code, n) in taken:
        n += 1
    return '%s.%d' % (code, n)


def map_account(obj):
    """Return the values of a QBO Account for its mapping and its Odoo account."""
    values = common_values(obj)
    account_type = obj.get('AccountType')
    sub_type = obj.get('AccountSubType')
    odoo_type = odoo_account_type(account_type, sub_type, obj.get('Classification'))
    reconcile = None
    if odoo_type in ('asset_receivable', 'liability_payable') or (
            (account_type, sub_type) in const.ACCOUNT_SUBTYPES_RECONCILE):
        reconcile = True
    number = (obj.get('AcctNum') or '').strip() or None
    values.update({
        'full_name': full_name(obj) or values['name'],
        'parent_qbo_id': ref_id(obj.get('ParentRef')) if obj.get('SubAccount') or obj.get('ParentRef')
        else None,
        'acct_num': number,
        'code': account_code_from_number(number) or generated_account_code(values['qbo_id']),
        'code_from_number': bool(account_code_from_number(number)),
        'qbo_account_type': account_type,
        'qbo_account_subtype': sub_type,
        'classification': obj.get('Classification'),
        'account_type': odoo_type,
        'reconcile': reconcile,
        'balance': float(obj.get('CurrentBalance') or 0.0),
        'currency_code': ref_id(obj.get('CurrencyRef')),
    })
    return values


# === TERMS === #

def map_term(obj):
    """Return the values of a QBO Term and of the Odoo payment term it becomes.

    Standard terms (DueDays) become one 100 % line N days after the invoice date, with
    QBO's early-payment discount (DiscountPercent within DiscountDays) as Odoo's early
    discount. Date-driven terms (DayOfMonthDue) become a line due on that day of the next
    month: Odoo's "days end of month on the". QBO moves the due date to the month after
    only when the invoice is dated within DueNextMonthDays of it; Odoo has no such switch,
    so the next-month rule (the usual reading of "due on the Nth") is kept and
    DueNextMonthDays stays on the mapping for reference.
    """
    values = common_values(obj)
    day_of_month = obj.get('DayOfMonthDue')
    # QBO spells the type 'DATE_DRIVEN' (Intuit's reference) or 'DateDriven' (the schema).
    spelled = (obj.get('Type') or '').replace('_', '').casefold()
    date_driven = spelled == 'datedriven' or bool(day_of_month and obj.get('DueDays') is None)
    if date_driven:
        day = min(max(int(day_of_month or 1), 1), 31)
        line = {'value': 'percent', 'value_amount': 100.0, 'delay_type': 'days_end_of_month_on_the',
                'nb_days': 0, 'days_next_month': str(day)}
    else:
        line = {'value': 'percent', 'value_amount': 100.0, 'delay_type': 'days_after',
                'nb_days': max(int(obj.get('DueDays') or 0), 0)}
    discount = float(obj.get('DiscountPercent') or 0.0)
    discount_days = int(obj.get('DiscountDays') or 0)
    early = bool(not date_driven and discount > 0 and discount_days > 0)
    values.update({
        'term_type': 'date_driven' if date_driven else 'standard',
        'due_days': None if date_driven else line['nb_days'],
        'day_of_month_due': int(day_of_month) if date_driven and day_of_month else None,
        'due_next_month_days': int(obj.get('DueNextMonthDays') or 0) if date_driven else None,
        'discount_percent': discount,
        'discount_days': discount_days,
        'discount_day_of_month': int(obj.get('DiscountDayOfMonth') or 0) or None,
        'line': line,
        'early_discount': early,
    })
    return values


# === CLASSES AND LOCATIONS === #

def map_class(obj):
    """Return the values of a QBO Class (or Department) and of its analytic account."""
    values = common_values(obj)
    is_sub = obj.get('SubClass') or obj.get('SubDepartment') or obj.get('ParentRef')
    values.update({
        'full_name': full_name(obj) or values['name'],
        'parent_qbo_id': ref_id(obj.get('ParentRef')) if is_sub else None,
    })
    return values


map_location = map_class


# === PAYMENT METHODS === #

def payment_method_journal_type(method_type, name):
    """Return the journal type ('bank' or 'cash') for a QBO payment method."""
    if method_type != 'CREDIT_CARD' and any(
            word in (name or '').casefold() for word in const.CASH_PAYMENT_METHOD_WORDS):
        return 'cash'
    return const.PAYMENT_METHOD_JOURNAL_TYPES.get(method_type, 'bank')


def map_payment_method(obj):
    """Return the values of a QBO PaymentMethod and the kind of journal its payments use."""
    values = common_values(obj)
    values.update({
        'method_type': obj.get('Type') or 'NON_CREDIT_CARD',
        'journal_type': payment_method_journal_type(obj.get('Type'), values['name']),
    })
    return values


# === TAX === #

def map_tax_rate(obj):
    """Return the values of a QBO TaxRate: a percent tax in Odoo."""
    values = common_values(obj)
    values.update({
        'rate': float(obj.get('RateValue') or 0.0),
        'agency_qbo_id': ref_id(obj.get('AgencyRef')),
        'description': obj.get('Description') or False,
    })
    return values


def _rate_ids(rate_list):
    details = (rate_list or {}).get('TaxRateDetail') or []
    ordered = sorted(details, key=lambda d: int(d.get('TaxOrder') or 0))
    ids = []
    for detail in ordered:
        rid = ref_id(detail.get('TaxRateRef'))
        if rid and rid not in ids:
            ids.append(rid)
    return ids


def map_tax_code(obj):
    """Return the values of a QBO TaxCode: the rates it charges on sales and on purchases.

    A code with one rate is that rate's tax; a code with several becomes an Odoo group tax
    whose children are the rates' taxes. A code with no rate and not taxable (QBO's NON)
    needs no tax in Odoo.
    """
    values = common_values(obj)
    values.update({
        'taxable': bool(obj.get('Taxable')),
        'tax_group': bool(obj.get('TaxGroup')),
        'sale_rate_ids': _rate_ids(obj.get('SalesTaxRateList')),
        'purchase_rate_ids': _rate_ids(obj.get('PurchaseTaxRateList')),
    })
    return values


def tax_rate_uses(tax_codes):
    """Return {rate qbo_id: 'sale'|'purchase'} from mapped tax codes: the side each rate is used on.

    A rate used on both sides is a sales rate (US sales tax is charged, rarely paid that way).
    """
    uses = {}
    for code in tax_codes:
        for rid in code['purchase_rate_ids']:
            uses.setdefault(rid, 'purchase')
        for rid in code['sale_rate_ids']:
            uses[rid] = 'sale'
    return uses
