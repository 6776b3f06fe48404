# Part of werx_quickbooks. License LGPL-3.
"""QuickBooks webhooks: the notifications Intuit posts are stored, then a cron worker fetches what changed.

The web request only checks the signature and stores the events (each once, by its event id);
the worker reads each changed record once per entity and imports it the way the change feed
does. The scheduled change feed still runs and catches whatever a lost notification missed:
webhooks never move a cursor.
"""

import collections
import datetime
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..qbo import webhook as qbo_webhook
from ..qbo.errors import NeedsReconnect, QBOError, TransientError
from .qbo_sync_run import plain_words, retention_limit

_logger = logging.getLogger(__name__)

WEBHOOK_PATH = '/werx_quickbooks/webhook'

# Events one pass of the worker takes per connection; more wait for the next pass (triggered at once).
EVENTS_PER_PASS = 5000
# A busy connection (a sync or the initial import runs) is looked at again this much later.
BUSY_RETRY = datetime.timedelta(seconds=30)
# QuickBooks down, throttling or the sign-in refused: the events wait this long before each new try,
# and are given up (failed, with the reason) after the last one. The change feed still catches the
# updates; only merges exist nowhere else, so those of a disconnected company wait for the reconnect.
RETRY_DELAYS = (datetime.timedelta(minutes=1), datetime.timedelta(minutes=5), datetime.timedelta(minutes=15),
                datetime.timedelta(hours=1))
MAX_TRIES = len(RETRY_DELAYS) + 1

