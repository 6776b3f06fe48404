# Part of werx_quickbooks. License LGPL-3.
import datetime
import hashlib
import hmac
import secrets

from odoo import api, fields, models
from odoo.exceptions import UserError

# How long the user has to sign in at Intuit and come back.
STATE_TTL = datetime.timedelta(minutes=10)


def hash_state(raw_state):
    """Return the hex SHA-256 of an OAuth state; only the hash is stored."""
    return hashlib.sha256((raw_state or '').encode('utf-8')).hexdigest()


class QBOOAuthState(models.Model):
    """One OAuth ``state`` handed to Intuit: random, single-use, expiring, bound to a connection and user.

    The raw value exists only in the consent URL and the callback; the database
    keeps its hash, so a leaked backup cannot be used to finish someone's sign-in.
    """

    _name = 'qbo.oauth.state'
    _description = 'QuickBooks sign-in check (OAuth state)'
    _order = 'id desc'

    state_hash = fields.Char(required=True, index=True, copy=False)
    connection_id = fields.Many2one('qbo.connection', required=True, ondelete='cascade')
    user_id = fields.Many2one('res.users', required=True, ondelete='cascade')
    redirect_uri = fields.Char(required=True)
    expires_at = fields.Datetime(required=True)
    used = fields.Boolean(default=False)

    _sql_constraints = [
        ('state_hash_unique', 'unique(state_hash)', 'An OAuth state is used once.'),
    ]

    # === BUSINESS METHODS === #

    @api.model
    def _issue(self, connection, redirect_uri):
        """Return a new raw state for ``connection`` and the current user (its hash is stored)."""
        raw = secrets.token_urlsafe(32)
        self.sudo().create({
            'state_hash': hash_state(raw),
            'connection_id': connection.id,
            'user_id': self.env.uid,
            'redirect_uri': redirect_uri,
            'expires_at': fields.Datetime.now() + STATE_TTL,
        })
        return raw

    @api.model
    def _consume(self, raw_state):
        """Return the (sudo) state record for ``raw_state`` after marking it used.

        Raises UserError with a sentence for the user when the state is missing,
        unknown, already used, expired, or was issued to another user.
        """
        if not raw_state:
            raise UserError(self.env._("QuickBooks sent the sign-in back without its security check. "
                                       "Start again from the QuickBooks screen."))
        wanted = hash_state(raw_state)
        state = self.sudo().search([('state_hash', '=', wanted)], limit=1)
        # The lookup is by hash; compare again in constant time so the check does not
        # depend on how the database matched the value.
        if not state or not hmac.compare_digest(state.state_hash, wanted):
            raise UserError(self.env._("This QuickBooks sign-in link is not recognised. "
                                       "Start again from the QuickBooks screen."))
        if state.used:
            raise UserError(self.env._("This QuickBooks sign-in link was already used. "
                                       "Start again from the QuickBooks screen."))
        if state.user_id.id != self.env.uid:
            raise UserError(self.env._("This QuickBooks sign-in was started by another user. "
                                       "Start again from the QuickBooks screen while signed in as yourself."))
        state.used = True
        if state.expires_at < fields.Datetime.now():
            raise UserError(self.env._(
                "This QuickBooks sign-in took longer than %(minutes)s minutes and expired. "
                "Start again from the QuickBooks screen.",
                minutes=int(STATE_TTL.total_seconds() // 60)))
        return state

    @api.autovacuum
    def _gc_expired_states(self):
        """Delete states that expired more than a day ago."""
        limit = fields.Datetime.now() - datetime.timedelta(days=1)
        self.sudo().search([('expires_at', '<', limit)]).unlink()
