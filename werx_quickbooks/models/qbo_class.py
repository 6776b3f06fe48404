"""QBO classes <-> analytic accounts in the plan "QuickBooks Classes"."""

from odoo import api, fields, models

from ..qbo import const, mappers, matcher
from . import qbo_mapped_mixin  # noqa: F401 - the mixin's model is defined before the lists'


class QBOAnalyticMixin(models.AbstractModel):
    """Classes and locations sync the same way: analytic accounts in one plan each."""

    _name = 'qbo.analytic.mixin'
    _inherit = 'qbo.mapped.mixin'
    _description = 'QuickBooks list kept as analytic accounts'

    _qbo_odoo_field = 'analytic_account_id'
    _qbo_odoo_rights_group = 'analytic.group_analytic_accounting'
    _qbo_plan_name = None
    _qbo_plan_xmlid = None     # the plan's reference: found by it, not by its (translatable) name

    analytic_account_id = fields.Many2one('account.analytic.account', string='Odoo Analytic Account',
                                          index=True, ondelete='set null', check_company=True)
    children_plan_id = fields.Many2one(
        'account.analytic.plan', string='Plan of Its Sub-records', readonly=True, ondelete='set null',
        help='The sub-plan that holds the analytic accounts of its children, so Odoo reports roll them up.')

    _sql_constraints = [
        ('analytic_unique', 'unique(connection_id, realm_id, analytic_account_id)',
         'This analytic account is already linked to another record of this QuickBooks list.'),
    ]

    @api.model
    def _qbo_map(self, obj, state):
        return mappers.map_class(obj)

    @api.model
    def _qbo_plan(self):
        """Return the analytic plan of this list (made again, under the same reference, if it was deleted)."""
        plan = self.env.ref(self._qbo_plan_xmlid, raise_if_not_found=False)
        if plan:
            return plan
        Plan = self.env['account.analytic.plan'].sudo()
        # Made by an earlier version of the add-on, before plans had a reference: adopt it once.
        plan = Plan.search([('name', '=', self._qbo_plan_name), ('parent_id', '=', False)], limit=1) \
            if self.search_count([('analytic_account_id', '!=', False)], limit=1) else Plan
        plan = plan or Plan.create({'name': self._qbo_plan_name})
        module, name = self._qbo_plan_xmlid.split('.')
        self.env['ir.model.data'].sudo().create({'module': module, 'name': name, 'model': plan._name,
                                                 'res_id': plan.id, 'noupdate': True})
        return plan

    @api.model
    def _qbo_odoo_candidates(self, state):
        state['plan'] = self._qbo_plan()
        accounts = self.env['account.analytic.account'].with_context(active_test=False).search_fetch(
            [('root_plan_id', '=', state['plan'].id), ('company_id', 'in', [False, state['company'].id])],
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

    @api.model
    def _qbo_link_parents(self, values_list, state):
        """Link parents, then keep the hierarchy in Odoo as QBO reports it.

        A parent gets a sub-plan that holds its own analytic account and its children's, so
        the sub-plan's total is the parent's total in QBO's report by class or location.
        """
        res = super()._qbo_link_parents(values_list, state)
        children = self.with_context(active_test=False).search(
            self._qbo_domain(state['connection'])
            + [('qbo_id', 'in', [v['qbo_id'] for v in values_list if v.get('parent_qbo_id')]),
               ('match_state', '=', 'created'), ('analytic_account_id', '!=', False)])
        if not children:
            return res
        if 'plan' not in state:
            state['plan'] = self._qbo_plan()
        Plan = self.env['account.analytic.plan'].sudo()
        # Shallow parents first: a parent's sub-plan nests in its own parent's sub-plan.
        by_parent = children.grouped('parent_id')
        for parent in sorted(by_parent, key=lambda p: (p.full_name or '').count(':')):
            if not parent:
                continue
            plan = parent.children_plan_id
            if not plan:
                holder = parent.parent_id.children_plan_id or state['plan']
                plan = Plan.create({'name': parent.name, 'parent_id': holder.id})
                parent.with_context(qbo_sync=True).children_plan_id = plan
            accounts = by_parent[parent].analytic_account_id
            if parent.match_state == 'created':
                accounts |= parent.analytic_account_id
            accounts = accounts.filtered(lambda a, p=plan: a.plan_id != p)
            if accounts:
                accounts.with_context(tracking_disable=True).write({'plan_id': plan.id})
        return res

    @api.model
    def _qbo_after_page(self, values_list, state):
        """Switch analytic accounting on for the users once the list has analytic accounts to use."""
        res = super()._qbo_after_page(values_list, state)
        group = self.env.ref('analytic.group_analytic_accounting')
        employees = self.env.ref('base.group_user')
        if values_list and group not in employees.implied_ids:
            employees.sudo()._apply_group(group)
        return res


class QBOClass(models.Model):
    _name = 'qbo.class'
    _inherit = 'qbo.analytic.mixin'
    _description = 'QuickBooks class'

    _qbo_entity = 'Class'
    _qbo_label = 'Classes'
    _qbo_sync_sequence = 30
    _qbo_plan_name = const.ANALYTIC_PLAN_CLASSES
    _qbo_plan_xmlid = 'werx_quickbooks.analytic_plan_classes'

    parent_id = fields.Many2one('qbo.class', string='Parent Class', readonly=True, ondelete='set null')
