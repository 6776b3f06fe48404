"""QBO chart of accounts <-> account.account."""

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..qbo import const, mappers, matcher
from . import qbo_mapped_mixin
from .qbo_sync_run import plain_words


def _kind(account_type, currency, company):
    """Return what an account is for matching: its type and its currency (none: the company's)."""
    return (account_type, currency.name if currency and currency != company.currency_id else None)


class QBOAccount(models.Model):
    _name = 'qbo.account'
    _inherit = 'qbo.mapped.mixin'
    _description = 'QuickBooks account'

    _qbo_entity = 'Account'
    _qbo_label = 'Chart of Accounts'
    _qbo_odoo_field = 'account_id'
    _qbo_sync_sequence = 10

    account_id = fields.Many2one('account.account', string='Odoo Account', index=True, ondelete='set null',
                                 check_company=True)
    parent_id = fields.Many2one('qbo.account', string='Parent Account', readonly=True, ondelete='set null')
    acct_num = fields.Char(string='QuickBooks Number', readonly=True)
    qbo_account_type = fields.Char(string='QuickBooks Type', readonly=True)
    qbo_account_subtype = fields.Char(string='QuickBooks Detail Type', readonly=True)
    account_type = fields.Selection(selection=lambda self: self.env['account.account']._fields[
        'account_type']._description_selection(self.env), string='Odoo Type', readonly=True)
    currency_id = fields.Many2one('res.currency', readonly=True,
                                  help="The account's currency in QuickBooks; its balance is in it.")
    balance = fields.Monetary(string='Balance in QuickBooks', readonly=True, currency_field='currency_id')
    journal_id = fields.Many2one('account.journal', string='Odoo Journal', readonly=True, ondelete='set null',
                                 groups='account.group_account_readonly,account.group_account_invoice',
                                 help='The bank, cash or credit card journal of this account in Odoo.')

    _sql_constraints = [
        ('account_unique', 'unique(connection_id, realm_id, account_id)',
         'This Odoo account is already linked to another QuickBooks account.'),
    ]

    @api.model
    def _qbo_map(self, obj, state):
        values = mappers.map_account(obj)
        if values['currency_code'] and not self._qbo_currency(values['currency_code'], state):
            raise mappers.BadRecord(obj, self.env._('in the currency %s, which Odoo does not know',
                                                    values['currency_code']))
        return values

    @api.model
    def _qbo_mapping_values(self, values, state):
        vals = super()._qbo_mapping_values(values, state)
        vals.update({
            'acct_num': values['acct_num'] or False,
            'qbo_account_type': values['qbo_account_type'],
            'qbo_account_subtype': values['qbo_account_subtype'],
            'account_type': values['account_type'],
            'balance': values['balance'],
            'currency_id': (self._qbo_currency(values['currency_code'], state)
                            or state['company'].currency_id).id,
        })
        return vals

    @api.model
    def _qbo_currency(self, code, state):
        """Return the Odoo currency of an ISO code (active or not), empty for none or unknown."""
        cache = state['cache'].setdefault('currencies', {})
        if code not in cache:
            cache[code] = self.env['res.currency'].with_context(active_test=False).search(
                [('name', '=', code)], limit=1) if code else self.env['res.currency']
        return cache[code]

    @api.model
    def _qbo_foreign_currency(self, code, state):
        """Return the currency an Odoo account needs for this code (activated for use), or empty."""
        currency = self._qbo_currency(code, state)
        if not currency or currency == state['company'].currency_id:
            return self.env['res.currency']
        if not currency.active:
            currency.active = True   # an account in it is about to exist
        return currency

    @api.model
    def _qbo_followed_values(self, values, state):
        followed = {'name': values['full_name'], 'account_type': values['account_type'],
                    'currency': values['currency_code']}
        if values['code_from_number']:
            followed['code'] = values['code']
        return followed

    @api.model
    def _qbo_remote(self, values, state):
        currency = self._qbo_currency(values['currency_code'], state)
        return {'ref': values['qbo_id'], 'key': values['code'] if values['code_from_number'] else None,
                'names': matcher.name_keys(values['full_name']),
                'kind': _kind(values['account_type'], currency, state['company'])}

    @api.model
    def _qbo_odoo_candidates(self, state):
        company = state['company']
        # A branch shares its parent's chart: it matches that chart and never adds to it twice.
        accounts = self.env['account.account'].with_company(company).search_fetch(
            self.env['account.account']._check_company_domain(company),
            ['code', 'name', 'account_type', 'currency_id'])
        # Every code of the company, linked or not: a new account never takes one of them.
        state['taken_codes'] = set(accounts.mapped('code'))
        # The receivable and payable Odoo uses by default (a branch's may be its parent's).
        defaults = set()
        for owner in company | company.root_id:
            partner = owner.partner_id.with_company(owner)
            defaults |= {partner.property_account_receivable_id.id, partner.property_account_payable_id.id}
        return [{'ref': acc.id, 'key': acc.code, 'names': matcher.name_keys(acc.name),
                 'kind': _kind(acc.account_type, acc.currency_id, company),
                 'label': '%s %s' % (acc.code, acc.name),
                 'preferred': acc.id in defaults}
                for acc in accounts if acc.id not in state['claimed']]

    def _qbo_compatible(self, remote_kind, local_kind):
        (remote_type, remote_currency), (local_type, local_currency) = remote_kind, local_kind
        return remote_currency == local_currency and matcher.account_types_compatible(remote_type, local_type)

    def _qbo_kind_is_enough(self, kind):
        return kind[0] in const.ACCOUNT_TYPES_SINGLETON

    @api.model
    def _qbo_odoo_create_values(self, values, state):
        self._qbo_candidates(state)
        code = mappers.unique_code(values['code'], state['taken_codes'])
        state['taken_codes'].add(code)
        company = state['company']
        vals = {
            'name': values['full_name'],
            'code': code,
            'account_type': values['account_type'],
            # Odoo 18 keeps the chart on the root company; its branches use it.
            'company_ids': [(6, 0, company.root_id.ids)],
            'deprecated': not values['active'],
        }
        currency = self._qbo_foreign_currency(values['currency_code'], state)
        if currency:
            vals['currency_id'] = currency.id
        if values['reconcile']:
            vals['reconcile'] = True
        return vals

    @api.model
    def _qbo_odoo_update_values(self, mapping, changed, values, state):
        vals = {}
        if 'name' in changed:
            vals['name'] = changed['name']
        if 'account_type' in changed:
            vals['account_type'] = changed['account_type']
        if 'code' in changed:
            self._qbo_candidates(state)
            taken = state['taken_codes'] - {mapping.account_id.code}
            vals['code'] = mappers.unique_code(changed['code'], taken)
            state['taken_codes'].add(vals['code'])
        if 'currency' in changed:
            vals['currency_id'] = self._qbo_foreign_currency(changed['currency'], state).id or False
        return vals

    @api.model
    def _qbo_hold_changes(self, record, odoo_vals, values, state):
        """A new type or currency on an account with journal entries waits for the accountant."""
        held = {}
        if not {'account_type', 'currency_id'} & set(odoo_vals):
            return held
        used = bool(self.env['account.move.line'].sudo().search_count(
            [('account_id', '=', record.id)], limit=1))
        if not used:
            return held
        if 'account_type' in odoo_vals:
            types = dict(record._fields['account_type']._description_selection(self.env))
            held['account_type'] = self.env._(
                'QuickBooks changed its type to %(new)s; the Odoo account has journal entries, so it stays '
                '%(old)s until an accountant changes it in Odoo (then click Link to confirm).',
                new=types.get(odoo_vals['account_type']), old=types.get(record.account_type))
        if 'currency_id' in odoo_vals:
            held['currency_id'] = self.env._(
                'QuickBooks changed its currency; the Odoo account has journal entries in its present '
                'currency, so it was kept.')
        return held

    @api.model
    def _qbo_odoo_set_active(self, records, active):
        # Odoo accounts have no archive: a retired account is deprecated.
        records.filtered(lambda a: a.deprecated == active).write({'deprecated': not active})

    @api.model
    def _qbo_after_page(self, values_list, state):
        """Give each QBO bank and credit card account its Odoo journal: the one on it, or a new one."""
        wanted = {v['qbo_id']: v['journal_type'] for v in values_list
                  if v['journal_type'] and v['active'] and not v['deleted']}
        if not wanted:
            return
        mappings = self.search(self._qbo_domain(state['connection'])
                               + [('qbo_id', 'in', list(wanted)), ('account_id', '!=', False),
                                  ('journal_id', '=', False)])
        if not mappings:
            return
        company = state['company']
        Journal = self.env['account.journal'].with_context(**qbo_mapped_mixin.SYNC_CONTEXT)
        existing = Journal.search(Journal._check_company_domain(company)
                                  + [('default_account_id', 'in', mappings.account_id.ids)])
        by_account = {(j.default_account_id.id, j.type): j for j in existing}
        for mapping in mappings:
            journal_type = wanted[mapping.qbo_id]
            journal = by_account.get((mapping.account_id.id, journal_type))
            if not journal:
                account = mapping.account_id
                try:
                    with self.env.cr.savepoint():
                        journal = Journal.create({
                            'name': mapping.full_name or mapping.name,
                            'type': journal_type,
                            'code': Journal.get_next_bank_cash_default_code(journal_type, company),
                            'default_account_id': account.id,
                            'company_id': company.id,
                            'currency_id': account.currency_id.id or False,
                        })
                except Exception as error:  # noqa: BLE001 - the account is in; its journal is reported
                    self._qbo_fail(state, mapping.qbo_id, mapping.full_name, UserError(self.env._(
                        'The account came in, but Odoo could not make its %(type)s journal: %(why)s',
                        type=journal_type, why=plain_words(self.env, error))))
                    continue
            mapping.with_context(**qbo_mapped_mixin.SYNC_CONTEXT).journal_id = journal
