# Part of werx_quickbooks. License LGPL-3.
from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError


class QBOConnectWizard(models.TransientModel):
    """Environment and the Intuit app's keys; then off to Intuit's consent page."""

    _name = 'qbo.connect.wizard'
    _description = 'Connect to QuickBooks'

    connection_id = fields.Many2one('qbo.connection', required=True, ondelete='cascade')
    environment = fields.Selection(
        [('production', 'Production'), ('sandbox', 'Sandbox'), ('custom', 'Custom address (emulator)')],
        required=True, default='production')
    base_url = fields.Char('Custom Address')
    client_id = fields.Char('Client ID')
    # Never stored in the wizard's table: typed, it goes straight to the connection (Settings-only).
    client_secret = fields.Char(help='Leave empty to keep the saved secret.', store=False,
                                compute='_compute_client_secret', inverse='_inverse_client_secret')
    has_saved_secret = fields.Boolean(compute='_compute_connection_info')
    redirect_uri = fields.Char('Redirect URI', compute='_compute_connection_info')
    is_system = fields.Boolean(compute='_compute_connection_info')

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        connection = self.env['qbo.connection'].browse(values.get('connection_id'))
        if connection:
            # What the connection is set to, not the fields' own defaults (Production would send a
            # connection configured for the sandbox or a custom address to Intuit's production).
            for name in ('environment', 'base_url', 'client_id'):
                if name in fields_list and 'default_%s' % name not in self.env.context:
                    values[name] = connection[name]
        return values

    def _compute_client_secret(self):
        self.client_secret = False

    def _inverse_client_secret(self):
        for wizard in self:
            secret = (wizard.client_secret or '').strip()
            if not secret:
                continue
            connection = wizard.connection_id
            connection._qbo_check_admin()
            connection._qbo_check_keys_unlocked({'client_secret': secret})
            # Admin rights were checked above; the secret is a Settings-only field.
            connection.sudo().client_secret = secret

    @api.depends('connection_id')
    def _compute_connection_info(self):
        for wizard in self:
            connection = wizard.connection_id
            wizard.redirect_uri = connection._qbo_redirect_uri()
            wizard.has_saved_secret = bool(connection.sudo().client_secret)
            wizard.is_system = self.env.user._is_system()

    def action_connect(self):
        """Save the environment and keys on the connection and go to Intuit's consent page."""
        self.ensure_one()
        connection = self.connection_id
        connection._qbo_check_admin()
        if self.environment == 'custom' and not self.env.user._is_system():
            raise AccessError(self.env._(
                'Only an Odoo administrator (Settings) can connect to a custom address.'))
        client_id = (self.client_id or '').strip()
        if not client_id:
            raise UserError(self.env._("Enter the Client ID of your Intuit app."))
        if not connection.sudo().client_secret:
            raise UserError(self.env._("Enter the Client Secret of your Intuit app."))
        values = {
            'environment': self.environment,
            'base_url': (self.base_url or '').strip() if self.environment == 'custom' else False,
            'client_id': client_id,
        }
        connection._qbo_check_keys_unlocked(values)
        connection.sudo().write(values)
        return connection.action_connect()
