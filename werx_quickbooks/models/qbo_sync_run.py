# Part of werx_quickbooks. License LGPL-3.
import datetime
import logging

import psycopg2
from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.exceptions import ValidationError as OdooValidationError

from ..qbo.errors import QBOError

_logger = logging.getLogger(__name__)

COUNTERS = ('total', 'done', 'created', 'updated', 'matched', 'unmatched', 'skipped', 'failed')
RETENTION_PARAM = 'werx_quickbooks.log_retention_days'
RETENTION_DEFAULT = 90  # days the runs and closed failures are kept


def plain_words(env, error):
    """Return a sentence for a bookkeeper about ``error`` (never a traceback, never a token)."""
    if isinstance(error, QBOError):
        return error.in_words(env._)
    if isinstance(error, (UserError, OdooValidationError)):
        return str(error.args[0]) if error.args else env._('Odoo refused the change.')
    # Anything else is a fault of Odoo's or ours: its text may hold SQL or values, so the user
    # reads what happened and the log keeps the details.
    _logger.info('QuickBooks: unexpected error shown to the user in words: %r', error)
    if isinstance(error, psycopg2.Error):
        return env._('The database refused this record (a %s); nothing of it was saved. The server log has '
                     'the details.', type(error).__name__)
    return env._('Odoo could not process this record (an unexpected %s); nothing of it was saved. The '
                 'server log has the details.', type(error).__name__)


def retention_limit(env):
    """Return the time before which the add-on's logs are removed, or None to keep them all (Settings)."""
    days = int(env['ir.config_parameter'].sudo().get_param(RETENTION_PARAM, RETENTION_DEFAULT) or 0)
    return fields.Datetime.now() - datetime.timedelta(days=days) if days > 0 else None


