"""QBO list objects -> plain dicts of the values Odoo needs. Pure functions, no Odoo.

Each ``map_<list>(obj)`` takes the QBO JSON object as the API returns it and gives back a
flat dict: the mapping's own values (``qbo_id``, ``sync_token``, ``qbo_updated_at``,
``active``, ``name`` …) and the values of the Odoo record it stands for, keyed by what
they mean. The models decide which Odoo fields they become.
"""

import math
import re
from datetime import datetime, timezone

from . import const
from .errors import BadReply, Words, words

_CODE_BAD_CHARS = re.compile(r'[^A-Za-z0-9.]+')

# Longest texts taken from QBO (its own limits are 100 characters a name, five levels deep):
# anything longer is not a QuickBooks record but a damaged or hostile reply.
NAME_MAX = 500
FULL_NAME_MAX = 2600
ID_MAX = 64
CODE_MAX = 64           # account.account.code is a Char(64)
TERM_DAYS_MAX = 9999
# A date-driven term is exact in Odoo while its due day less its "within" days is at most this.
DATE_DRIVEN_SPAN_MAX = 29


class BadRecord(BadReply):
    """One QBO record is damaged (missing Id, a name that is not text, a rate that is not a number …).

    Its message names the record and what is wrong, in plain words; the record fails alone.
    """

    def __init__(self, obj, problem):
        if not isinstance(obj, dict):
            message = Words('QuickBooks sent something that is not a record in the list; it was skipped '
                            '(if it recurs, tell your QuickBooks support).')
        else:
            message = words('QuickBooks sent %(record)s %(problem)s; correct it in QuickBooks and sync '
                            'again.', record=described(obj),
                            problem=problem if isinstance(problem, Words) else Words(problem))
        super().__init__(message=message)


def describe(obj):
    """Return how to name a QBO record in a message: '"Fuel" (QuickBooks ID 12)', safely."""
    return str(described(obj))


def described(obj):
    """Return Words naming a QBO record: '"Fuel" (QuickBooks ID 12)', safely."""
    if not isinstance(obj, dict):
        return Words('a record that is not an object')
    obj_id = obj.get('Id')
    name = obj.get('Name')
    if not isinstance(name, str) or not name.strip():
        name = obj.get('FullyQualifiedName')
    label = None
    if isinstance(name, str) and name.strip():
        label = ' '.join(name.replace('\x00', '').split())[:80]
    if isinstance(obj_id, (str, int)) and not isinstance(obj_id, bool) and str(obj_id).strip():
        ident = str(obj_id).strip()[:ID_MAX]
        if label:
            return words('"%(name)s" (QuickBooks ID %(id)s)', name=label, id=ident)
        return words('the record with QuickBooks ID %s', ident)
    return words('"%s" (no QuickBooks ID)', label) if label else Words('a record')


def record_name(obj):
    """Return the record's name for a failure line (text only, never the raw value), or None."""
    if not isinstance(obj, dict):
        return None
    for key in ('Name', 'FullyQualifiedName'):
        value = obj.get(key)
        if isinstance(value, str) and value.strip():
            return ' '.join(value.replace('\x00', '').split())[:200]
    return None


def _text(obj, key, what, limit=NAME_MAX):
    """Return obj[key] stripped ('' when absent); not text, or longer than ``limit``: BadRecord."""
    value = obj.get(key)
    if value is None:
        return ''
    if not isinstance(value, str):
        raise BadRecord(obj, words('whose %s is not text', Words(what)))
    value = value.replace('\x00', '').strip()   # PostgreSQL stores no NUL character
    if len(value) > limit:
        raise BadRecord(obj, words('whose %(field)s has %(length)d characters (at most %(limit)d)',
                                   field=Words(what), length=len(value), limit=limit))
    return value


