"""The Odoo side of the lists: each record shows the QuickBooks record it is linked to.

The links are for QuickBooks users only: an accountant without QuickBooks rights still reads
(and exports) every other field of these records.
"""

from odoo import fields, models

QBO_USER = 'werx_quickbooks.group_qbo_user'


class AccountAccount(models.Model):
    _inherit = 'account.account'

    qbo_account_ids = fields.One2many('qbo.account', 'account_id', string='QuickBooks accounts',
                                      groups=QBO_USER)


class AccountPaymentTerm(models.Model):
    _inherit = 'account.payment.term'

    qbo_term_ids = fields.One2many('qbo.term', 'payment_term_id', string='QuickBooks terms',
                                   groups=QBO_USER)


class AccountTax(models.Model):
    _inherit = 'account.tax'

    qbo_tax_rate_ids = fields.One2many('qbo.tax.rate', 'tax_id', string='QuickBooks tax rates',
                                       groups=QBO_USER)
    qbo_tax_code_ids = fields.One2many('qbo.tax.code', 'tax_id', string='QuickBooks tax codes',
                                       groups=QBO_USER)


class AccountAnalyticAccount(models.Model):
    _inherit = 'account.analytic.account'

    qbo_class_ids = fields.One2many('qbo.class', 'analytic_account_id', string='QuickBooks classes',
                                    groups=QBO_USER)
    qbo_location_ids = fields.One2many('qbo.location', 'analytic_account_id', string='QuickBooks locations',
                                       groups=QBO_USER)