class QBOSyncRun(models.Model):
    """One sync of a connection: when, why, how far it got, and what failed."""

    _name = 'qbo.sync.run'
    _description = 'QuickBooks Sync Run'
    _order = 'started_at desc, id desc'
    _rec_name = 'started_at'

    connection_id = fields.Many2one('qbo.connection', required=True, ondelete='cascade', index=True,
                                    readonly=True)
    company_id = fields.Many2one(related='connection_id.company_id', store=True, index=True)
    trigger = fields.Selection(
        [('initial', 'Initial import'), ('manual', 'Sync button'), ('cron', 'Scheduled'),
         ('webhook', 'QuickBooks notification')],
        required=True, default='manual', readonly=True)
    state = fields.Selection(
        [('running', 'Running'), ('done', 'Done'), ('partial', 'Done with failures'), ('failed', 'Failed')],
        required=True, default='running', readonly=True)
    started_at = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True)
    ended_at = fields.Datetime(readonly=True)
    duration = fields.Float('Duration (s)', compute='_compute_duration', store=True, digits=(16, 1))
    api_calls = fields.Integer('Calls to QuickBooks', readonly=True)
    throttled_waits = fields.Integer(
        'Waits for QuickBooks', readonly=True,
        help='Times QuickBooks answered "too many requests" and the sync waited before going on.')
    message = fields.Text('What Happened', readonly=True,
                          help='Why the run failed, in plain words; empty when it went through.')
    summary = fields.Char(compute='_compute_summary')
    stat_ids = fields.One2many('qbo.sync.run.stat', 'run_id', string='Counts', readonly=True)
    failure_ids = fields.One2many('qbo.sync.failure', 'run_id', string='Failures', readonly=True)
    failure_count = fields.Integer(compute='_compute_failure_count')
    change_ids = fields.One2many('qbo.sync.change', 'run_id', string='Changes from QuickBooks', readonly=True)

    # === COMPUTE METHODS === #

    @api.depends('started_at', 'ended_at')
    def _compute_duration(self):
        for run in self:
            if run.started_at and run.ended_at:
                run.duration = (run.ended_at - run.started_at).total_seconds()
            else:
                run.duration = 0.0

    @api.depends('failure_ids')
    def _compute_failure_count(self):
        for run in self:
            run.failure_count = len(run.failure_ids)

    @api.depends('state', 'message', 'stat_ids.done', 'stat_ids.failed', 'failure_ids')
    def _compute_summary(self):
        for run in self:
            run.summary = run._summary()

    def _summary(self):
        self.ensure_one()
        done = sum(self.stat_ids.mapped('done'))
        failed = sum(self.stat_ids.mapped('failed')) or len(self.failure_ids)
        if self.state == 'running':
            return self.env._('Running since %s.', fields.Datetime.to_string(self.started_at))
        if self.state == 'failed':
            return self.env._('Failed: %s', self.message or self.env._('no reason recorded.'))
        if self.state == 'partial':
            return self.env._('%(done)s records synced, %(failed)s could not be synced (see the Log tab).',
                              done=done, failed=failed)
        changed = sum(sum(self.stat_ids.mapped(name))
                      for name in ('created', 'updated', 'matched', 'unmatched'))
        if not changed:
            return self.env._('No changes (%s records checked).', done) if done else self.env._('No changes.')
        return self.env._('%s records synced.', done)

    # === BUSINESS METHODS === #

    def _stat(self, entity, label=None):
        """Return the count line of ``entity`` for this run, made on first use."""
        self.ensure_one()
        stat = self.stat_ids.filtered(lambda s: s.entity == entity)[:1]
        if not stat:
            stat = self.env['qbo.sync.run.stat'].create(
                {'run_id': self.id, 'entity': entity, 'label': label or entity})
        elif label and stat.label != label:
            stat.label = label
        return stat

    def _count(self, entity, label=None, **increments):
        """Add ``increments`` to the counts of ``entity``.

        Counters: done, created, updated, matched, unmatched, skipped, failed (and total).
        """
        unknown = set(increments) - set(COUNTERS)
        if unknown:
            raise ValueError('Unknown sync counters: %s' % ', '.join(sorted(unknown)))
        stat = self._stat(entity, label)
        stat.write({name: stat[name] + value for name, value in increments.items() if value})
        return stat

    def _set_total(self, entity, total, label=None):
        """Set how many ``entity`` records this run has to go through (for progress)."""
        stat = self._stat(entity, label)
        stat.total = total
        return stat

    def _log_failure(self, entity, qbo_id, record_name, error, mapped_model=None):
        """Record one record that could not be synced, in plain words, and count it as failed.

        A record that keeps failing has one open failure, which moves to the latest run and
        counts how often it was seen, not a new line every run.
        """
        self.ensure_one()
        Failure = self.env['qbo.sync.failure']
        values = {
            'run_id': self.id,
            'record_name': record_name or False,
            'message': plain_words(self.env, error),
            'qbo_code': getattr(error, 'code', None) or False,
            'qbo_detail': getattr(error, 'detail', None) or False,
            'last_seen_at': fields.Datetime.now(),
        }
        # Known by its Id; a record QuickBooks sent without one, by its name.
        same = ([('qbo_id', '=', qbo_id)] if qbo_id
                else [('qbo_id', '=', False), ('record_name', '=', record_name)])
        failure = Failure.search([
            ('connection_id', '=', self.connection_id.id), ('entity', '=', entity),
            ('mapped_model', '=', mapped_model or False), ('state', 'in', ('open', 'queued'))] + same,
            limit=1) if qbo_id or record_name else Failure
        if failure:
            failure.write(dict(values, occurrences=failure.occurrences + 1, state='open'))
        else:
            failure = Failure.create(dict(values, connection_id=self.connection_id.id, entity=entity,
                                          qbo_id=qbo_id or False, mapped_model=mapped_model or False))
        self._count(entity, failed=1)
        return failure

    @api.autovacuum
    def _gc_old_runs(self):
        """Remove runs and closed failures older than the retention (Settings; 90 days by default)."""
        limit = retention_limit(self.env)
        if not limit:
            return
        self.env['qbo.sync.failure'].sudo().search(
            [('state', 'in', ('retried', 'resolved')), ('last_seen_at', '<', limit)]).unlink()
        # A run still holding an open failure stays: the failure is what the user must see.
        old = self.sudo().search([('started_at', '<', limit), ('state', '!=', 'running'),
                                  ('failure_ids', '=', False)])
        old -= self.env['qbo.connection'].sudo().with_context(active_test=False).search(
            [('last_sync_run_id', 'in', old.ids)]).last_sync_run_id
        old.unlink()

    def _finish(self, client=None, error=None):
        """Close the run: state from ``error`` and the failures, API counters from ``client``."""
        self.ensure_one()
        values = {'ended_at': fields.Datetime.now()}
        if client is not None:
            values['api_calls'] = getattr(client, 'api_calls', 0) or 0
            values['throttled_waits'] = getattr(client, 'throttled_waits', 0) or 0
        if error is not None:
            values.update(state='failed', message=plain_words(self.env, error))
        elif self.failure_ids or any(self.stat_ids.mapped('failed')):
            values['state'] = 'partial'
        else:
            values['state'] = 'done'
        self.write(values)

    @api.model
    def _fail_interrupted(self, connection):
        """Mark the runs of ``connection`` still 'running' as failed.

        Call it only while holding the connection's sync lock: then no run of it is alive.
        """
        stale = self.search([('connection_id', '=', connection.id), ('state', '=', 'running')])
        if stale:
            stale.write({
                'state': 'failed',
                'ended_at': fields.Datetime.now(),
                'message': self.env._('The sync stopped before it finished (the server may have restarted). '
                                      'What it had saved is kept; the next run goes on from there.'),
            })
        return stale


