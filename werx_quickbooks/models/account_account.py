"""The Odoo side of the lists: each record shows the QuickBooks record it is linked to."""

from odoo import fields, models


class AccountAccount(models.Model):
    _inherit = 'account.account'

    qbo_account_ids = fields.One2many('qbo.account', 'account_id', string='QuickBooks accounts')


class AccountPaymentTerm(models.Model):
    _inherit = 'account.payment.term'

    qbo_term_ids = fields.One2many('qbo.term', 'payment_term_id', string='QuickBooks terms')


class AccountTax(models.Model):
    _inherit = 'account.tax'

    qbo_tax_rate_ids = fields.One2many('qbo.tax.rate', 'tax_id', string='QuickBooks tax rates')
    qbo_tax_code_ids = fields.One2many('qbo.tax.code', 'tax_id', string='QuickBooks tax codes')


class AccountAnalyticAccount(models.Model):
    _inherit = 'account.analytic.account'

    qbo_class_ids = fields.One2many('qbo.class', 'analytic_account_id', string='QuickBooks classes')
    qbo_location_ids = fields.One2many('qbo.location', 'analytic_account_id', string='QuickBooks locations')
