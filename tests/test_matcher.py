"""Tier 1: QBO list records are matched to Odoo records before anything is created."""

from werx_quickbooks.qbo import matcher
from werx_quickbooks.qbo.matcher import CONFLICT, CREATE, MATCH, UNMATCHED


def rec(ref, name=None, key=None, kind=None):
    return {'ref': ref, 'key': key, 'names': matcher.name_keys(name), 'kind': kind}


def test_normalise_ignores_case_accents_punctuation_and_spaces():
    assert matcher.normalise('  Repairs & Maintenance ') == matcher.normalise('repairs and maintenance')
    assert matcher.normalise('Café-Bar') == 'cafe bar'
    assert matcher.normalise(None) == ''


def test_number_matches_code_before_names():
    result = matcher.match([rec('q1', 'Sales', key='4000', kind='income')],
                           [rec(1, 'Revenue', key='4000', kind='income'), rec(2, 'Sales', kind='income')],
                           compatible=matcher.account_types_compatible)
    assert result['q1'] == matcher.Decision(MATCH, 1, 'Same number')


def test_number_taken_by_another_type_is_a_conflict():
    result = matcher.match([rec('q1', 'Sales', key='4000', kind='income')],
                           [rec(1, 'Cash', key='4000', kind='asset_cash')],
                           compatible=matcher.account_types_compatible)
    assert result['q1'].action == CONFLICT


def test_name_within_a_compatible_type():
    locals_ = [rec(1, 'Rent', kind='expense'), rec(2, 'Rent', kind='asset_receivable')]
    result = matcher.match([rec('q1', 'rent', kind='expense_direct_cost')], locals_,
                           compatible=matcher.account_types_compatible)
    assert result['q1'].action == MATCH and result['q1'].local == 1


def test_receivable_never_matches_by_family():
    assert not matcher.account_types_compatible('asset_receivable', 'asset_current')
    assert matcher.account_types_compatible('income', 'income_other')


def test_ambiguous_name_is_left_unmatched():
    locals_ = [rec(1, 'Rent', kind='expense'), rec(2, 'RENT', kind='expense')]
    result = matcher.match([rec('q1', 'Rent', kind='expense')], locals_,
                           compatible=matcher.account_types_compatible)
    assert result['q1'].action == UNMATCHED and result['q1'].local is None


def test_nothing_alike_is_created():
    result = matcher.match([rec('q1', 'Fuel', kind='expense')], [rec(1, 'Rent', kind='expense')])
    assert result['q1'].action == CREATE


def test_one_odoo_record_is_never_claimed_twice():
    result = matcher.match([rec('q1', 'Rent', kind='expense'), rec('q2', 'rent.', kind='expense')],
                           [rec(1, 'Rent', kind='expense')])
    assert result['q1'].action == UNMATCHED and result['q2'].action == UNMATCHED


def test_kind_alone_identifies_a_singleton():
    result = matcher.match([rec('q1', 'Retained Earnings', kind='equity_unaffected')],
                           [rec(9, 'Undistributed Profits/Losses', kind='equity_unaffected')],
                           compatible=matcher.account_types_compatible,
                           kind_is_enough=lambda kind: kind == 'equity_unaffected')
    assert result['q1'] == matcher.Decision(MATCH, 9, 'Same type')


def test_tax_by_rate_and_use_narrowed_by_name():
    locals_ = [rec(1, 'Sales 8%', kind='sale:8.0'), rec(2, 'City 8%', kind='sale:8.0'),
               rec(3, 'Purchase 8%', kind='purchase:8.0')]
    enough = lambda kind: True  # noqa: E731
    one = matcher.match([rec('r1', 'City 8%', kind='sale:8.0')], locals_, kind_is_enough=enough)
    assert one['r1'].local == 2
    unknown = matcher.match([rec('r1', 'County', kind='sale:8.0')], locals_, kind_is_enough=enough)
    assert unknown['r1'].action == UNMATCHED
    single = matcher.match([rec('r1', 'Anything', kind='purchase:8.0')], locals_, kind_is_enough=enough)
    assert single['r1'].local == 3


def test_the_default_record_wins_among_several_of_a_kind():
    locals_ = [rec(1, 'Account Receivable', kind='asset_receivable'),
               {**rec(2, 'Account Receivable', kind='asset_receivable'), 'preferred': True}]
    result = matcher.match([rec('q1', 'Accounts Receivable (A/R)', kind='asset_receivable')], locals_,
                           kind_is_enough=lambda kind: True)
    assert result['q1'] == matcher.Decision(MATCH, 2, 'Same type')


def test_a_contact_matches_by_e_mail_address_and_says_so():
    from werx_quickbooks.qbo import matcher as m
    remote = {'ref': '5', 'key': 'ap@acme.example', 'names': ['acme'], 'kind': None}
    one = m.match([remote], [{'ref': 9, 'key': 'ap@acme.example', 'names': ['acme corp'], 'kind': None}],
                  key_is='email')
    assert (one['5'].action, one['5'].local, one['5'].text) == (m.MATCH, 9, 'Same e-mail address')
    two = m.match([remote], [{'ref': 9, 'key': 'ap@acme.example', 'names': [], 'kind': None},
                             {'ref': 10, 'key': 'ap@acme.example', 'names': [], 'kind': None}],
                  key_is='email')
    assert two['5'].action == m.UNMATCHED
    assert two['5'].text == 'Several Odoo contacts have the e-mail address ap@acme.example.'
