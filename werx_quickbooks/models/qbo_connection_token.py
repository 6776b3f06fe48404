# Part of werx_quickbooks. License LGPL-3.
from odoo import fields, models

from ..qbo import auth as qbo_auth

TOKEN_FIELDS = ('access_token', 'refresh_token', 'expires_at', 'refresh_expires_at',
                'refresh_hard_expires_at')


class QBOConnectionToken(models.Model):
    """The OAuth tokens of a connection, in their own row.

    Refreshing rotates the refresh token and must be committed at once, from a
    separate cursor, under a row lock. Keeping the tokens off the connection row
    means that commit never collides with the sync's own writes on the connection
    (no self-deadlock on the row lock, no serialization failure under REPEATABLE READ).
    Only the superuser and Settings administrators may read this model.
    """

    _name = 'qbo.connection.token'
    _description = 'QuickBooks sign-in tokens'

    connection_id = fields.Many2one('qbo.connection', required=True, ondelete='cascade', index=True)
    # 'active' is what the connection uses; 'pending' waits for the user to confirm a
    # switch to another QuickBooks company.
    kind = fields.Selection([('active', 'In use'), ('pending', 'Waiting for confirmation')],
                            required=True, default='active')
    access_token = fields.Char(copy=False, groups='base.group_system')
    refresh_token = fields.Char(copy=False, groups='base.group_system')
    expires_at = fields.Datetime('Access Token Expires', copy=False)
    refresh_expires_at = fields.Datetime('Refresh Token Expires', copy=False)
    refresh_hard_expires_at = fields.Datetime('Refresh Token Hard Limit', copy=False)

    _sql_constraints = [
        ('connection_kind_unique', 'unique(connection_id, kind)',
         'A QuickBooks connection keeps one set of tokens of each kind.'),
    ]

    def _to_tokens(self):
        """Return the qbo Tokens of this row."""
        self.ensure_one()
        return qbo_auth.Tokens(
            access_token=self.access_token,
            refresh_token=self.refresh_token,
            expires_at=self.expires_at,
            refresh_expires_at=self.refresh_expires_at,
            refresh_hard_expires_at=self.refresh_hard_expires_at,
        )

    @staticmethod
    def _values_from(tokens):
        """Return the field values of a qbo Tokens."""
        return {
            'access_token': tokens.access_token,
            'refresh_token': tokens.refresh_token,
            'expires_at': tokens.expires_at,
            'refresh_expires_at': tokens.refresh_expires_at,
            'refresh_hard_expires_at': tokens.refresh_hard_expires_at,
        }