class QBOSyncRunStat(models.Model):
    """How many records of one QuickBooks entity a run went through, and what became of them."""

    _name = 'qbo.sync.run.stat'
    _description = 'QuickBooks Sync Run Count'
    _order = 'id'

    run_id = fields.Many2one('qbo.sync.run', required=True, ondelete='cascade', index=True)
    company_id = fields.Many2one(related='run_id.company_id', store=True)
    entity = fields.Char('QuickBooks Entity', required=True, help="QuickBooks entity name, e.g. 'Account'.")
    label = fields.Char('List', help="What the user calls it, e.g. 'Chart of Accounts'.")
    total = fields.Integer()
    done = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    matched = fields.Integer()
    unmatched = fields.Integer('To Review')
    skipped = fields.Integer('Unchanged')
    failed = fields.Integer()

    _sql_constraints = [
        ('run_entity_unique', 'unique(run_id, entity)', 'One count line per entity and run.'),
    ]


class QBOSyncLogMixin(models.AbstractModel):
    """What every line of a run's log says: which run, company and QuickBooks record."""

    _name = 'qbo.sync.log.mixin'
    _description = 'QuickBooks sync log line'
    _order = 'id desc'
    _rec_name = 'record_name'

    run_id = fields.Many2one('qbo.sync.run', required=True, ondelete='cascade', index=True, readonly=True)
    connection_id = fields.Many2one('qbo.connection', required=True, ondelete='cascade', index=True,
                                    readonly=True)
    company_id = fields.Many2one(related='connection_id.company_id', store=True, index=True)
    entity = fields.Char('QuickBooks Entity', readonly=True)
    qbo_id = fields.Char('QuickBooks ID', readonly=True)
    record_name = fields.Char('Record', readonly=True)


class QBOSyncFailure(models.Model):
    """A record a run could not sync: what, why in plain words, QuickBooks' own fault, and Retry."""

    _name = 'qbo.sync.failure'
    _inherit = 'qbo.sync.log.mixin'
    _description = 'QuickBooks Sync Failure'

    list_label = fields.Char('List', compute='_compute_list_label',
                             help="The list the record belongs to, as the connection's tabs name it.")
    message = fields.Text('Why', readonly=True)
    qbo_code = fields.Char('QuickBooks Code', readonly=True)
    qbo_detail = fields.Text('QuickBooks Detail', readonly=True)
    mapped_model = fields.Char('Odoo Model', readonly=True)
    occurrences = fields.Integer('Times Seen', default=1, readonly=True,
                                 help='How many syncs met this failure; it stays one line until solved.')
    last_seen_at = fields.Datetime('Last Seen', default=fields.Datetime.now, readonly=True)
    state = fields.Selection([('open', 'Open'), ('queued', 'Retry Queued'), ('retried', 'Retried'),
                              ('resolved', 'Resolved')],
                             required=True, default='open', readonly=True)

    @api.depends('entity', 'mapped_model')
    def _compute_list_label(self):
        for failure in self:
            model = self.env.get(failure.mapped_model)
            failure.list_label = getattr(model, '_qbo_label', None) or failure.entity

    def _qbo_request_failed(self, message):
        """Hand queued retries back to the user with the reason they could not run."""
        self.filtered(lambda failure: failure.state == 'queued').write({'state': 'open', 'message': message})

    def action_retry(self):
        """Queue the failed records for another try in a background worker (the mapped model knows how)."""
        self.env['qbo.connection']._qbo_check_admin()
        if any(not failure.mapped_model or failure.mapped_model not in self.env for failure in self):
            raise UserError(self.env._('This failure cannot be retried from here; run a sync instead.'))
        self.filtered(lambda failure: failure.state == 'open').write({'state': 'queued'})
        self.env.ref('werx_quickbooks.ir_cron_qbo_requested').sudo()._trigger()
        return self.env['qbo.connection']._qbo_notification(self.env._(
            'Retry started: the records are read from QuickBooks again in the background; the log shows '
            'how it went.'))


class QBOSyncChange(models.Model):
    """An Odoo value a run replaced with QuickBooks' (or left, and why): the previous value stays here."""

    _name = 'qbo.sync.change'
    _inherit = 'qbo.sync.log.mixin'
    _description = 'QuickBooks Change Applied to Odoo'

    odoo_record = fields.Reference(selection='_selection_odoo_record', readonly=True)
    field_label = fields.Char('Field', readonly=True)
    old_value = fields.Char('Odoo Value Before', readonly=True)
    new_value = fields.Char('QuickBooks Value', readonly=True)
    @api.model
    def _selection_odoo_record(self):
        # The Odoo models the mapped lists stand for, and the ones their values come with.
        mapped = [self.env[name]._fields[self.env[name]._qbo_odoo_field].comodel_name
                  for name in self.env['qbo.connection']._qbo_mapped_models()]
        models_ = dict.fromkeys(mapped + ['account.tax.group', 'account.payment.method.line'])
        return [(name, self.env[name]._description) for name in models_]

    applied = fields.Boolean(readonly=True, help='Not applied: the change waits for review, or the Odoo '
                                                 'record is shared with other companies.')
