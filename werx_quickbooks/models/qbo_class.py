"""QBO classes <-> analytic accounts in the plan "QuickBooks Classes"."""

from odoo import api, fields, models

from ..qbo import const, mappers, matcher
from . import qbo_mapped_mixin  # noqa: F401 - the mixin's model is defined before the lists'


class QBOAnalyticMixin(models.AbstractModel):
    """Classes and locations sync the same way: analytic accounts in one plan each."""

    _name = 'qbo.analytic.mixin'
    _inherit = 'qbo.mapped.mixin'
    _description = 'QuickBooks list kept as analytic accounts'

    _qbo_plan_name = None

    analytic_account_id = fields.Many2one('account.analytic.account', string='Odoo analytic account',
                                          index=True, ondelete='set null')

    @api.model
    def _qbo_map(self, obj, state):
        return mappers.map_class(obj)

    @api.model
    def _qbo_plan(self):
        """Return the analytic plan of this list, created the first time it is needed."""
        plan = self.env['account.analytic.plan'].search(
            [('name', '=', self._qbo_plan_name), ('parent_id', '=', False)], limit=1)
        return plan or self.env['account.analytic.plan'].create({'name': self._qbo_plan_name})

    @api.model
    def _qbo_odoo_candidates(self, state):
        state['plan'] = self._qbo_plan()
        accounts = self.env['account.analytic.account'].with_context(active_test=False).search_fetch(
            [('plan_id', '=', state['plan'].id), ('company_id', 'in', [False, state['company'].id])],
            ['name'])
        return [{'ref': acc.id, 'key': None, 'names': matcher.name_keys(acc.name), 'kind': None,
                 'label': acc.name} for acc in accounts]

    @api.model
    def _qbo_odoo_create_values(self, values, state):
        if 'plan' not in state:
            state['plan'] = self._qbo_plan()
        return {
            'name': values['full_name'],
            'plan_id': state['plan'].id,
            'company_id': state['company'].id,
            'active': values['active'],
        }


class QBOClass(models.Model):
    _name = 'qbo.class'
    _inherit = 'qbo.analytic.mixin'
    _description = 'QuickBooks class'

    _qbo_entity = 'Class'
    _qbo_label = 'Classes'
    _qbo_odoo_field = 'analytic_account_id'
    _qbo_sync_sequence = 30
    _qbo_plan_name = const.ANALYTIC_PLAN_CLASSES

    parent_id = fields.Many2one('qbo.class', string='Parent class', readonly=True, ondelete='set null')

    _sql_constraints = [
        ('analytic_unique', 'unique(connection_id, realm_id, analytic_account_id)',
         'This analytic account is already linked to another QuickBooks class.'),
    ]
