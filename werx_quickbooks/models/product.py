"""Products know their QuickBooks items, and a change made in Odoo is marked for sending."""

from odoo import fields, models

from .qbo_item import COMPANY_FIELDS, ITEM_TYPES, WATCHED_FIELDS


def _mark_changed(products, changed=None):
    """Mark the QuickBooks items of ``products`` to be sent with the next sync (one write).

    A value kept per company (a cost, an account) changed for the current company only: only
    that company's connection sends it. Archived items too: restoring a product restores its item.
    """
    if not products:
        return
    domain = [('product_id', 'in', products.ids)]
    if changed is not None and changed <= COMPANY_FIELDS:
        domain.append(('company_id', '=', products.env.company.id))
    items = products.env['qbo.item'].sudo().with_context(active_test=False).search(domain)
    items.with_context(qbo_sync=True).write({'need_push': True, 'odoo_changed_at': fields.Datetime.now()})


class ProductTemplate(models.Model):
    _inherit = 'product.template'

    qbo_item_type = fields.Selection(
        ITEM_TYPES, string='QuickBooks Type', company_dependent=True,
        groups='werx_quickbooks.group_qbo_admin',
        help='The type of the item sent to QuickBooks; empty: the Defaults tab decides.')
    qbo_income_account_id = fields.Many2one(
        'qbo.account', string='QuickBooks Income Account', company_dependent=True,
        groups='werx_quickbooks.group_qbo_admin',
        domain="[('company_id', '=', current_company_id), "
               "('qbo_account_type', 'in', ('Income', 'Other Income'))]",
        help='Overrides the income account sent to QuickBooks for this product.')
    qbo_expense_account_id = fields.Many2one(
        'qbo.account', string='QuickBooks Expense Account', company_dependent=True,
        groups='werx_quickbooks.group_qbo_admin',
        domain="[('company_id', '=', current_company_id), ('qbo_account_type', 'in', "
               "('Expense', 'Cost of Goods Sold', 'Other Expense'))]",
        help='Overrides the expense (or cost of goods sold) account sent to QuickBooks for this product.')

    def write(self, vals):
        res = super().write(vals)
        if not self.env.context.get('qbo_sync') and WATCHED_FIELDS.intersection(vals):
            _mark_changed(self.with_context(active_test=False).product_variant_ids, set(vals))
        return res


class ProductProduct(models.Model):
    _inherit = 'product.product'

    qbo_item_ids = fields.One2many('qbo.item', 'product_id', string='QuickBooks Items',
                                   context={'active_test': False}, groups='werx_quickbooks.group_qbo_user')

    def write(self, vals):
        res = super().write(vals)
        if not self.env.context.get('qbo_sync') and WATCHED_FIELDS.intersection(vals):
            _mark_changed(self, set(vals))
        return res

    def action_qbo_send(self):
        """Send this product with the next sync, also when a change was not marked (a user's say-so)."""
        self.env['qbo.connection']._qbo_check_admin()
        _mark_changed(self)
        for connection in self.env['qbo.connection'].search([('state', '=', 'connected'),
                                                            ('item_direction', 'in', ('both', 'odoo2qbo'))]):
            connection.action_sync()
        return True
