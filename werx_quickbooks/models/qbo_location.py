"""QBO locations (Departments) <-> analytic accounts in the plan "QuickBooks Locations"."""

from odoo import fields, models

from ..qbo import const
from . import qbo_class  # noqa: F401 - defines qbo.analytic.mixin, which locations inherit


class QBOLocation(models.Model):
    _name = 'qbo.location'
    _inherit = 'qbo.analytic.mixin'
    _description = 'QuickBooks location'

    _qbo_entity = 'Department'
    _qbo_label = 'Locations'
    _qbo_sync_sequence = 40
    _qbo_plan_name = const.ANALYTIC_PLAN_LOCATIONS
    _qbo_plan_xmlid = 'werx_quickbooks.analytic_plan_locations'

    parent_id = fields.Many2one('qbo.location', string='Parent Location', readonly=True, ondelete='set null')
