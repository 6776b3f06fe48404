"""The Odoo side of the lists: each record shows the QuickBooks record it is linked to."""

from odoo import fields, models


def _qbo_links(model, field, string):
    """Return the One2many from an Odoo record to its QuickBooks mappings.

    For QuickBooks users only: an accountant without QuickBooks rights still reads (and
    exports) every other field of the record.
    """
    return fields.One2many(model, field, string=string, groups='werx_quickbooks.group_qbo_user')


class AccountAccount(models.Model):
    _inherit = 'account.account'

    qbo_account_ids = _qbo_links('qbo.account', 'account_id', 'QuickBooks Accounts')


class AccountPaymentTerm(models.Model):
    _inherit = 'account.payment.term'

    qbo_term_ids = _qbo_links('qbo.term', 'payment_term_id', 'QuickBooks Terms')


class AccountTax(models.Model):
    _inherit = 'account.tax'

    qbo_tax_rate_ids = _qbo_links('qbo.tax.rate', 'tax_id', 'QuickBooks Tax Rates')
    qbo_tax_code_ids = _qbo_links('qbo.tax.code', 'tax_id', 'QuickBooks Tax Codes')


class AccountTaxGroup(models.Model):
    _inherit = 'account.tax.group'

    qbo_tax_agency_ids = _qbo_links('qbo.tax.agency', 'tax_group_id', 'QuickBooks Tax Agencies')


class AccountAnalyticAccount(models.Model):
    _inherit = 'account.analytic.account'

    qbo_class_ids = _qbo_links('qbo.class', 'analytic_account_id', 'QuickBooks Classes')
    qbo_location_ids = _qbo_links('qbo.location', 'analytic_account_id', 'QuickBooks Locations')
