"""Products know their QuickBooks items, and a change made in Odoo is marked for sending."""

from odoo import fields, models

from .qbo_item import ITEM_TYPES, WATCHED_FIELDS


def _mark_changed(products):
    """Mark the QuickBooks items of ``products`` to be sent with the next sync (one write)."""
    if products:
        items = products.env['qbo.item'].sudo().search([('product_id', 'in', products.ids),
                                                        ('need_push', '=', False)])
        items.with_context(qbo_sync=True).write({'need_push': True})


class ProductTemplate(models.Model):
    _inherit = 'product.template'

    qbo_item_type = fields.Selection(
        ITEM_TYPES, string='QuickBooks Type', company_dependent=True,
        help='The type of the item sent to QuickBooks; empty: the Defaults tab decides.')
    qbo_income_account_id = fields.Many2one(
        'qbo.account', string='QuickBooks Income Account', company_dependent=True,
        domain="[('company_id', '=', current_company_id), "
               "('qbo_account_type', 'in', ('Income', 'Other Income'))]",
        help='Overrides the income account sent to QuickBooks for this product.')
    qbo_expense_account_id = fields.Many2one(
        'qbo.account', string='QuickBooks Expense Account', company_dependent=True,
        domain="[('company_id', '=', current_company_id), ('qbo_account_type', 'in', "
               "('Expense', 'Cost of Goods Sold', 'Other Expense'))]",
        help='Overrides the expense (or cost of goods sold) account sent to QuickBooks for this product.')

    def write(self, vals):
        res = super().write(vals)
        if not self.env.context.get('qbo_sync') and WATCHED_FIELDS.intersection(vals):
            _mark_changed(self.with_context(active_test=False).product_variant_ids)
        return res


class ProductProduct(models.Model):
    _inherit = 'product.product'

    qbo_item_ids = fields.One2many('qbo.item', 'product_id', string='QuickBooks Items',
                                   context={'active_test': False})

    def write(self, vals):
        res = super().write(vals)
        if not self.env.context.get('qbo_sync') and WATCHED_FIELDS.intersection(vals):
            _mark_changed(self)
        return res

    def action_qbo_send(self):
        """Send this product with the next sync, also when a change was not marked (a user's say-so)."""
        self.env['qbo.connection']._qbo_check_admin()
        _mark_changed(self)
        for connection in self.env['qbo.connection'].search([('state', '=', 'connected'),
                                                            ('item_direction', 'in', ('both', 'odoo2qbo'))]):
            connection.action_sync()
        return True
