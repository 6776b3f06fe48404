# Part of werx_quickbooks. License LGPL-3.
import contextlib
import datetime
import hmac
import logging
import time

import psycopg2
import psycopg2.errors
from odoo import api, fields, http, models, sql_db
from odoo.exceptions import AccessError, UserError

from ..qbo import auth as qbo_auth
from ..qbo import mappers as qbo_mappers
from ..qbo.errors import NeedsReconnect, QBOError, TransientError
from .qbo_rate_limit import SharedRateLimiter
from .qbo_sync_run import plain_words

_logger = logging.getLogger(__name__)

CALLBACK_PATH = '/werx_quickbooks/oauth/callback'

# Key space of the session-level advisory lock that keeps one sync per connection:
# pg_try_advisory_lock(SYNC_LOCK_SPACE, connection id).
SYNC_LOCK_SPACE = 0x51B0

# How often and how long a refresh waits for another worker holding the token row.
REFRESH_LOCK_ATTEMPTS = 20
REFRESH_LOCK_WAIT = 0.25    # seconds


def wait_for_lock(attempt):
    """Sleep a little longer after each failed attempt to take the token row (at most 1 s)."""
    time.sleep(min(REFRESH_LOCK_WAIT * (attempt + 1), 1.0))


class QBOConnection(models.Model):
    """The link between one Odoo company and one QuickBooks Online company."""

    _name = 'qbo.connection'
    _description = 'QuickBooks Online Connection'
    _inherit = ['mail.thread']
    _order = 'company_id'
    _check_company_auto = True

    name = fields.Char(compute='_compute_name', store=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one('res.company', required=True, readonly=True, index=True,
                                 default=lambda self: self.env.company, ondelete='cascade')
    environment = fields.Selection(
        [('production', 'Production'), ('sandbox', 'Sandbox'), ('custom', 'Custom address (emulator)')],
        required=True, default='production', tracking=True,
        help="Production and Sandbox are Intuit's own servers. A custom address points at a "
             "QuickBooks-compatible server such as the emulator; only Settings administrators "
             "may choose it.")
    base_url = fields.Char(
        'Custom Address', tracking=True,
        help='Base address of a QuickBooks-compatible server, e.g. http://127.0.0.1:8765. '
             'Plain http is accepted only for this computer.')
    client_id = fields.Char('Client ID', copy=False, tracking=True,
                            help="The Client ID of your app on developer.intuit.com (Keys & credentials).")
    client_secret = fields.Char(copy=False, groups='base.group_system')
    realm_id = fields.Char('QuickBooks Company ID', copy=False, readonly=True, tracking=True,
                           help="Intuit's id of the QuickBooks company (realm id).")
    qbo_company_name = fields.Char('QuickBooks Company', copy=False, readonly=True)
    state = fields.Selection(
        [('draft', 'Not connected'), ('connected', 'Connected'),
         ('needs_reconnect', 'Needs reconnect'), ('disconnected', 'Disconnected')],
        required=True, default='draft', copy=False, readonly=True, tracking=True)
    connected_at = fields.Datetime('Connected Since', copy=False, readonly=True)
    disconnected_at = fields.Datetime('Disconnected On', copy=False, readonly=True)
    last_sync_at = fields.Datetime('Last Sync', copy=False, readonly=True)
    last_sync_result = fields.Char(copy=False, readonly=True)
    last_sync_run_id = fields.Many2one('qbo.sync.run', copy=False, readonly=True)
    webhook_verifier_token = fields.Char(
        copy=False, groups='base.group_system',
        help="The verifier token Intuit shows for your app's webhooks; it proves a webhook call "
             "comes from Intuit.")
    connect_message = fields.Char(
        'Sign-in Problem', copy=False, readonly=True,
        help='What went wrong at the last sign-in or token renewal, and what to do.')
    sync_requested_at = fields.Datetime(
        'Sync Requested', copy=False, readonly=True,
        help='Sync was pressed and the run waits for a background worker (it starts within seconds).')
    sync_requested_by_id = fields.Many2one('res.users', copy=False, readonly=True)
    is_sync_running = fields.Boolean('Sync Under Way', compute='_compute_is_sync_running')
    initial_import_state = fields.Selection(
        [('none', 'Not started'), ('pending', 'Waiting to start'), ('running', 'Running'),
         ('done', 'Done'), ('failed', 'Failed')],
        string='Initial Import', required=True, default='none', copy=False, readonly=True)

    # A sign-in that brought back another QuickBooks company than the linked one waits
    # here (its tokens in a 'pending' token row) until an administrator confirms.
    pending_realm_id = fields.Char('Pending QuickBooks Company ID', copy=False, readonly=True)
    pending_company_name = fields.Char('Pending QuickBooks Company', copy=False, readonly=True)

    # Tokens live in qbo.connection.token (see there why); shown here for administrators.
    access_token = fields.Char(compute='_compute_tokens', groups='base.group_system')
    refresh_token = fields.Char(compute='_compute_tokens', groups='base.group_system')
    access_token_expires_at = fields.Datetime(
        'Next Sign-in Renewal', compute='_compute_tokens',
        help='The current access lasts an hour; Odoo renews it by itself before then.')
    refresh_token_expires_at = fields.Datetime('Sign-in Valid Until', compute='_compute_tokens')
    refresh_token_hard_expires_at = fields.Datetime('Sign-in Hard Limit', compute='_compute_tokens')

    redirect_uri = fields.Char('Redirect URI', compute='_compute_redirect_uri')
    status_message = fields.Char(compute='_compute_status_message')
    is_system = fields.Boolean(compute='_compute_is_system')
    sync_run_ids = fields.One2many('qbo.sync.run', 'connection_id', string='Sync Runs')
    sync_failure_ids = fields.One2many('qbo.sync.failure', 'connection_id', string='Sync Failures',
                                       domain=[('state', 'in', ('open', 'queued'))])

    _sql_constraints = [
        ('company_unique', 'unique(company_id)', 'An Odoo company has one QuickBooks connection.'),
    ]

    def init(self):
        # One live connection per QuickBooks company. The sign-in checks it with a clear
        # message first; the index closes the race of two companies signing in at once.
        # Disconnected connections keep their realm (to resume) and are not counted.
        self.env.cr.execute("""
            CREATE UNIQUE INDEX IF NOT EXISTS qbo_connection_live_realm_unique
                ON qbo_connection (environment, realm_id)
             WHERE state IN ('connected', 'needs_reconnect')
        """)

    # === COMPUTE METHODS === #

    @api.depends('company_id.name', 'qbo_company_name')
    def _compute_name(self):
        for connection in self:
            name = self.env._('QuickBooks — %s', connection.company_id.name or '')
            if connection.qbo_company_name:
                name = self.env._('%(company)s ↔ %(qbo)s', company=name, qbo=connection.qbo_company_name)
            connection.name = name

    def _compute_tokens(self):
        rows = self.env['qbo.connection.token'].sudo().search(
            [('connection_id', 'in', self.ids), ('kind', '=', 'active')])
        by_connection = {row.connection_id.id: row for row in rows}
        for connection in self:
            row = by_connection.get(connection.id)
            connection.access_token = row.access_token if row else False
            connection.refresh_token = row.refresh_token if row else False
            connection.access_token_expires_at = row.expires_at if row else False
            connection.refresh_token_expires_at = row.refresh_expires_at if row else False
            connection.refresh_token_hard_expires_at = row.refresh_hard_expires_at if row else False

    def _compute_redirect_uri(self):
        for connection in self:
            connection.redirect_uri = connection._qbo_redirect_uri()

    @api.depends('sync_requested_at', 'last_sync_run_id.state')
    def _compute_is_sync_running(self):
        running = self.env['qbo.sync.run'].search(
            [('connection_id', 'in', self.ids), ('state', '=', 'running')]).connection_id
        # A request no worker took within the hour (workers stopped?) is not shown as under way.
        fresh = fields.Datetime.now() - datetime.timedelta(hours=1)
        for connection in self:
            requested = connection.sync_requested_at and connection.sync_requested_at > fresh
            connection.is_sync_running = bool(requested) or connection in running

    def _compute_is_system(self):
        self.is_system = self.env.user._is_system()

    @api.depends('state', 'qbo_company_name', 'connected_at', 'last_sync_at', 'last_sync_result',
                 'pending_realm_id', 'connect_message')
    def _compute_status_message(self):
        for connection in self:
            connection.status_message = connection._qbo_status_message()

    def _qbo_status_message(self):
        """Return one sentence: how the connection stands and what the user must do, if anything."""
        self.ensure_one()
        if self.pending_realm_id:
            return self.env._('You signed in to another QuickBooks company (%(name)s). Confirm the switch or '
                              'keep the current company below.',
                              name=self.pending_company_name or self.pending_realm_id)
        if self.state == 'draft':
            return self.env._('Not connected. Click Connect and enter the keys of your Intuit app.')
        if self.state == 'needs_reconnect':
            return self.env._('QuickBooks refused the saved sign-in. Click Reconnect and sign in again; '
                              'nothing has been lost.')
        if self.state == 'disconnected':
            return self.env._(
                'Disconnected. Your links to QuickBooks records are kept: click Reconnect to resume.')
        if not self.last_sync_at:
            return self.env._('Connected to %s. No sync has finished yet.',
                              self.qbo_company_name or self.realm_id)
        return self.env._('Connected to %(name)s. Last sync: %(result)s',
                          name=self.qbo_company_name or self.realm_id, result=self.last_sync_result or '')

    # === CONSTRAINT METHODS === #

    @api.constrains('environment', 'base_url')
    def _check_custom_environment(self):
        for connection in self:
            if connection.environment == 'custom':
                if not connection.base_url:
                    raise UserError(self.env._('A custom QuickBooks environment needs its address.'))
                try:
                    qbo_auth.endpoints_for('custom', connection.base_url)
                except (ValueError, QBOError) as exc:
                    raise UserError(plain_words(self.env, exc) if isinstance(exc, QBOError) else str(exc)) \
                        from None

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._qbo_check_environment_rights(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._qbo_check_environment_rights(vals)
        if not self.env.su:
            for connection in self:
                connection._qbo_check_keys_unlocked(vals)
        return super().write(vals)

    def _qbo_check_environment_rights(self, vals):
        """Only Settings administrators may point a connection at a custom address."""
        touches_custom = vals.get('environment') == 'custom' or bool(vals.get('base_url'))
        if touches_custom and not self.env.su and not self.env.user._is_system():
            raise AccessError(self.env._(
                'Only an Odoo administrator (Settings) can point a QuickBooks connection '
                'at a custom address.'))

    # === ACTION METHODS === #

    @api.model
    def action_open_company_connection(self):
        """Return the form action of the current company's connection (made on first use)."""
        connection = self._qbo_for_company(self.env.company)
        action = self.env['ir.actions.act_window']._for_xml_id('werx_quickbooks.action_qbo_connection')
        action.update({'res_id': connection.id, 'view_mode': 'form', 'views': [(False, 'form')]})
        return action

    def action_open_connect_wizard(self):
        """Open the Connect wizard (environment and the Intuit app's keys)."""
        self.ensure_one()
        self._qbo_check_admin()
        return {
            'type': 'ir.actions.act_window',
            'name': self.env._('Connect to QuickBooks'),
            'res_model': 'qbo.connect.wizard',
            'view_mode': 'form',
            'target': 'new',
            'context': {'default_connection_id': self.id},
        }

    def action_connect(self):
        """Return the act_url that sends the browser to Intuit's consent page for this connection."""
        self.ensure_one()
        self._qbo_check_admin()
        sudo_self = self.sudo()
        if not sudo_self.client_id or not sudo_self.client_secret:
            raise UserError(self.env._(
                "Enter your Intuit app's Client ID and Client Secret first (Connect)."))
        endpoints = self._qbo_endpoints()
        redirect_uri = self._qbo_redirect_uri()
        state = self.env['qbo.oauth.state']._issue(self, redirect_uri)
        url = qbo_auth.authorization_url(endpoints, sudo_self.client_id, redirect_uri, state)
        return {'type': 'ir.actions.act_url', 'url': url, 'target': 'self'}

    def action_reconnect(self):
        """Sign in again with the saved app keys, or ask for them if there are none."""
        self.ensure_one()
        self._qbo_check_admin()
        if not self.sudo().client_id or not self.sudo().client_secret:
            return self.action_open_connect_wizard()
        return self.action_connect()

    def action_disconnect(self):
        """Revoke the sign-in at Intuit and forget the tokens; every mapping is kept."""
        self._qbo_check_admin()
        for connection in self:
            connection._qbo_disconnect()
        return True

    def action_sync(self):
        """Start a sync in a background worker and return at once (pressed twice: still one run)."""
        self.ensure_one()
        self._qbo_check_admin()
        if self.state != 'connected':
            raise UserError(self.connect_message or self._qbo_status_message())
        # Another request may have asked a moment ago: read the flag as it is now.
        self.invalidate_recordset(['sync_requested_at', 'is_sync_running'])
        if self.is_sync_running:
            message = self.env._('A sync is already under way; its progress shows on this screen.')
            return self._qbo_notification(message, 'info')
        cron = self.env.ref('werx_quickbooks.ir_cron_qbo_requested').sudo()
        if not cron.active:
            raise UserError(self.env._(
                'The scheduled action "%s" is switched off, so no sync can start in the background. An '
                'administrator can switch it on again in Settings > Technical > Scheduled Actions.',
                cron.name))
        self.sudo().write({'sync_requested_at': fields.Datetime.now(), 'sync_requested_by_id': self.env.uid})
        cron._trigger()
        message = self.env._('Sync started. Its progress shows on this screen; you are told when it ends.')
        return self._qbo_notification(message)

    def _qbo_notification(self, message, kind='success'):
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'title': self.env._('QuickBooks sync'),
                'message': message,
                'type': kind,
                'next': {'type': 'ir.actions.client', 'tag': 'soft_reload'},
            },
        }

    def action_confirm_switch_company(self):
        """Switch to the QuickBooks company of the pending sign-in; old mappings are archived."""
        self.ensure_one()
        self._qbo_check_admin()
        if not self.pending_realm_id:
            raise UserError(self.env._('There is no other QuickBooks company waiting for confirmation.'))
        Token = self.env['qbo.connection.token'].sudo()
        pending = Token.search([('connection_id', '=', self.id), ('kind', '=', 'pending')])
        if not pending:
            raise UserError(self.env._('The sign-in to the other QuickBooks company is no longer available; '
                                       'click Reconnect and sign in again.'))
        realm, name = self.pending_realm_id, self.pending_company_name
        self._qbo_check_realm_free(realm)
        with self._qbo_holding_sync_lock():
            return self._qbo_switch_company_locked(Token, pending, realm, name)

    def _qbo_switch_company_locked(self, Token, pending, realm, name):
        old = Token.search([('connection_id', '=', self.id), ('kind', '=', 'active')])
        old_refresh_token = old.refresh_token
        old.unlink()
        self._qbo_archive_mappings()
        pending.kind = 'active'
        old_name = self.qbo_company_name or self.realm_id
        self.sudo().write({
            'realm_id': realm,
            'qbo_company_name': name,
            'pending_realm_id': False,
            'pending_company_name': False,
            'state': 'connected',
            'connected_at': fields.Datetime.now(),
            'connect_message': False,
            'initial_import_state': 'none',
            'last_sync_at': False,
            'last_sync_result': False,
        })
        self.message_post(body=self.env._(
            'Switched from QuickBooks company %(old)s to %(new)s. '
            'The links to the old company were archived.',
            old=old_name, new=name or realm))
        self._start_initial_import()
        # Intuit is told last: a failure above leaves the old sign-in valid, not revoked.
        self._qbo_revoke_quietly(old_refresh_token)
        return True

    def action_cancel_switch_company(self):
        """Keep the linked QuickBooks company and drop the pending sign-in to the other one."""
        self.ensure_one()
        self._qbo_check_admin()
        pending = self._qbo_token_row('pending')
        pending_refresh_token = pending.refresh_token
        pending.unlink()
        self.sudo().write({'pending_realm_id': False, 'pending_company_name': False})
        self._qbo_revoke_quietly(pending_refresh_token)
        return True

    # === BUSINESS METHODS: CONNECTION === #

    @api.model
    def _qbo_for_company(self, company):
        """Return the connection of ``company``, creating a draft one if there is none."""
        connection = self.with_context(active_test=False).search([('company_id', '=', company.id)], limit=1)
        if not connection:
            connection = self.sudo().create({'company_id': company.id}).sudo(self.env.su)
        return connection

    def _qbo_check_admin(self):
        if self.env.su:
            return
        if not self.env.user.has_group('werx_quickbooks.group_qbo_admin'):
            raise AccessError(self.env._(
                'Only QuickBooks Administrators can connect, configure or sync QuickBooks.'))
        self.check_access('write')

    def _qbo_check_keys_unlocked(self, values):
        """Refuse to change the app keys or the server under a live connection (disconnect first).

        The saved sign-in belongs to those keys: new ones would leave it unusable, and a sync
        running with it half-way.
        """
        self.ensure_one()
        if self.state != 'connected':
            return
        sudo_self = self.sudo()
        if any(values.get(name, sudo_self[name]) != sudo_self[name]
               for name in ('environment', 'base_url', 'client_id', 'client_secret') if name in values):
            raise UserError(self.env._(
                'This company is connected with these app keys. Disconnect first, then connect with the '
                'new keys (the links to QuickBooks records are kept).'))

    def _qbo_redirect_uri(self):
        base = self.env['ir.config_parameter'].sudo().get_param('web.base.url') or ''
        return base.rstrip('/') + CALLBACK_PATH

    def _qbo_endpoints(self):
        """Return the qbo Endpoints of this connection's environment."""
        self.ensure_one()
        try:
            base_url = self.base_url if self.environment == 'custom' else None
            return qbo_auth.endpoints_for(self.environment, base_url)
        except (ValueError, QBOError) as exc:
            raise UserError(plain_words(self.env, exc) if isinstance(exc, QBOError) else str(exc)) from None

    def _qbo_token_row(self, kind='active'):
        return self.env['qbo.connection.token'].sudo().search(
            [('connection_id', '=', self.id), ('kind', '=', kind)], limit=1)

    def _qbo_tokens(self):
        """Return the qbo Tokens in use, or None."""
        self.ensure_one()
        row = self._qbo_token_row()
        return row._to_tokens() if row and row.refresh_token else None

    def _qbo_store_tokens(self, tokens, kind='active'):
        """Save ``tokens`` as this connection's tokens of ``kind`` (replacing any)."""
        self.ensure_one()
        values = self.env['qbo.connection.token']._values_from(tokens)
        row = self._qbo_token_row(kind)
        if row:
            row.write(values)
        else:
            row = self.env['qbo.connection.token'].sudo().create(
                dict(values, connection_id=self.id, kind=kind))
        self.invalidate_recordset(['access_token', 'refresh_token', 'access_token_expires_at',
                                   'refresh_token_expires_at', 'refresh_token_hard_expires_at'])
        return row

    def _qbo_check_realm_free(self, realm_id):
        """Raise UserError if ``realm_id`` is linked to another Odoo company's live connection."""
        self.ensure_one()
        other = self.sudo().with_context(active_test=False).search([
            ('id', '!=', self.id),
            ('realm_id', '=', realm_id),
            ('environment', '=', self.environment),
            ('state', 'in', ('connected', 'needs_reconnect')),
        ], limit=1)
        if other:
            raise UserError(self.env._(
                'This QuickBooks company is already connected to the Odoo company %(company)s. '
                'A QuickBooks company can be connected to one Odoo company only: disconnect it there first.',
                company=other.company_id.name))

    def _qbo_oauth_callback(self, realm_id, code, redirect_uri):
        """Finish the sign-in: exchange ``code``, then connect or ask to confirm a company switch.

        Returns 'connected' or 'confirm_switch'. Raises UserError (plain words) when the
        sign-in cannot be used; the connection is then left as it was.
        """
        self.ensure_one()
        if not code or not realm_id:
            raise UserError(self.env._('QuickBooks sent the sign-in back incomplete (no code or company). '
                                       'Click Connect and try again.'))
        self._qbo_check_realm_free(realm_id)
        sudo_self = self.sudo()
        try:
            tokens = qbo_auth.exchange_code(self._qbo_endpoints(), sudo_self.client_id,
                                            sudo_self.client_secret, redirect_uri, code)
        except QBOError as exc:
            _logger.warning('QuickBooks code exchange failed for connection %s: %r', self.id, exc)
            raise UserError(self.env._('QuickBooks did not complete the sign-in: %s',
                                       plain_words(self.env, exc))) from None
        company_name, currency, tokens = self._qbo_read_company(realm_id, tokens)
        own = self.company_id.currency_id.name
        if currency != own:
            # Odoo would book every QuickBooks amount in the wrong currency: refuse before anything is saved.
            # (Revoking a sign-in ends the app's access to that company: not for a reconnect.)
            if self.realm_id != realm_id:
                self._qbo_revoke_quietly(tokens.refresh_token)
            if not currency:
                raise UserError(self.env._(
                    'QuickBooks did not tell which currency %(qbo)s keeps its books in, so it was not '
                    'connected (Odoo must check it matches %(ours)s). Click Connect and try again.',
                    qbo=company_name or realm_id, ours=own))
            raise UserError(self.env._(
                'The QuickBooks company %(qbo)s keeps its books in %(theirs)s, but the Odoo company %(odoo)s '
                'uses %(ours)s, so it was not connected: every amount would be booked in the wrong currency. '
                'Connect it to an Odoo company whose currency is %(theirs)s (or set this company\'s currency '
                'to %(theirs)s while it has no journal entries yet).',
                qbo=company_name or realm_id, theirs=currency, odoo=self.company_id.name, ours=own))
        if self.realm_id and self.realm_id != realm_id:
            self._qbo_store_tokens(tokens, kind='pending')
            sudo_self.write({'pending_realm_id': realm_id, 'pending_company_name': company_name})
            self.message_post(body=self.env._(
                'Signed in to QuickBooks company %(new)s, but this Odoo company is linked to %(old)s. '
                'Waiting for an administrator to confirm the switch.',
                new=company_name or realm_id, old=self.qbo_company_name or self.realm_id))
            return 'confirm_switch'
        self._qbo_set_connected(realm_id, tokens, company_name)
        return 'connected'

    def _qbo_set_connected(self, realm_id, tokens, company_name):
        """Store the tokens and realm, mark connected, and start the initial import if needed."""
        self.ensure_one()
        resumed = bool(self.realm_id)
        # A sign-in to another company may have been waiting; this one supersedes it.
        pending = self._qbo_token_row('pending')
        pending_refresh_token = pending.refresh_token
        try:
            # Saved as one piece: another Odoo company taking this QuickBooks company at the same
            # moment (the live-realm index) leaves this connection as it was, with a message.
            with self.env.cr.savepoint():
                pending.unlink()
                self._qbo_store_tokens(tokens)
                self.sudo().write({
                    'realm_id': realm_id,
                    'qbo_company_name': company_name or self.qbo_company_name,
                    'state': 'connected',
                    'connected_at': fields.Datetime.now(),
                    'disconnected_at': False,
                    'connect_message': False,
                    'pending_realm_id': False,
                    'pending_company_name': False,
                })
        except psycopg2.IntegrityError:
            _logger.info('QuickBooks company of connection %s was taken by another connection meanwhile',
                         self.id)
            raise UserError(self.env._(
                'This QuickBooks company was just connected to another Odoo company. A QuickBooks '
                'company can be connected to one Odoo company only: disconnect it there first.')) from None
        if resumed:
            body = self.env._('Reconnected to QuickBooks company %s; the existing links are kept.',
                              company_name or realm_id)
        else:
            body = self.env._('Connected to QuickBooks company %s.', company_name or realm_id)
        self.message_post(body=body)
        if self.initial_import_state != 'done':
            self._start_initial_import()
        # Intuit is told last, once the new sign-in is saved.
        self._qbo_revoke_quietly(pending_refresh_token)

    def _qbo_read_company(self, realm_id, tokens):
        """Return (the QBO company's name, its home currency code, the tokens to keep).

        The name is False and the currency None when they cannot be read now. The tokens
        were just issued and are not saved yet, so this client refreshes on its own; should
        it ever have to, the rotated tokens come back to be saved.
        """
        sudo_self = self.sudo()
        from ..qbo.client import QBOClient
        latest = {'tokens': tokens}
        client = QBOClient(self._qbo_endpoints(), realm_id, tokens,
                           client_id=sudo_self.client_id, client_secret=sudo_self.client_secret,
                           on_tokens=lambda new: latest.update(tokens=new),
                           rate_limiter=SharedRateLimiter(self.env.cr.dbname, realm_id))
        name = currency = None
        try:
            info = client.company_info() or {}
            name = info.get('CompanyName') or info.get('LegalName')
            currency = qbo_mappers.home_currency(client.preferences())
        except QBOError as exc:
            _logger.warning('Could not read the QuickBooks company of connection %s: %r', self.id, exc)
        return (name if isinstance(name, str) else False), currency, latest['tokens']

    @contextlib.contextmanager
    def _qbo_holding_sync_lock(self):
        """Hold this connection's sync lock for a change that a running sync must not cross, or refuse.

        Disconnecting or switching company while a run writes would let the run save the old
        company's cursor over the new one, or mark a disconnected connection "needs reconnect".
        """
        self.ensure_one()
        # On this request's own transaction, so it is let go only once the change is committed: a
        # sync starting in between would still see the old company.
        self.env.cr.execute('SELECT pg_try_advisory_xact_lock(%s, %s)', [SYNC_LOCK_SPACE, self.id])
        if not self.env.cr.fetchone()[0]:
            raise UserError(self.env._('A QuickBooks sync is running for this company; wait until it ends '
                                       '(it shows on this screen), then try again.'))
        yield

    def _qbo_disconnect(self):
        self.ensure_one()
        with self._qbo_holding_sync_lock():
            self._qbo_disconnect_locked()

    def _qbo_disconnect_locked(self):
        tokens = self.env['qbo.connection.token'].sudo().search([('connection_id', '=', self.id)])
        problem = False
        for row in tokens:
            problem = self._qbo_revoke_quietly(row.refresh_token) or problem
        tokens.unlink()
        self.sudo().write({
            'state': 'disconnected',
            'disconnected_at': fields.Datetime.now(),
            'pending_realm_id': False,
            'pending_company_name': False,
            'connect_message': problem or False,
        })
        body = self.env._('Disconnected from QuickBooks. The links to QuickBooks records are kept.')
        if problem:
            body = '%s %s' % (body, problem)
        self.message_post(body=body)

    def _qbo_revoke_quietly(self, token):
        """Revoke ``token`` at Intuit; return a sentence if that failed (the caller goes on), else False."""
        if not token:
            return False
        sudo_self = self.sudo()
        try:
            qbo_auth.revoke_token(self._qbo_endpoints(), sudo_self.client_id, sudo_self.client_secret, token)
        except (QBOError, UserError) as exc:
            _logger.warning('QuickBooks did not revoke the sign-in of connection %s: %r', self.id, exc)
            return self.env._(
                'QuickBooks could not be told to revoke the sign-in (%s); it was removed from Odoo anyway. '
                'You can also remove the app in QuickBooks under Apps.', plain_words(self.env, exc))
        return False

    def _qbo_archive_mappings(self):
        """Hook: archive every mapping of this connection before it switches QuickBooks company.

        The list modules extend it; mappings are archived, never deleted.
        """
        return True

    def _qbo_admin_partners(self):
        """Return the partners of the QuickBooks Administrators of this connection's company."""
        group = self.env.ref('werx_quickbooks.group_qbo_admin')
        users = group.sudo().users.filtered(
            lambda user: not user.share and user.active and self.company_id in user.company_ids
            and user.id != self.env.ref('base.user_root').id)
        return users.partner_id

    def _qbo_mark_needs_reconnect(self, error=None):
        """Set needs_reconnect, say what to do on the screen and tell the administrators (once)."""
        self.ensure_one()
        if self.state == 'needs_reconnect':
            return
        reason = (plain_words(self.env, error) if isinstance(error, QBOError)
                  else self.env._('the sign-in expired or was revoked'))
        message = self.env._(
            'QuickBooks refused the saved sign-in (%s). An administrator must click Reconnect on '
            'Accounting ▸ Configuration ▸ QuickBooks and sign in again; nothing has been lost.', reason)
        self.sudo().write({'state': 'needs_reconnect', 'connect_message': message})
        self.sudo().message_post(body=message, partner_ids=self._qbo_admin_partners().ids,
                                 subtype_xmlid='mail.mt_comment')

    # === BUSINESS METHODS: TOKENS AND CLIENT === #

    def _qbo_client(self):
        """Return a QBOClient for this connection; token refresh goes through ``_qbo_refresh_tokens``."""
        self.ensure_one()
        from ..qbo.client import QBOClient
        if self.state == 'needs_reconnect':
            raise UserError(self.connect_message or self._qbo_status_message())
        tokens = self._qbo_tokens()
        if not tokens or not self.realm_id:
            raise UserError(self.env._('This company is not connected to QuickBooks. Click Connect first.'))
        sudo_self = self.sudo()
        return QBOClient(self._qbo_endpoints(), self.realm_id, tokens,
                         client_id=sudo_self.client_id, client_secret=sudo_self.client_secret,
                         refresher=self._qbo_refresh_tokens,
                         rate_limiter=SharedRateLimiter(self.env.cr.dbname, self.realm_id))

    def _qbo_refresh_tokens(self, old_tokens):
        """Return fresh Tokens: refreshed at Intuit once, however many workers ask at the same time.

        Runs in its own cursor. It locks the token row; if the stored refresh token is no
        longer the one ``old_tokens`` holds, another worker already refreshed and its tokens
        are returned. Otherwise it asks Intuit and commits the rotated refresh token before
        the new access token is handed back, so a crash can never lose the only valid one.
        invalid_grant -> the connection needs a reconnect (committed), NeedsReconnect re-raised.
        """
        self.ensure_one()
        self.env.flush_all()
        for attempt in range(REFRESH_LOCK_ATTEMPTS):
            try:
                return self._qbo_refresh_tokens_locked(old_tokens)
            except (psycopg2.errors.LockNotAvailable, psycopg2.errors.SerializationFailure):
                # Another worker holds the row (or committed under our snapshot): try again
                # with a new transaction, which will see its tokens.
                wait_for_lock(attempt)
            finally:
                # The other cursor changed rows this transaction may have cached.
                self.env['qbo.connection.token'].invalidate_model()
                self.invalidate_recordset()
        raise TransientError(self.env._(
            'Another process kept renewing the QuickBooks sign-in; the sync will try again later.'))

    def _qbo_refresh_tokens_locked(self, old_tokens):
        with self.env.registry.cursor() as cr:
            env = self.env(cr=cr, su=True)
            # NOWAIT: never wait on a lock our own transaction might hold; the caller retries.
            cr.execute('SELECT id FROM qbo_connection_token WHERE connection_id = %s AND kind = %s '
                       'FOR UPDATE NOWAIT', [self.id, 'active'], log_exceptions=False)
            row = cr.fetchone()
            token = env['qbo.connection.token'].browse(row[0]) if row else None
            if not token or not token.refresh_token:
                raise NeedsReconnect(self.env._(
                    'This company has no saved QuickBooks sign-in; an administrator must connect.'))
            if not hmac.compare_digest(token.refresh_token, old_tokens.refresh_token or ''):
                return token._to_tokens()
            connection = env['qbo.connection'].browse(self.id)
            try:
                new_tokens = qbo_auth.refresh_tokens(connection._qbo_endpoints(), connection.client_id,
                                                     connection.client_secret, token.refresh_token)
            except NeedsReconnect as exc:
                _logger.warning('QuickBooks refused the refresh token of connection %s: %r', self.id, exc)
                connection._qbo_mark_needs_reconnect_nowait(exc)
                # Own cursor: the state must survive the raise.
                cr.commit()  # pylint: disable=invalid-commit
                raise
            token.write(env['qbo.connection.token']._values_from(new_tokens))
            # Own cursor: the rotated refresh token is saved before anyone uses the new access token.
            cr.commit()  # pylint: disable=invalid-commit
            return new_tokens

    def _qbo_mark_needs_reconnect_nowait(self, error):
        """Mark needs_reconnect unless another transaction holds the connection row (then its caller will)."""
        try:
            with self.env.cr.savepoint():
                self.env.cr.execute('SELECT id FROM qbo_connection WHERE id = %s FOR UPDATE NOWAIT',
                                    [self.id], log_exceptions=False)
                self._qbo_mark_needs_reconnect(error)
        except (psycopg2.errors.LockNotAvailable, psycopg2.errors.SerializationFailure):
            _logger.info('Connection %s is busy; its caller records the needed reconnect.', self.id)

    def _qbo_commit(self):
        """Commit the worker's transaction: runs commit per page, so a crash keeps what was done.

        Only background work calls it (cron workers, on a cursor of their own); a web request
        never commits, and a call from one is a bug.
        """
        self._qbo_check_not_in_request()
        self.env.cr.commit()  # pylint: disable=invalid-commit

    def _qbo_rollback(self):
        """Roll back the worker's transaction to its last commit (the failed page only)."""
        self._qbo_check_not_in_request()
        self.env.cr.rollback()

    def _qbo_check_not_in_request(self):
        if http.request and getattr(http.request, 'env', None) is not None \
                and http.request.env.cr is self.env.cr:
            raise RuntimeError('QuickBooks sync work must run in a cron worker, not in a web request.')

    # === BUSINESS METHODS: SYNC === #

    def _sync(self, trigger='manual'):
        """Run one sync of this connection and return its qbo.sync.run.

        One run per connection at a time: a session-level advisory lock, held on a cursor of
        its own for the whole run. The run record is committed first, so a crash leaves it
        visible; the lists commit per page inside ``_sync_qbo2odoo``.
        """
        self.ensure_one()
        if self.state != 'connected':
            raise UserError(self.connect_message or self._qbo_status_message())
        with self._qbo_sync_lock():
            return self._sync_locked(trigger)

    @contextlib.contextmanager
    def _qbo_sync_lock(self):
        """Hold this connection's sync lock for a run of work on it, or refuse in words.

        A session-level advisory lock on a cursor of its own, so it is held across the run's
        commits. Once taken, the job's cursor starts a new transaction: what it read before may
        predate the run that just let go of the lock.
        """
        lock_cr = self._qbo_acquire_sync_lock()
        if lock_cr is None:
            raise UserError(self.env._('A QuickBooks sync is already running for this company.'))
        try:
            self._qbo_commit()
            yield
        finally:
            self._qbo_release_sync_lock(lock_cr)

    def _sync_locked(self, trigger):
        Run = self.env['qbo.sync.run']
        # We hold the lock, so any run still marked running was cut short (crash, restart).
        Run._fail_interrupted(self)
        run = Run.create({'connection_id': self.id, 'trigger': trigger})
        self._qbo_commit()
        client = None
        try:
            client = self._qbo_client()
            self._sync_qbo2odoo(run, client)
        except NeedsReconnect as exc:
            self._qbo_rollback()
            run._finish(client, error=exc)
            self._qbo_mark_needs_reconnect(exc)
        except Exception as exc:  # noqa: BLE001 — any failure ends the run with a reason, never a traceback
            self._qbo_rollback()
            if not isinstance(exc, (QBOError, UserError)):
                _logger.exception('QuickBooks sync run %s of connection %s failed', run.id, self.id)
            run._finish(client, error=exc)
        else:
            run._finish(client)
        self.sudo().write({
            'last_sync_at': run.ended_at,
            'last_sync_result': run.summary,
            'last_sync_run_id': run.id,
        })
        self._qbo_commit()
        return run

    def _sync_qbo2odoo(self, run, client):
        """Hook: bring QuickBooks changes into Odoo for ``run`` using ``client``.

        The list modules override it (calling super()); by itself it does nothing.
        """
        return True

    def _qbo_acquire_sync_lock(self):
        """Return a cursor holding this connection's sync lock, or None if another run holds it."""
        # A real connection of its own, also in tests: the lock must be seen by other sessions.
        cr = sql_db.db_connect(self.env.cr.dbname).cursor()
        try:
            cr.execute('SELECT pg_try_advisory_lock(%s, %s)', [SYNC_LOCK_SPACE, self.id])
            locked = cr.fetchone()[0]
            # Own cursor; the session-level lock outlives it.
            cr.commit()  # pylint: disable=invalid-commit
        except psycopg2.Error:
            cr.close()
            raise
        if not locked:
            cr.close()
            return None
        return cr

    def _qbo_release_sync_lock(self, cr):
        try:
            cr.execute('SELECT pg_advisory_unlock(%s, %s)', [SYNC_LOCK_SPACE, self.id])
            # Own cursor, holds no data.
            cr.commit()  # pylint: disable=invalid-commit
        finally:
            # Back to the pool only after the unlock, so no pooled session keeps the lock.
            cr.close()

    def _start_initial_import(self):
        """Schedule the initial import of this connection in the background."""
        self.sudo().write({'initial_import_state': 'pending'})
        self.env.ref('werx_quickbooks.ir_cron_qbo_initial_import').sudo()._trigger()

    # === CRON METHODS === #

    @api.model
    def _cron_sync(self):
        """Sync every connected connection (the scheduled action "QuickBooks: sync")."""
        self._qbo_recover_interrupted()
        connections = self.search([('state', '=', 'connected'), ('initial_import_state', '!=', 'pending')])
        self._qbo_each(connections, lambda connection: connection._sync('cron'))

    @api.model
    def _cron_run_requested(self):
        """Run what users asked for in the background: Sync, Retry, Create in Odoo on many records."""
        self._qbo_recover_interrupted()
        requested = self.search([('sync_requested_at', '!=', False)])
        self._qbo_each(requested, lambda connection: connection._qbo_run_requested_sync())
        failures = self.env['qbo.sync.failure'].search([('state', '=', 'queued')])
        by_list = failures.grouped(lambda f: (f.mapped_model, f.connection_id))
        for (model, connection), group in by_list.items():
            self._qbo_each(connection, lambda c, m=model, g=group: c._qbo_locked_request(
                lambda: self.env[m]._qbo_retry(g), g))
        for name in self._qbo_mapped_models():
            queued = self.env[name].search([('create_requested', '=', True)])
            for connection, mappings in queued.grouped('connection_id').items():
                self._qbo_each(connection, lambda c, m=mappings: c._qbo_locked_request(
                    m._qbo_create_requested, m))

    def _qbo_locked_request(self, work, records):
        """Do a user's queued request (Retry, Create in Odoo) under the sync lock, never beside a run.

        Busy: it waits for the next pass. It cannot be done (disconnected, QuickBooks refused):
        the records are handed back with the reason, never left queued.
        """
        if self._qbo_sync_locked():
            self._qbo_retrigger_requested()
            return
        try:
            if self.state != 'connected':
                raise UserError(self.connect_message or self._qbo_status_message())
            with self._qbo_sync_lock():
                work()
        except Exception as exc:  # noqa: BLE001 - handed back in words
            self._qbo_rollback()
            if isinstance(exc, UserError) and self._qbo_sync_locked():
                self._qbo_retrigger_requested()
                return
            if not isinstance(exc, UserError):
                _logger.exception('QuickBooks: queued request for connection %s failed', self.id)
            records._qbo_request_failed(plain_words(self.env, exc))
            self._qbo_commit()

    @api.model
    def _qbo_each(self, connections, work):
        """Do ``work`` for each connection on its own: one company's error never stops the others.

        Each connection's work is committed before the next one starts, so a failure in the next
        never takes back what this one said (a notification, a retrigger, its progress). It runs
        in the language of whoever asked (or the company's), so the log reads in their words.
        """
        for done, connection in enumerate(connections, start=1):
            try:
                work(connection.with_context(lang=connection._qbo_lang()))
            except UserError as exc:
                self._qbo_rollback()
                _logger.info('QuickBooks: connection %s: %s', connection.id, exc)
            except Exception:  # noqa: BLE001 - logged; the next connection still syncs
                self._qbo_rollback()
                _logger.exception('QuickBooks: background work for connection %s failed', connection.id)
            self.env['ir.cron']._notify_progress(done=done, remaining=len(connections) - done)
            self._qbo_commit()

    def _qbo_lang(self):
        """Return the language the background work of this connection writes its messages in."""
        self.ensure_one()
        langs = self.env['res.lang'].get_installed()
        for lang in (self.sudo().sync_requested_by_id.lang, self.sudo().company_id.partner_id.lang):
            if lang and lang in dict(langs):
                return lang
        return self.env.lang or 'en_US'

    def _qbo_run_requested_sync(self):
        """Run the sync a user asked for, then tell them how it went (also when it could not run)."""
        self.ensure_one()
        user = self.sync_requested_by_id
        run, problem = None, None
        if self._qbo_sync_locked():
            # Another worker runs this connection now: the request waits for it, a minute at a time.
            self._qbo_retrigger_requested()
            return
        try:
            if self.state != 'connected':
                problem = self.connect_message or self._qbo_status_message()
            elif self.initial_import_state in ('pending', 'failed'):
                # The import has not run (or failed): Sync runs it rather than a plain sync.
                run = self._sync_initial_import()
            else:
                run = self._sync('manual')
        except UserError as exc:
            self._qbo_rollback()
            if self._qbo_sync_locked():
                self._qbo_retrigger_requested()
                return
            problem = str(exc.args[0])
        except Exception as exc:  # noqa: BLE001 - the request ends, said in words; details in the log
            self._qbo_rollback()
            _logger.exception('QuickBooks: requested sync of connection %s failed', self.id)
            problem = plain_words(self.env, exc)
        finally:
            # Answered, whatever happened: the screen never says "under way" for a request that ended.
            if not self._qbo_sync_locked():
                self.sudo().write({'sync_requested_at': False, 'sync_requested_by_id': False})
                self._qbo_commit()
        if user:
            kind = {'done': 'success', 'failed': 'danger'}.get(run.state, 'warning') if run else 'danger'
            self.env['bus.bus']._sendone(user.partner_id, 'simple_notification', {
                'title': self.env._('QuickBooks sync'), 'message': run.summary if run else problem,
                'type': kind, 'sticky': kind != 'success'})

    def _qbo_retrigger_requested(self):
        self.env.ref('werx_quickbooks.ir_cron_qbo_requested')._trigger(
            fields.Datetime.now() + datetime.timedelta(minutes=1))

    @api.model
    def _qbo_recover_interrupted(self):
        """Close what a crash or restart left running: its run fails in words, its import starts again."""
        running = self.env['qbo.sync.run'].search([('state', '=', 'running')]).connection_id
        stuck = running | self.search([('initial_import_state', '=', 'running')])
        self._qbo_each(stuck, lambda connection: connection._qbo_recover_one())

    def _qbo_recover_one(self):
        if self._qbo_sync_locked():
            return   # alive in another worker
        with self._qbo_sync_lock():
            self.env['qbo.sync.run']._fail_interrupted(self)
            if self.initial_import_state == 'running':
                self.sudo().initial_import_state = 'pending'
                self.env.ref('werx_quickbooks.ir_cron_qbo_initial_import')._trigger()
            self._qbo_commit()

    def _qbo_sync_locked(self):
        """Return True if a run of this connection holds its sync lock now (in any worker)."""
        lock_cr = self._qbo_acquire_sync_lock()
        if lock_cr is None:
            return True
        self._qbo_release_sync_lock(lock_cr)
        return False

    @api.model
    def _cron_initial_import(self):
        """Run the initial import of every connection waiting for it."""
        waiting = self.search([('state', '=', 'connected'), ('initial_import_state', '=', 'pending')])
        for connection in waiting:
            try:
                connection.with_context(lang=connection._qbo_lang())._sync_initial_import()
            except UserError as exc:
                # Another run holds the connection: try again in a few minutes.
                _logger.info('QuickBooks: initial import of connection %s postponed: %s', connection.id, exc)
                self.env.ref('werx_quickbooks.ir_cron_qbo_initial_import')._trigger(
                    fields.Datetime.now() + datetime.timedelta(minutes=5))

    def _sync_initial_import(self):
        """Run the initial import (a sync with trigger 'initial') and record how it ended.

        The import's state changes under the sync lock too, so no other worker takes a
        'running' import for one a crash left behind.
        """
        self.ensure_one()
        if self.state != 'connected':
            raise UserError(self.connect_message or self._qbo_status_message())
        with self._qbo_sync_lock():
            self.sudo().initial_import_state = 'running'
            self._qbo_commit()
            run = self._sync_locked('initial')
            self.sudo().initial_import_state = 'done' if run.state in ('done', 'partial') else 'failed'
            self._qbo_commit()
        return run
