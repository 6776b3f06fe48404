# Part of werx_quickbooks. License LGPL-3.
"""QuickBooks webhooks: the notifications Intuit posts are stored, then a cron worker fetches what changed.

The web request only checks the signature and stores the events (each once, by its event id);
the worker reads each changed record once per entity and imports it the way the change feed
does. The scheduled change feed still runs and catches whatever a lost notification missed:
webhooks never move a cursor.
"""

import datetime
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..qbo import webhook as qbo_webhook
from ..qbo.errors import NeedsReconnect, QBOError
from .qbo_sync_run import plain_words, retention_limit

_logger = logging.getLogger(__name__)

WEBHOOK_PATH = '/werx_quickbooks/webhook'

# Events one pass of the worker takes per connection; more wait for the next pass (triggered at once).
EVENTS_PER_PASS = 5000
# A busy connection (a sync or the initial import runs) is looked at again this much later.
BUSY_RETRY = datetime.timedelta(seconds=30)

EVENT_STATES = [('pending', 'Waiting'), ('done', 'Fetched'), ('ignored', 'Not Synced'), ('failed', 'Failed')]


class QBOWebhookEvent(models.Model):
    """One change QuickBooks notified: which company, which record, what happened, and what became of it."""

    _name = 'qbo.webhook.event'
    _description = 'QuickBooks Notification'
    _order = 'id desc'
    _rec_name = 'event_id'

    connection_id = fields.Many2one('qbo.connection', required=True, readonly=True, index=True,
                                    ondelete='cascade')
    company_id = fields.Many2one(related='connection_id.company_id', store=True, index=True)
    realm_id = fields.Char('QuickBooks Company ID', required=True, readonly=True)
    entity = fields.Char('QuickBooks Entity', required=True, readonly=True)
    qbo_id = fields.Char('QuickBooks ID', required=True, readonly=True)
    operation = fields.Char(required=True, readonly=True, help='Create, Update, Delete, Merge, Void …')
    deleted_qbo_id = fields.Char('Merged Away QuickBooks ID', readonly=True,
                                 help='For a merge: the record that was merged into this one and deleted.')
    last_updated = fields.Char('Changed in QuickBooks', readonly=True)
    event_id = fields.Char('Notification ID', required=True, readonly=True)
    state = fields.Selection(EVENT_STATES, required=True, default='pending', readonly=True, index=True)
    note = fields.Char('Why', readonly=True)
    received_at = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    run_id = fields.Many2one('qbo.sync.run', readonly=True, ondelete='set null')

    _sql_constraints = [
        # Intuit sends a delivery again when the reply was late: the same event is stored once.
        ('event_unique', 'unique(connection_id, realm_id, event_id)',
         'This QuickBooks notification was already received.'),
    ]

    # === RECEIVING (the web request) === #

    @api.model
    def _qbo_receive(self, body, signature):
        """Check and store one delivery; return (HTTP status, text of the reply).

        Runs as the system, called by the public route: nothing here trusts the body before the
        signature matched the verifier token of a connection, and every event is kept only for
        a company whose connection holds that same token.
        """
        Connection = self.env['qbo.connection'].sudo().with_context(active_test=False)
        configured = Connection.search([('webhook_verifier_token', '!=', False)])
        signers = {token for token in set(configured.mapped('webhook_verifier_token'))
                   if qbo_webhook.verify_signature(body, signature, token)}
        if not signers:
            _logger.warning('QuickBooks webhook refused: the signature matches no verifier token%s',
                            '' if signature else ' (no intuit-signature header)')
            return 401, 'signature does not match'
        try:
            changes = qbo_webhook.parse_notifications(body)
        except qbo_webhook.WebhookError as error:
            _logger.warning('QuickBooks webhook refused: %s', error.detail)
            return 400, 'notification not read: %s' % error.detail
        by_realm = qbo_webhook.by_realm(changes)
        live = Connection.search([('realm_id', 'in', list(by_realm)), ('state', '=', 'connected')])
        rows = []
        for realm, realm_changes in by_realm.items():
            mine = live.filtered(lambda c, realm=realm: c.realm_id == realm)
            signed = mine.filtered(lambda c: c.webhook_verifier_token in signers)
            if not mine:
                # Intuit still sends this company's changes (the app is connected to it there): worth a look.
                _logger.warning('QuickBooks webhook: %d events of company %s, which no connected Odoo '
                                'company syncs; acknowledged, not kept', len(realm_changes), realm)
            elif not signed:
                _logger.warning('QuickBooks webhook: %d events of company %s dropped: the delivery is not '
                                "signed with that connection's verifier token", len(realm_changes), realm)
            for connection in signed:
                rows += [(connection, change) for change in realm_changes]
        stored = self._qbo_store(rows)
        if stored:
            Connection.browse(list(stored)).write({'last_webhook_at': fields.Datetime.now()})
            self.env.ref('werx_quickbooks.ir_cron_qbo_webhook').sudo()._trigger()
        return 200, 'ok: %d new of %d events' % (sum(stored.values()), len(changes))

    @api.model
    def _qbo_store(self, rows):
        """Insert the (connection, Change) rows, skipping events already stored; return {connection id: new}.

        One INSERT … ON CONFLICT DO NOTHING: a delivery received twice at the same moment (Intuit
        retrying while the first try is still being answered) is stored once, without an error.
        """
        if not rows:
            return {}
        now = self.env.cr.now()
        uid = self.env.uid
        values = [SQL('(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)',
                      connection.id, connection.company_id.id, change.realm_id, change.entity, change.qbo_id,
                      change.operation, change.deleted_id, change.last_updated, change.event_id, 'pending',
                      now, uid, now, uid, now)
                  for connection, change in rows]
        self.env.cr.execute(SQL("""
            INSERT INTO qbo_webhook_event (connection_id, company_id, realm_id, entity, qbo_id, operation,
                                           deleted_qbo_id, last_updated, event_id, state, received_at,
                                           create_uid, create_date, write_uid, write_date)
            VALUES %s
            ON CONFLICT (connection_id, realm_id, event_id) DO NOTHING
            RETURNING connection_id
        """, SQL(', ').join(values)))
        stored = {}
        for (connection_id,) in self.env.cr.fetchall():
            stored[connection_id] = stored.get(connection_id, 0) + 1
        return stored

    # === WORKER HELPERS === #

    def _qbo_changes(self):
        """Return the events as qbo.webhook.Change, for the pure grouping."""
        return [qbo_webhook.Change(event.realm_id, event.entity, event.qbo_id, event.operation,
                                   event.last_updated, event.event_id, event.deleted_qbo_id or None)
                for event in self]

    def _qbo_close(self, state, note=False, run=None):
        self.write({'state': state, 'note': note, 'run_id': run.id if run else False})

    @api.autovacuum
    def _gc_old_events(self):
        """Remove handled notifications older than the log retention (they only guard against replays)."""
        limit = retention_limit(self.env)
        if not limit:
            return
        self.sudo().search([('state', '!=', 'pending'), ('received_at', '<', limit)]).unlink()


