"""QBO chart of accounts <-> account.account."""

from odoo import api, fields, models

from ..qbo import const, mappers, matcher
from . import qbo_mapped_mixin  # noqa: F401 - the mixin's model is defined before the lists'


class QBOAccount(models.Model):
    _name = 'qbo.account'
    _inherit = 'qbo.mapped.mixin'
    _description = 'QuickBooks account'

    _qbo_entity = 'Account'
    _qbo_label = 'Chart of Accounts'
    _qbo_odoo_field = 'account_id'
    _qbo_sync_sequence = 10

    account_id = fields.Many2one('account.account', string='Odoo Account', index=True, ondelete='set null',
                                 domain="[('company_ids', 'in', company_id)]")
    parent_id = fields.Many2one('qbo.account', string='Parent Account', readonly=True, ondelete='set null')
    acct_num = fields.Char(string='QuickBooks Number', readonly=True)
    qbo_account_type = fields.Char(string='QuickBooks Type', readonly=True)
    qbo_account_subtype = fields.Char(string='QuickBooks Detail Type', readonly=True)
    account_type = fields.Selection(selection=lambda self: self.env['account.account']._fields[
        'account_type']._description_selection(self.env), string='Odoo Type', readonly=True)
    balance = fields.Float(string='Balance in QuickBooks', readonly=True, digits='Account')

    _sql_constraints = [
        ('account_unique', 'unique(connection_id, realm_id, account_id)',
         'This Odoo account is already linked to another QuickBooks account.'),
    ]

    @api.model
    def _qbo_map(self, obj, state):
        return mappers.map_account(obj)

    @api.model
    def _qbo_mapping_values(self, values, state):
        vals = super()._qbo_mapping_values(values, state)
        vals.update({
            'acct_num': values['acct_num'] or False,
            'qbo_account_type': values['qbo_account_type'],
            'qbo_account_subtype': values['qbo_account_subtype'],
            'account_type': values['account_type'],
            'balance': values['balance'],
        })
        return vals

    @api.model
    def _qbo_remote(self, values, state):
        return {'ref': values['qbo_id'], 'key': values['code'] if values['code_from_number'] else None,
                'names': matcher.name_keys(values['full_name']), 'kind': values['account_type']}

    @api.model
    def _qbo_odoo_candidates(self, state):
        company = state['company']
        accounts = self.env['account.account'].with_company(company).search_fetch(
            [('company_ids', 'in', company.ids)], ['code', 'name', 'account_type'])
        # Every code of the company, linked or not: a new account never takes one of them.
        state['taken_codes'] = set(accounts.mapped('code'))
        partner = company.partner_id.with_company(company)
        defaults = {partner.property_account_receivable_id.id, partner.property_account_payable_id.id}
        return [{'ref': acc.id, 'key': acc.code, 'names': matcher.name_keys(acc.name),
                 'kind': acc.account_type, 'label': '%s %s' % (acc.code, acc.name),
                 'preferred': acc.id in defaults}
                for acc in accounts if acc.id not in state['claimed']]

    def _qbo_compatible(self, remote_kind, local_kind):
        return matcher.account_types_compatible(remote_kind, local_kind)

    def _qbo_kind_is_enough(self, kind):
        return kind in const.ACCOUNT_TYPES_SINGLETON

    @api.model
    def _qbo_odoo_create_values(self, values, state):
        self._qbo_candidates(state)
        code = mappers.unique_code(values['code'], state['taken_codes'])
        state['taken_codes'].add(code)
        vals = {
            'name': values['full_name'],
            'code': code,
            'account_type': values['account_type'],
            'company_ids': [(6, 0, state['company'].ids)],
            'deprecated': not values['active'],
        }
        if values['reconcile']:
            vals['reconcile'] = True
        return vals

    @api.model
    def _qbo_odoo_update_values(self, mapping, values, state):
        vals = {'name': values['full_name'], 'account_type': values['account_type']}
        if values['code_from_number'] and values['acct_num'] != mapping.acct_num:
            self._qbo_candidates(state)
            taken = state['taken_codes'] - {mapping.account_id.code}
            vals['code'] = mappers.unique_code(values['code'], taken)
        return vals

    @api.model
    def _qbo_odoo_set_active(self, records, active):
        # Odoo accounts have no archive: a retired account is deprecated.
        records.filtered(lambda a: a.deprecated == active).write({'deprecated': not active})