# What the import of one entity's notifications came to: whether its records were imported (the
# group pulls), and the merged-away Ids QuickBooks still returns (those merges were not followed).
WebhookOutcome = collections.namedtuple('WebhookOutcome', 'imported unconfirmed_merges')

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
    tries = fields.Integer(readonly=True, help='How often fetching it failed for a passing reason.')
    next_try_at = fields.Datetime('Next Try', readonly=True, index=True)
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
        if not configured:
            # The same HMAC work as with a token, so the answer's timing says nothing of the setup.
            qbo_webhook.verify_signature(body, signature, 'no verifier token configured')
        if not signers:
            # Anyone can post here: a warning per refused post would let them fill the log.
            _logger.info('QuickBooks webhook refused: the signature matches no verifier token%s',
                         '' if signature else ' (no intuit-signature header)')
            return 401, 'signature does not match'
        try:
            changes, skipped = qbo_webhook.read_notifications(body)
        except qbo_webhook.WebhookError as error:
            _logger.warning('QuickBooks webhook refused: %s', error.detail)
            return 400, 'notification not read: %s' % error.detail
        for reason in skipped:
            # Signed by Intuit, yet not readable: the other events are kept, this one is worth a look.
            _logger.warning('QuickBooks webhook: an event was skipped: %s', reason)
        kept = self._qbo_worth_keeping(changes)
        by_realm = qbo_webhook.by_realm(kept)
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
        # Insert only: the connection row is not written (Last Notification is read from the events),
        # so two deliveries at once never collide on it.
        stored = self._qbo_store(rows)
        if stored:
            self.env.ref('werx_quickbooks.ir_cron_qbo_webhook').sudo()._trigger()
        return 200, 'ok: %d new of %d events' % (sum(stored.values()), len(changes) + len(skipped))

    @api.model
    def _qbo_worth_keeping(self, changes):
        """Return the changes the worker would act on: of an entity the add-on syncs, not from before the log.

        Invoices, payments … are acknowledged (so Intuit stops sending them) and not stored. A change
        older than the retention is a replay of one whose stored copy was already removed.
        """
        Connection = self.env['qbo.connection']
        synced = {self.env[name]._qbo_entity for name in Connection._qbo_mapped_models()}
        oldest = retention_limit(self.env)
        kept = []
        for change in changes:
            if change.entity not in synced:
                continue
            when = qbo_webhook.changed_at(change)
            if oldest and when and when < oldest:
                _logger.info('QuickBooks webhook: %s %s %s of %s is older than the log retention; '
                             'taken for a replay and not kept', change.entity, change.qbo_id,
                             change.operation, change.last_updated)
                continue
            kept.append(change)
        return kept

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
        self.write({'state': state, 'note': note, 'run_id': run.id if run else False, 'next_try_at': False})

    def _qbo_close_as(self, outcome, run):
        """Close one entity's events after its import, as ``outcome`` (a WebhookOutcome) says."""
        rejected = self.filtered(lambda event: event.operation == 'Merge'
                                 and event.deleted_qbo_id in outcome.unconfirmed_merges)
        rejected._qbo_close('ignored', self.env._(
            'Not followed: QuickBooks still has the record this merge says it removed.'), run)
        rest = self - rejected
        if not outcome.imported:
            # The group only sends Odoo's changes: its merges kept the links right, nothing was imported.
            merges = rest.filtered(lambda event: event.operation == 'Merge')
            merges._qbo_close('done', False, run)
            (rest - merges)._qbo_close('ignored', self.env._(
                'Not imported: Odoo only sends its own changes of these to QuickBooks (Defaults tab).'), run)
        else:
            rest._qbo_close('done', False, run)

    def _qbo_defer(self, reason, run=None):
        """Leave the events waiting for a later try after a passing failure; give up after MAX_TRIES.

        Return the time of the earliest next try (None when every event was given up).
        """
        now = fields.Datetime.now()
        first = None
        for tried, events in self.grouped('tries').items():
            tries = tried + 1
            values = {'tries': tries, 'run_id': run.id} if run else {'tries': tries}
            if tries >= MAX_TRIES:
                events.write(dict(values, state='failed', next_try_at=False, note=self.env._(
                    'Given up after %(tries)s tries: %(reason)s', tries=tries, reason=reason)))
                continue
            when = now + RETRY_DELAYS[tries - 1]
            first = min(first or when, when)
            events.write(dict(values, next_try_at=when, note=self.env._(
                'Will be tried again (try %(next)s of %(max)s): %(reason)s',
                next=tries + 1, max=MAX_TRIES, reason=reason)))
        return first

    @api.model
    def _qbo_due_domain(self):
        """Return the domain of the events waiting for the worker now (not those told to wait longer)."""
        return [('state', '=', 'pending'), '|', ('next_try_at', '=', False),
                ('next_try_at', '<=', fields.Datetime.now())]

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
        'Last Notification', compute='_compute_last_webhook_at',
        help='When QuickBooks last told Odoo about a change of this company (a webhook).')

    def _compute_webhook_url(self):
        base = self.env['ir.config_parameter'].sudo().get_param('web.base.url') or ''
        for connection in self:
            connection.webhook_url = base.rstrip('/') + WEBHOOK_PATH

    def _compute_last_webhook_at(self):
        # Read from the stored events, so a delivery only inserts rows and never writes (nor waits
        # on) the connection's row, which a sync or another delivery may be writing at that moment.
        latest = dict(self.env['qbo.webhook.event'].sudo()._read_group(
            [('connection_id', 'in', self.ids)], ['connection_id'], ['received_at:max']))
        for connection in self:
            connection.last_webhook_at = latest.get(connection._origin) or False

    def _qbo_set_connected(self, realm_id, tokens, company_name):
        res = super()._qbo_set_connected(realm_id, tokens, company_name)
        # Merges waited for the reconnect (nothing else tells of them): fetch them now, not within the hour.
        Event = self.env['qbo.webhook.event'].sudo()
        if Event.search_count([('connection_id', '=', self.id), ('state', '=', 'pending')], limit=1):
            self._qbo_retrigger_webhooks(fields.Datetime.now())
        return res

    # === ACTIONS === #

    def action_open_webhook_events(self):
        """Open the notifications QuickBooks sent for this company, those not fetched first in mind."""
        self.ensure_one()
        return {
            'type': 'ir.actions.act_window',
            'name': self.env._('QuickBooks Notifications'),
            'res_model': 'qbo.webhook.event',
            'view_mode': 'list',
            'domain': [('connection_id', '=', self.id)],
            'context': {'create': False},
        }

    # === CRON === #

    @api.model
    def _cron_webhooks(self):
        """Fetch what the stored notifications say changed (the scheduled action "QuickBooks: webhooks")."""
        Event = self.env['qbo.webhook.event']
        # One row per connection with work due, never every pending event in memory.
        groups = Event._read_group(Event._qbo_due_domain(), ['connection_id'])
        connections = [connection for connection, in groups]
        self._qbo_each(connections, lambda connection: connection._qbo_fetch_notified())

    def _qbo_fetch_notified(self):
        """Fetch and import what this connection's pending notifications name, under its sync lock."""
        self.ensure_one()
        Event = self.env['qbo.webhook.event']
        due = Event._qbo_due_domain() + [('connection_id', '=', self.id)]
        # Notifications of the QuickBooks company this connection used before a switch.
        stale = Event.search(due + [('realm_id', '!=', self.realm_id)], limit=EVENTS_PER_PASS)
        stale._qbo_close('ignored', self.env._(
            'This Odoo company is now linked to another QuickBooks company.'))
        if len(stale) == EVENTS_PER_PASS:
            self._qbo_retrigger_webhooks(fields.Datetime.now())
        if self.state != 'connected':
            # A merge is told by nothing else than its notification: it waits for the reconnect
            # (the cron looks again each hour). The other changes the sync after reconnecting brings in.
            waiting = Event.search(due + [('realm_id', '=', self.realm_id), ('operation', '!=', 'Merge')],
                                   limit=EVENTS_PER_PASS)
            retry_at = waiting._qbo_defer(self.env._('the company is not connected to QuickBooks'))
            if retry_at:
                self._qbo_retrigger_webhooks(retry_at)
            return
        if not Event.search_count(due + [('realm_id', '=', self.realm_id)], limit=1):
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

    def _qbo_retrigger_webhooks(self, at=None):
        """Have the worker look again at ``at`` (default: shortly, for a busy connection)."""
        cron = self.env.ref('werx_quickbooks.ir_cron_qbo_webhook').sudo()
        cron._trigger(at or fields.Datetime.now() + BUSY_RETRY)

    def _qbo_fetch_notified_locked(self):
        Event = self.env['qbo.webhook.event']
        # Read again under the lock: the events another worker handled meanwhile are not pending any more.
        events = Event.search(Event._qbo_due_domain() + [('connection_id', '=', self.id),
                                                         ('realm_id', '=', self.realm_id)],
                              order='id', limit=EVENTS_PER_PASS)
        if not events:
            return
        if len(events) == EVENTS_PER_PASS:
            self._qbo_retrigger_webhooks(fields.Datetime.now())
        Run = self.env['qbo.sync.run']
        Run._fail_interrupted(self)
        run = Run.create({'connection_id': self.id, 'trigger': 'webhook'})
        self._qbo_commit()
        client = None
        by_entity = events.grouped('entity')
        models_by_entity = self._qbo_webhook_models()
        # As the sync: the changes are written for the company, whatever the rights of a user.
        connection = self.sudo().with_company(self.company_id)
        retry_at = []
        try:
            client = self._qbo_client()
            cache = {}
            work_by_entity = qbo_webhook.entity_work(events._qbo_changes())
            for entity in self._qbo_webhook_order(work_by_entity, models_by_entity):
                work, entity_events = work_by_entity[entity], by_entity[entity]
                models_ = models_by_entity.get(entity)
                if not models_:
                    entity_events._qbo_close(
                        'ignored', self.env._('Odoo does not sync these from QuickBooks.'), run)
                    self._qbo_commit()
                    continue
                try:
                    outcome = connection._qbo_import_notified(models_, work, run, client, cache)
                except NeedsReconnect:
                    raise
                except Exception as exc:  # noqa: BLE001 - this entity's events fail in words; the others go on
                    self._qbo_rollback()
                    if not isinstance(exc, (QBOError, UserError)):
                        _logger.exception('QuickBooks: notified %s of connection %s failed', entity, self.id)
                    run._log_failure(entity, None, models_[0]._qbo_label, exc)
                    if isinstance(exc, TransientError):
                        retry_at.append(entity_events._qbo_defer(plain_words(self.env, exc), run))
                    else:
                        entity_events._qbo_close('failed', plain_words(self.env, exc), run)
                else:
                    entity_events._qbo_close_as(outcome, run)
                self._qbo_commit()
        except NeedsReconnect as exc:
            self._qbo_rollback()
            run._finish(client, error=exc)
            retry_at.append(events.filtered(lambda event: event.state == 'pending')._qbo_defer(
                plain_words(self.env, exc), run))
            self._qbo_mark_needs_reconnect(exc)
        except Exception as exc:  # noqa: BLE001 - the run ends with a reason, never a traceback
            self._qbo_rollback()
            if not isinstance(exc, (QBOError, UserError)):
                _logger.exception('QuickBooks: webhook run %s of connection %s failed', run.id, self.id)
            run._finish(client, error=exc)
            left = events.filtered(lambda event: event.state == 'pending')
            if isinstance(exc, TransientError):
                retry_at.append(left._qbo_defer(plain_words(self.env, exc), run))
            else:
                left._qbo_close('failed', plain_words(self.env, exc), run)
        else:
            run._finish(client)
        retry_at = [when for when in retry_at if when]
        if retry_at:
            self._qbo_retrigger_webhooks(min(retry_at))
        self._qbo_commit()

    def _qbo_webhook_order(self, work_by_entity, models_by_entity):
        """Return the notified entities in the sync's order (lists, then customers, then items …).

        A customer names its terms, an item its accounts: what they point at comes in first, as in
        a sync, whatever order the notifications arrived in. Entities Odoo does not sync go last.
        """
        def sequence(entity):
            models_ = models_by_entity.get(entity)
            return min(model._qbo_sync_sequence for model in models_) if models_ else float('inf')
        return sorted(work_by_entity, key=sequence)

    def _qbo_import_notified(self, models_, work, run, client, cache):
        """Read the notified records of one entity once, then import them into each model that pulls it.

        As a sync does, the batches a crash left unanswered are bound first, so the import does not
        take their records for new. A record QBO no longer returns after a Delete or a Merge comes
        in as the change feed's tombstone. Merges QuickBooks confirms (the merged-away record is gone)
        are handed to each model first, even one that only sends Odoo's changes (they only move
        links), so it can move what pointed at the merged-away record before that one is archived.
        Return a WebhookOutcome: whether the entity was imported, and the merges not confirmed.
        """
        for model in models_:
            if hasattr(model, '_qbo_push_work'):
                model._qbo_push_pending(self, run, client)
        pulling = [model for model in models_ if self._qbo_pulls(model._name)]
        ids = work.fetch_ids if pulling else [deleted for deleted, _kept in work.merges]
        objects = models_[0]._qbo_query_ids(client, ids)
        merges = qbo_webhook.confirmed_merges(work.merges, objects)
        unconfirmed = {deleted for deleted, _kept in work.merges} - {deleted for deleted, _kept in merges}
        if unconfirmed:
            _logger.info('QuickBooks webhook: merges of %s %s not followed: QuickBooks still has them',
                         models_[0]._qbo_entity, sorted(unconfirmed))
        objects += qbo_webhook.tombstones(work.gone_ids, objects)
        for model in models_:
            if merges:
                model._qbo_apply_merges(self, run, merges)
        for model in pulling:
            accepts = getattr(model, '_qbo_accepts', None)
            mine = [obj for obj in objects if accepts is None or accepts(obj)
                    or (isinstance(obj, dict) and obj.get('status') == 'Deleted')]
            model._qbo_import_changes(self, run, client, mine, cache)
        return WebhookOutcome(bool(pulling), unconfirmed)

    def _qbo_webhook_models(self):
        """Return {QBO entity: [mapped models]} of what this connection syncs now, in either direction.

        Lists are always pulled (QuickBooks owns them); the catalog, customers and vendors unless
        their direction is off (``_qbo_pulls`` tells which bring QuickBooks' changes in). Tax codes
        and rates are not notified (they are polled).
        """
        self.ensure_one()
        company = self.company_id
        by_entity = {}
        for name in self._qbo_mapped_models():
            model = self.env[name].sudo().with_company(company)
            direction = model._qbo_direction_field
            if not model._qbo_entity or not model._qbo_in_cdc or (direction and self[direction] == 'off'):
                continue
            by_entity.setdefault(model._qbo_entity, []).append(model)
        return by_entity

    def _qbo_pulls(self, model_name):
        """Return True if this connection brings QuickBooks' changes of ``model_name`` into Odoo."""
        direction = self.env[model_name]._qbo_direction_field
        return not direction or self[direction] in ('both', 'qbo2odoo')
