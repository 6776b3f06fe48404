# Part of werx_quickbooks. License LGPL-3.
from odoo import api, fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = 'res.config.settings'

    qbo_connection_status = fields.Char('QuickBooks', compute='_compute_qbo_connection_status')
    qbo_log_retention_days = fields.Integer(
        'Keep QuickBooks Sync Log (Days)', config_parameter='werx_quickbooks.log_retention_days', default=90,
        help='Sync runs and solved failures older than this are removed; open failures stay. 0 keeps all.')

    @api.depends('company_id')
    def _compute_qbo_connection_status(self):
        Connection = self.env['qbo.connection'].sudo()
        for settings in self:
            connection = Connection.search([('company_id', '=', settings.company_id.id)], limit=1)
            settings.qbo_connection_status = (
                connection._qbo_status_message() if connection
                else Connection.new({'company_id': settings.company_id.id})._qbo_status_message())

    def action_open_qbo_connection(self):
        """Open the current company's QuickBooks connection screen."""
        return self.env['qbo.connection'].action_open_company_connection()