def _number(obj, key, what, low, high, *, default=0.0):
    """Return obj[key] as a float within [low, high] (``default`` when absent), else BadRecord."""
    value = obj.get(key)
    if value is None or value == '':
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise BadRecord(obj, words('whose %s is not a number', Words(what)))
    try:
        number = float(value)
    except ValueError:
        raise BadRecord(obj, words('whose %(field)s is "%(value)s", not a number',
                                   field=Words(what), value=str(value)[:40])) from None
    if not math.isfinite(number) or not low <= number <= high:
        raise BadRecord(obj, words('whose %(field)s is %(value)s (it must be from %(low)s to %(high)s)',
                                   field=Words(what), value=str(value)[:40], low=_plain(low),
                                   high=_plain(high)))
    return number


def _integer(obj, key, what, low, high, *, default=0):
    """Return obj[key] as a whole number within [low, high] (``default`` when absent), else BadRecord."""
    number = _number(obj, key, what, low, high, default=None)
    if number is None:
        return default
    if number != int(number):
        raise BadRecord(obj, words('whose %(field)s is %(value)s, not a whole number',
                                   field=Words(what), value=_plain(number)))
    return int(number)


def _plain(number):
    return ('%d' % number) if float(number).is_integer() else ('%s' % number)


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
    """Return the Id inside a QBO reference ({'value': '3', 'name': ...}) as text, or None."""
    if isinstance(ref, dict):
        value = ref.get('value')
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return str(value).strip()[:ID_MAX] or None
    return None


def _checked_ref(obj, key, what):
    """Return the Id of obj[key] (a reference), None when absent; a damaged reference: BadRecord."""
    ref = obj.get(key)
    if ref in (None, '', {}):
        return None
    value = ref.get('value') if isinstance(ref, dict) else None
    if value in (None, ''):
        return None if isinstance(ref, dict) else _bad_ref(obj, what)
    if isinstance(value, bool) or not isinstance(value, (str, int)) or len(str(value)) > ID_MAX:
        _bad_ref(obj, what)
    return str(value).strip() or None


def _bad_ref(obj, what):
    raise BadRecord(obj, words('whose %s is not given by a QuickBooks ID', Words(what)))


def _qbo_id(obj):
    obj_id = obj.get('Id')
    if isinstance(obj_id, bool) or not isinstance(obj_id, (str, int)) or not str(obj_id).strip():
        raise BadRecord(obj, 'without an Id')
    obj_id = str(obj_id).strip()
    if len(obj_id) > ID_MAX:
        raise BadRecord(obj, words('whose Id has %d characters', len(obj_id)))
    return obj_id


def common_values(obj):
    """Return what every mapped list record keeps: id, sync token, update time, active, name.

    A damaged record (no Id, a name that is not text or is too long …) raises BadRecord, whose
    message names it. Missing or unreadable MetaData only leaves the update time empty.
    """
    if not isinstance(obj, dict):
        raise BadRecord(obj, 'instead of a list record')
    qbo_id = _qbo_id(obj)
    deleted = obj.get('status') == 'Deleted'
    name = _text(obj, 'Name', 'name')
    if not name and not deleted:
        raise BadRecord(obj, 'without a name')
    meta = obj.get('MetaData')
    updated = meta.get('LastUpdatedTime') if isinstance(meta, dict) else None
    token = obj.get('SyncToken')
    if isinstance(token, bool) or not isinstance(token, (str, int)) or len(str(token)) > ID_MAX:
        token = None  # an unreadable version: compared as changed, so the record is re-read
    return {
        'qbo_id': qbo_id,
        'sync_token': None if token is None else str(token),
        'qbo_updated_at': parse_qbo_time(updated) if isinstance(updated, str) else None,
        'active': obj.get('Active', True) is not False,
        'name': name or 'QuickBooks %s' % qbo_id,
        'deleted': deleted,
    }