class QBOConnection(models.Model):
    _inherit = 'qbo.connection'  # pylint: disable=consider-merging-classes-inherited

    webhook_url = fields.Char(
        'Webhook Endpoint URL', compute='_compute_webhook_url',
        help="Enter it at developer.intuit.com, in your app's Webhooks settings; QuickBooks then tells "
             'Odoo about each change within seconds.')
    last_webhook_at = fields.Datetime(
        'Last Notification', copy=False, readonly=True,
        help='When QuickBooks last told Odoo about a change of this company (a webhook).')

    def _compute_webhook_url(self):
        base = self.env['ir.config_parameter'].sudo().get_param('web.base.url') or ''
        for connection in self:
            connection.webhook_url = base.rstrip('/') + WEBHOOK_PATH

    # === CRON === #

    @api.model
    def _cron_webhooks(self):
        """Fetch what the stored notifications say changed (the scheduled action "QuickBooks: webhooks")."""
        Event = self.env['qbo.webhook.event']
        pending = Event.search([('state', '=', 'pending')])
        self._qbo_each(pending.connection_id, lambda connection: connection._qbo_fetch_notified())

    def _qbo_fetch_notified(self):
        """Fetch and import what this connection's pending notifications name, under its sync lock."""
        self.ensure_one()
        Event = self.env['qbo.webhook.event']
        pending = Event.search([('connection_id', '=', self.id), ('state', '=', 'pending')])
        stale = pending.filtered(lambda event: event.realm_id != self.realm_id)
        # Notifications of the QuickBooks company this connection used before a switch.
        stale._qbo_close('ignored', self.env._(
            'This Odoo company is now linked to another QuickBooks company.'))
        pending -= stale
        if not pending:
            return
        if self.state != 'connected':
            pending._qbo_close('ignored', self.env._(
                'Not fetched: the company was not connected; the first sync after reconnecting brings the '
                'changes in.'))
            return
        if self.initial_import_state in ('pending', 'running') or self._qbo_sync_locked():
            # The running sync may already bring these in; the events wait for it to end.
            self._qbo_retrigger_webhooks()
            return
        try:
            with self._qbo_sync_lock():
                self._qbo_fetch_notified_locked()
        except UserError:
            if self._qbo_sync_locked():
                self._qbo_rollback()
                self._qbo_retrigger_webhooks()
                return
            raise

    def _qbo_retrigger_webhooks(self):
        cron = self.env.ref('werx_quickbooks.ir_cron_qbo_webhook').sudo()
        cron._trigger(fields.Datetime.now() + BUSY_RETRY)

    def _qbo_fetch_notified_locked(self):
        Event = self.env['qbo.webhook.event']
        # Read again under the lock: the events another worker handled meanwhile are not pending any more.
        events = Event.search([('connection_id', '=', self.id), ('state', '=', 'pending'),
                               ('realm_id', '=', self.realm_id)], order='id', limit=EVENTS_PER_PASS)
        if not events:
            return
        if len(events) == EVENTS_PER_PASS:
            self.env.ref('werx_quickbooks.ir_cron_qbo_webhook').sudo()._trigger()
        Run = self.env['qbo.sync.run']
        Run._fail_interrupted(self)
        run = Run.create({'connection_id': self.id, 'trigger': 'webhook'})
        self._qbo_commit()
        client = None
        by_entity = events.grouped('entity')
        models_by_entity = self._qbo_webhook_models()
        # As the sync: the changes are written for the company, whatever the rights of a user.
        connection = self.sudo().with_company(self.company_id)
        try:
            client = self._qbo_client()
            cache = {}
            for entity, work in qbo_webhook.entity_work(events._qbo_changes()).items():
                entity_events = by_entity[entity]
                models_ = models_by_entity.get(entity)
                if not models_:
                    entity_events._qbo_close(
                        'ignored', self.env._('Odoo does not sync these from QuickBooks.'), run)
                    self._qbo_commit()
                    continue
                try:
                    connection._qbo_import_notified(models_, work, run, client, cache)
                except NeedsReconnect:
                    raise
                except Exception as exc:  # noqa: BLE001 - this entity's events fail in words; the others go on
                    self._qbo_rollback()
                    if not isinstance(exc, (QBOError, UserError)):
                        _logger.exception('QuickBooks: notified %s of connection %s failed', entity, self.id)
                    run._log_failure(entity, None, models_[0]._qbo_label, exc)
                    entity_events._qbo_close('failed', plain_words(self.env, exc), run)
                else:
                    entity_events._qbo_close('done', False, run)
                self._qbo_commit()
        except NeedsReconnect as exc:
            self._qbo_rollback()
            run._finish(client, error=exc)
            events.filtered(lambda event: event.state == 'pending')._qbo_close(
                'failed', plain_words(self.env, exc), run)
            self._qbo_mark_needs_reconnect(exc)
        except Exception as exc:  # noqa: BLE001 - the run ends with a reason, never a traceback
            self._qbo_rollback()
            if not isinstance(exc, (QBOError, UserError)):
                _logger.exception('QuickBooks: webhook run %s of connection %s failed', run.id, self.id)
            run._finish(client, error=exc)
            events.filtered(lambda event: event.state == 'pending')._qbo_close(
                'failed', plain_words(self.env, exc), run)
        else:
            run._finish(client)
        self._qbo_commit()

    def _qbo_import_notified(self, models_, work, run, client, cache):
        """Read the notified records of one entity once, then import them into each model that keeps it.

        A record QBO no longer returns after a Delete or a Merge comes in as the change feed's
        tombstone; the merges are handed to each model first, so it can move what pointed at the
        merged-away record before that one is archived.
        """
        objects = models_[0]._qbo_query_ids(client, work.fetch_ids)
        objects += qbo_webhook.tombstones(work.gone_ids, objects)
        for model in models_:
            if work.merges:
                model._qbo_apply_merges(self, run, work.merges)
            accepts = getattr(model, '_qbo_accepts', None)
            mine = [obj for obj in objects if accepts is None or accepts(obj)
                    or (isinstance(obj, dict) and obj.get('status') == 'Deleted')]
            model._qbo_import_changes(self, run, client, mine, cache)

    def _qbo_webhook_models(self):
        """Return {QBO entity: [mapped models]} of what this connection pulls from QuickBooks now.

        Lists are always pulled (QuickBooks owns them); the catalog, customers and vendors only when
        their direction brings QuickBooks' changes in. Tax codes and rates are not notified (they are polled).
        """
        self.ensure_one()
        company = self.company_id
        by_entity = {}
        for name in self._qbo_mapped_models():
            model = self.env[name].sudo().with_company(company)
            if not model._qbo_entity or not model._qbo_in_cdc or not self._qbo_pulls(name):
                continue
            by_entity.setdefault(model._qbo_entity, []).append(model)
        return by_entity

    def _qbo_pulls(self, model_name):
        """Return True if this connection brings QuickBooks' changes of ``model_name`` into Odoo."""
        direction = self.env[model_name]._qbo_direction_field
        return not direction or self[direction] in ('both', 'qbo2odoo')