def full_name(obj):
    """Return the record's FullyQualifiedName ('Parent:Child'), falling back to its Name."""
    full = obj.get('FullyQualifiedName')
    if full is not None and not isinstance(full, str):
        raise BadRecord(obj, 'whose full name is not text')
    full = (full or '').strip()
    if len(full) > FULL_NAME_MAX:
        raise BadRecord(obj, words('whose full name has %(length)d characters (at most %(limit)d)',
                                   length=len(full), limit=FULL_NAME_MAX))
    name = obj.get('Name')
    return full or (name.strip() if isinstance(name, str) else '')


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
    """Return ``code`` if not in ``taken``, else the first free ``code.2``, ``code.3`` …

    The result never exceeds Odoo's 64 characters: a long code is shortened before its suffix.
    """
    if code not in taken:
        return code
    n = 2
    while True:
        suffix = '.%d' % n
        candidate = code[:CODE_MAX - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        n += 1


def map_account(obj):
    """Return the values of a QBO Account for its mapping and its Odoo account."""
    values = common_values(obj)
    account_type = _text(obj, 'AccountType', 'account type') or None
    sub_type = _text(obj, 'AccountSubType', 'detail type') or None
    classification = _text(obj, 'Classification', 'classification') or None
    if not values['deleted'] and account_type not in const.ACCOUNT_TYPES and (
            classification not in const.ACCOUNT_TYPE_FALLBACK):
        # An unknown type is placed by its classification; with neither, any Odoo type is a guess.
        raise BadRecord(obj, words('whose account type "%s" Odoo cannot place', account_type or ''))
    odoo_type = odoo_account_type(account_type, sub_type, classification)
    reconcile = None
    if odoo_type in ('asset_receivable', 'liability_payable') or (
            (account_type, sub_type) in const.ACCOUNT_SUBTYPES_RECONCILE):
        reconcile = True
    raw_number = obj.get('AcctNum')
    if isinstance(raw_number, int) and not isinstance(raw_number, bool):
        raw_number = str(raw_number)
    number = _text(dict(obj, AcctNum=raw_number), 'AcctNum', 'account number') or None
    code = account_code_from_number(number)
    if number and len(_CODE_BAD_CHARS.sub('.', number).strip('.')) > CODE_MAX:
        raise BadRecord(obj, words('whose account number has %(length)d characters '
                                   '(Odoo takes at most %(limit)d)',
                                   length=len(number), limit=CODE_MAX))
    values.update({
        'full_name': full_name(obj) or values['name'],
        'parent_qbo_id': _checked_ref(obj, 'ParentRef', 'parent')
        if obj.get('SubAccount') or obj.get('ParentRef') else None,
        'acct_num': number,
        'code': code or generated_account_code(values['qbo_id']),
        'code_from_number': bool(code),
        'qbo_account_type': account_type,
        'qbo_account_subtype': sub_type,
        'classification': classification,
        'account_type': odoo_type,
        'reconcile': reconcile,
        'balance': _number(obj, 'CurrentBalance', 'balance', -1e15, 1e15),
        'currency_code': (ref_id(obj.get('CurrencyRef')) or '').upper() or None,
        'journal_type': account_journal_type(account_type, sub_type),
    })
    return values


def account_journal_type(account_type, sub_type):
    """Return the Odoo journal type a QBO account needs ('bank', 'cash', 'credit'), or None.

    Every QBO Bank account is a bank journal in Odoo (its cash on hand a cash journal), every
    Credit Card account a credit card journal: that is where Odoo registers payments and
    statements of that account.
    """
    if account_type == 'Bank':
        return 'cash' if sub_type in const.CASH_ACCOUNT_SUBTYPES else 'bank'
    if account_type == 'Credit Card':
        return 'credit'
    return None


# === TERMS === #

def date_driven_line(day_of_month, next_month_days):
    """Return the Odoo payment term line that gives QBO's due date for a date-driven term.

    QBO: due on day N (the month's last day when it has fewer days) of the invoice's month,
    or of the next month when the invoice is dated within X days of that day or after it,
    that is when N - invoice day <= X. Odoo's "days end of month on the" is day N of the
    month after (invoice date + nb_days). With nb_days = X + 1 - N an invoice dated on or
    before day N - X - 1 falls back into the previous month (due this month) and any later
    day stays in its month (due next month); when X >= N - 1 every invoice is due next month
    (nb_days 0). Both sides cut day N to the month's length the same way, so every invoice
    date gets the same due date on both sides, provided N - X <= 29 (counting back more than
    February's 28 days would skip a month: such a term waits for review, see ``map_term``).
    """
    return {'value': 'percent', 'value_amount': 100.0, 'delay_type': 'days_end_of_month_on_the',
            'nb_days': min(0, (next_month_days or 0) + 1 - day_of_month),
            'days_next_month': str(day_of_month)}


def map_term(obj):
    """Return the values of a QBO Term and of the Odoo payment term it becomes.

    Standard terms (DueDays) become one 100 % line N days after the invoice date, with
    QBO's early-payment discount (DiscountPercent within DiscountDays) as Odoo's early
    discount. Date-driven terms (DayOfMonthDue, DueNextMonthDays) become the line of
    ``date_driven_line``, which gives the same due date as QBO for every invoice date.
    ``review`` says why a term cannot be matched or created as it is (an early discount
    that QBO counts to a day of the month, which Odoo cannot express), else None.
    """
    values = common_values(obj)
    day_of_month = _integer(obj, 'DayOfMonthDue', 'due day of month', 1, 31, default=None)
    due_days = _integer(obj, 'DueDays', 'number of days to pay', 0, TERM_DAYS_MAX, default=None)
    # QBO spells the type 'DATE_DRIVEN' (Intuit's reference) or 'DateDriven' (the schema).
    spelled = _text(obj, 'Type', 'term type').replace('_', '').casefold()
    date_driven = spelled == 'datedriven' or bool(day_of_month and due_days is None)
    discount = _number(obj, 'DiscountPercent', 'early payment discount', 0, 100)
    discount_days = _integer(obj, 'DiscountDays', 'number of discount days', 0, TERM_DAYS_MAX)
    discount_day_of_month = _integer(obj, 'DiscountDayOfMonth', 'discount day of month', 0, 31) or None
    review = None
    if date_driven:
        next_month_days = _integer(obj, 'DueNextMonthDays', 'number of days before the due day', 0, 31)
        line = date_driven_line(day_of_month or 1, next_month_days)
        early = False
        if (day_of_month or 1) - (next_month_days or 0) > DATE_DRIVEN_SPAN_MAX:
            # Odoo counts back from the invoice date into the month before; past February's length
            # it lands two months back, so early-March invoices would be due a month early.
            review = ('it is due on day %s unless issued within %s days of it, which Odoo cannot follow '
                      'for invoices dated early in March (February is shorter)'
                      % (day_of_month, next_month_days or 0))
        elif discount > 0:
            review = ('its early-payment discount (%s %% if paid by day %s of the month) has no Odoo '
                      'equivalent: Odoo counts discount days from the invoice date'
                      % (_plain(discount), discount_day_of_month or '?'))
    else:
        next_month_days = None
        line = {'value': 'percent', 'value_amount': 100.0, 'delay_type': 'days_after',
                'nb_days': due_days or 0}
        early = bool(discount > 0 and discount_days > 0)
    values.update({
        'term_type': 'date_driven' if date_driven else 'standard',
        'due_days': None if date_driven else line['nb_days'],
        'day_of_month_due': day_of_month if date_driven and day_of_month else None,
        'due_next_month_days': next_month_days,
        'discount_percent': discount,
        'discount_days': discount_days,
        'discount_day_of_month': discount_day_of_month,
        'line': line,
        'early_discount': early,
        'review': review,
    })
    return values


# === CLASSES AND LOCATIONS === #

def map_class(obj):
    """Return the values of a QBO Class (or Department) and of its analytic account."""
    values = common_values(obj)
    is_sub = obj.get('SubClass') or obj.get('SubDepartment') or obj.get('ParentRef')
    values.update({
        'full_name': full_name(obj) or values['name'],
        'parent_qbo_id': _checked_ref(obj, 'ParentRef', 'parent') if is_sub else None,
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
    method_type = _text(obj, 'Type', 'payment method type') or 'NON_CREDIT_CARD'
    if method_type not in const.PAYMENT_METHOD_JOURNAL_TYPES:
        raise BadRecord(obj, words('whose payment method type is "%(type)s" '
                                   '(QuickBooks knows only %(known)s)',
                                   type=method_type[:40],
                                   known=' and '.join(sorted(const.PAYMENT_METHOD_JOURNAL_TYPES))))
    values.update({
        'method_type': method_type,
        'journal_type': payment_method_journal_type(method_type, values['name']),
    })
    return values


# === TAX === #

def map_tax_rate(obj):
    """Return the values of a QBO TaxRate: a percent tax in Odoo."""
    values = common_values(obj)
    values.update({
        'rate': _number(obj, 'RateValue', 'rate (%)', 0, 100),
        'agency_qbo_id': ref_id(obj.get('AgencyRef')),
        'description': _text(obj, 'Description', 'description', FULL_NAME_MAX) or False,
    })
    return values


def _rate_ids(obj, key):
    rate_list = obj.get(key)
    details = (rate_list.get('TaxRateDetail') if isinstance(rate_list, dict) else rate_list) or []
    if not isinstance(details, list) or not all(isinstance(d, dict) for d in details):
        raise BadRecord(obj, 'whose list of tax rates cannot be read')
    # Checked as parts of the code: a message names the code, not the detail line.
    details = [dict(d, Id=obj.get('Id'), Name=obj.get('Name')) for d in details]
    ordered = sorted(details, key=lambda d: _integer(d, 'TaxOrder', 'tax order', -1e6, 1e6))
    ids = []
    for detail in ordered:
        rid = _checked_ref(detail, 'TaxRateRef', 'tax rate')
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
        'sale_rate_ids': _rate_ids(obj, 'SalesTaxRateList'),
        'purchase_rate_ids': _rate_ids(obj, 'PurchaseTaxRateList'),
    })
    return values


def tax_rate_uses(tax_codes):
    """Return {rate qbo_id: {'sale', 'purchase'}} from mapped tax codes: the sides each rate is used on.

    A rate that no code uses is a sales rate (QBO's rates are sales tax unless a code says
    otherwise). A rate used on both sides is both: a sales tax and a purchase tax in Odoo.
    """
    uses = {}
    for code in tax_codes:
        for rid in code['purchase_rate_ids']:
            uses.setdefault(rid, set()).add('purchase')
        for rid in code['sale_rate_ids']:
            uses.setdefault(rid, set()).add('sale')
    return uses


def map_tax_agency(obj):
    """Return the values of a QBO TaxAgency: the authority its rates' tax is owed to.

    ``sales_account_qbo_id`` / ``purchase_account_qbo_id`` come from the agency when it names
    its accounts (``TaxOnSalesAccountRef`` / ``TaxOnPurchasesAccountRef``, in Intuit's schema but
    not in its JSON examples); otherwise the account is QBO's "<agency> Payable".
    """
    if not isinstance(obj, dict):
        raise BadRecord(obj, 'instead of a tax agency')
    values = common_values(dict(obj, Name=obj.get('DisplayName')))
    values.update({
        'sales_account_qbo_id': _checked_ref(obj, 'TaxOnSalesAccountRef', 'sales tax account'),
        'purchase_account_qbo_id': _checked_ref(obj, 'TaxOnPurchasesAccountRef', 'purchase tax account'),
        'payable_name': agency_payable_name(values['name']),
    })
    return values


def agency_payable_name(agency_name):
    """Return the name QBO gives the liability account of a tax agency."""
    return ('%s Payable' % agency_name)[:100]


# === CURRENCY === #

def home_currency(preferences):
    """Return the ISO code of the QBO company's home currency from its Preferences, or None."""
    if not isinstance(preferences, dict):
        return None
    prefs = preferences.get('CurrencyPrefs')
    code = ref_id(prefs.get('HomeCurrency')) if isinstance(prefs, dict) else None
    return code.upper() if code and len(code) == 3 and code.isalpha() else None
