# Part of werx_quickbooks. License LGPL-3.
import datetime
import threading
import time
from unittest.mock import patch

from odoo import fields, sql_db
from odoo.exceptions import UserError
from odoo.tests import tagged

from ..models.qbo_connection import SYNC_LOCK_SPACE
from ..models.qbo_rate_limit import SharedRateLimiter
from ..qbo import const
from ..qbo.errors import DuplicateName
from .common import QBOEmulatorCase


@tagged('post_install', '-at_install')
class TestSyncRun(QBOEmulatorCase):
    """The sync entry points: one run record per sync, one run per connection at a time."""

    def _sync_with(self, hook, trigger='manual'):
        with patch.object(type(self.connection), '_sync_qbo2odoo', hook):
            return self.in_worker(self.connection, '_sync', trigger)

    def test_sync_button_records_a_run_with_counts_and_api_calls(self):
        def import_accounts(connection, run, client):
            for page in client.query_pages('Account', include_inactive=True):
                run._set_total('Account', len(page), label='Chart of Accounts')
                run._count('Account', label='Chart of Accounts', done=len(page), created=len(page))

        cron = self.env.ref('werx_quickbooks.ir_cron_qbo_requested')
        Trigger = self.env['ir.cron.trigger']
        triggers = Trigger.search_count([('cron_id', '=', cron.id)])
        runs = self.env['qbo.sync.run'].search_count([])
        with patch.object(type(self.connection), '_sync_qbo2odoo', import_accounts):
            action = self.connection.action_sync()
            self.assertEqual(action['params']['type'], 'success')
            self.assertEqual(self.env['qbo.sync.run'].search_count([]), runs, 'nothing runs in the request')
            self.assertEqual(Trigger.search_count([('cron_id', '=', cron.id)]), triggers + 1)
            again = self.connection.action_sync()
            self.assertEqual(again['params']['type'], 'info', 'pressed twice: still one run')
            self.assertEqual(Trigger.search_count([('cron_id', '=', cron.id)]), triggers + 1)
            self.assertTrue(self.connection.is_sync_running)
            self.in_worker(self.env['qbo.connection'], '_cron_run_requested')
        self.assertEqual(self.env['qbo.sync.run'].search_count([]), runs + 1)
        self.assertFalse(self.connection.sync_requested_at)
        run = self.connection.last_sync_run_id
        self.assertEqual(run.trigger, 'manual')
        self.assertEqual(run.state, 'done')
        self.assertTrue(run.started_at and run.ended_at)
        self.assertGreaterEqual(run.api_calls, 1)
        stat = run.stat_ids
        self.assertEqual(stat.label, 'Chart of Accounts')
        accounts = len(self.emulator.store.all(self.emulator.realm_id, 'Account'))
        self.assertEqual((stat.total, stat.done, stat.created), (accounts, accounts, accounts))
        self.assertEqual(self.connection.last_sync_at, run.ended_at)
        self.assertIn(str(accounts), self.connection.last_sync_result)

    def test_a_failed_record_makes_a_partial_run_with_the_reason_in_words(self):
        def import_customers(connection, run, client):
            run._count('Customer', done=2)
            run._log_failure('Customer', '58', 'Acme', DuplicateName(name='Acme', code='6240',
                                                                     detail='Duplicate Name Exists Error'),
                             'res.partner')

        run = self._sync_with(import_customers)
        self.assertEqual(run.state, 'partial')
        failure = run.failure_ids
        self.assertEqual(failure.message,
                         "QuickBooks already has a record named 'Acme'; link it or rename this one.")
        self.assertEqual((failure.qbo_code, failure.qbo_id, failure.state), ('6240', '58', 'open'))
        self.assertEqual(run.stat_ids.failed, 1)
        self.assertIn(failure, self.connection.sync_failure_ids)

    def test_an_unexpected_error_fails_the_run_in_words_not_a_traceback(self):
        def broken(connection, run, client):
            raise KeyError('AcctNum')

        with self.assertLogs('odoo.addons.werx_quickbooks.models.qbo_connection', level='ERROR'):
            run = self._sync_with(broken, trigger='cron')
        self.assertEqual((run.trigger, run.state), ('cron', 'failed'))
        self.assertIn('KeyError', run.message)
        self.assertNotIn('Traceback', run.message)
        self.assertNotIn('AcctNum', run.message, 'values stay in the server log')
        self.assertIn('Failed', self.connection.last_sync_result)

    def test_a_second_sync_while_one_runs_is_refused(self):
        # Another worker holds the connection's sync lock (a real, separate database session).
        other = sql_db.db_connect(self.env.cr.dbname).cursor()
        try:
            other.execute('SELECT pg_advisory_lock(%s, %s)', [SYNC_LOCK_SPACE, self.connection.id])
            runs_before = self.env['qbo.sync.run'].search_count([])
            with self.assertRaisesRegex(UserError, 'already running'):
                self.in_worker(self.connection, '_sync', 'manual')
            self.assertEqual(self.env['qbo.sync.run'].search_count([]), runs_before)
        finally:
            other.execute('SELECT pg_advisory_unlock(%s, %s)', [SYNC_LOCK_SPACE, self.connection.id])
            other.close()
        # Once the other run ends, syncing works again.
        self.assertEqual(self._sync_with(lambda connection, run, client: None).state, 'done')

    def test_a_run_cut_short_is_marked_failed_by_the_next_one(self):
        crashed = self.env['qbo.sync.run'].create({
            'connection_id': self.connection.id, 'trigger': 'cron',
            'started_at': fields.Datetime.now() - datetime.timedelta(hours=3),
        })
        self._sync_with(lambda connection, run, client: None)
        self.assertEqual(crashed.state, 'failed')
        self.assertIn('stopped before it finished', crashed.message)

    def test_sync_of_a_disconnected_company_is_refused(self):
        self.connection.action_disconnect()
        with self.assertRaisesRegex(UserError, 'Reconnect'):
            self.in_worker(self.connection, '_sync', 'manual')

    def test_scheduled_sync_runs_every_connected_company(self):
        self.connection.initial_import_state = 'done'
        with patch.object(type(self.connection), '_sync_qbo2odoo', lambda connection, run, client: None):
            self.in_worker(self.env['qbo.connection'], '_cron_sync')
        self.assertEqual(self.connection.last_sync_run_id.trigger, 'cron')
        cron = self.env.ref('werx_quickbooks.ir_cron_qbo_sync')
        self.assertEqual((cron.interval_number, cron.interval_type), (15, 'minutes'))

    def test_initial_import_runs_in_the_background_after_connecting(self):
        cron = self.env.ref('werx_quickbooks.ir_cron_qbo_initial_import')
        triggers = self.env['ir.cron.trigger'].search_count([('cron_id', '=', cron.id)])
        self.connection._start_initial_import()
        self.assertEqual(self.connection.initial_import_state, 'pending')
        self.assertEqual(self.env['ir.cron.trigger'].search_count([('cron_id', '=', cron.id)]), triggers + 1)
        seen = []
        with patch.object(type(self.connection), '_sync_qbo2odoo',
                          lambda connection, run, client: seen.append(run.trigger)):
            self.in_worker(self.env['qbo.connection'], '_cron_initial_import')
        self.assertEqual(seen, ['initial'])
        self.assertEqual(self.connection.initial_import_state, 'done')

    def test_sync_button_runs_a_pending_initial_import(self):
        self.connection.initial_import_state = 'pending'
        seen = []
        with patch.object(type(self.connection), '_sync_qbo2odoo',
                          lambda connection, run, client: seen.append(run.trigger)):
            self.connection.action_sync()
            self.in_worker(self.env['qbo.connection'], '_cron_run_requested')
            self.assertEqual(seen, ['initial'])
            self.assertEqual(self.connection.initial_import_state, 'done')
            self.connection.action_sync()
            self.in_worker(self.env['qbo.connection'], '_cron_run_requested')
        self.assertEqual(seen, ['initial', 'manual'])


@tagged('post_install', '-at_install')
class TestSyncRecovery(QBOEmulatorCase):
    """What a crash leaves behind is finished or failed in words by the next background pass."""

    def test_a_run_and_an_import_left_running_are_closed_by_the_next_cron_pass(self):
        crashed = self.env['qbo.sync.run'].create({'connection_id': self.connection.id, 'trigger': 'initial'})
        self.connection.initial_import_state = 'running'
        cron = self.env.ref('werx_quickbooks.ir_cron_qbo_initial_import')
        triggers = self.env['ir.cron.trigger'].search_count([('cron_id', '=', cron.id)])
        with patch.object(type(self.connection), '_sync_qbo2odoo', lambda connection, run, client: None):
            self.in_worker(self.env['qbo.connection'], '_cron_sync')
        self.assertEqual(crashed.state, 'failed')
        self.assertIn('stopped before it finished', crashed.message)
        self.assertEqual(self.connection.initial_import_state, 'pending', 'the import starts again')
        self.assertEqual(self.env['ir.cron.trigger'].search_count([('cron_id', '=', cron.id)]), triggers + 1)

    def test_a_worker_killed_halfway_keeps_its_committed_pages_and_the_next_pass_finishes(self):
        # The real commit path: the import commits page by page on the worker's own cursor; the
        # worker dies in its third page of classes (as a killed process does: no except runs).
        class WorkerKilled(BaseException):
            pass
        classes = self.emulator.store.all(self.emulator.realm_id, 'Class')
        doomed = sorted(classes, key=lambda c: int(c['Id']))[4]['Id']
        Class = type(self.env['qbo.class'])
        original = Class._qbo_map

        def dies(model, obj, state):
            if obj.get('Id') == doomed:
                raise WorkerKilled()
            return original(model, obj, state)
        self.connection.initial_import_state = 'pending'
        killed = False
        # Not assertRaises: Odoo's version rolls the test's data back to before the block.
        with patch.object(const, 'PAGE_SIZE', 2), patch.object(Class, '_qbo_map', dies):
            try:
                self.in_worker(self.connection, '_sync_initial_import')
            except WorkerKilled:
                killed = True
        self.assertTrue(killed)
        mapped = self.env['qbo.class'].search([('connection_id', '=', self.connection.id)])
        self.assertEqual(len(mapped), 4, 'the two pages committed before the crash stay; the third is gone')
        crashed = self.env['qbo.sync.run'].search([('connection_id', '=', self.connection.id)])
        self.assertEqual((crashed.state, self.connection.initial_import_state), ('running', 'running'))

        self.in_worker(self.env['qbo.connection'], '_cron_sync')   # the next pass of any cron
        self.assertEqual(crashed.state, 'failed')
        self.assertIn('stopped before it finished', crashed.message)
        self.assertEqual(self.connection.initial_import_state, 'pending')
        self.in_worker(self.env['qbo.connection'], '_cron_initial_import')
        self.assertEqual(self.connection.initial_import_state, 'done')
        mapped = self.env['qbo.class'].with_context(active_test=False).search(
            [('connection_id', '=', self.connection.id)])
        self.assertEqual(sorted(mapped.mapped('qbo_id')), sorted(c['Id'] for c in classes),
                         'every class once: nothing lost, nothing twice')
        self.assertEqual(len(mapped.analytic_account_id), len(classes))

    def test_a_run_alive_in_another_worker_is_left_alone(self):
        alive = self.env['qbo.sync.run'].create({'connection_id': self.connection.id, 'trigger': 'cron'})
        other = sql_db.db_connect(self.env.cr.dbname).cursor()
        try:
            other.execute('SELECT pg_advisory_lock(%s, %s)', [SYNC_LOCK_SPACE, self.connection.id])
            self.in_worker(self.env['qbo.connection'], '_qbo_recover_interrupted')
            self.assertEqual(alive.state, 'running')
            with self.assertRaisesRegex(UserError, 'wait until it ends'):
                self.connection.action_disconnect()
            self.assertEqual(self.connection.state, 'connected', 'a running sync is never cut off')
        finally:
            other.execute('SELECT pg_advisory_unlock(%s, %s)', [SYNC_LOCK_SPACE, self.connection.id])
            other.close()

    def test_one_company_failing_never_stops_the_others(self):
        other_company = self.env['res.company'].create({'name': 'Second Co'})
        realm = self.emulator.add_company(seed='empty', name='Second QuickBooks')
        second = self._make_connection(company=other_company, realm_id=realm)
        (self.connection | second).sudo().write({'initial_import_state': 'done'})
        seen = []

        def flaky(connection, run, client):
            if connection == self.connection:
                raise ZeroDivisionError('boom')
            seen.append(connection.id)
        with patch.object(type(self.connection), '_sync_qbo2odoo', flaky), \
                self.assertLogs('odoo.addons.werx_quickbooks.models.qbo_connection', level='ERROR'):
            self.in_worker(self.env['qbo.connection'], '_cron_sync')
        self.assertEqual(seen, [second.id])
        self.assertEqual(self.connection.last_sync_run_id.state, 'failed')
        self.assertIn('ZeroDivisionError', self.connection.last_sync_run_id.message)


@tagged('post_install', '-at_install')
class TestSharedRateLimit(QBOEmulatorCase):
    """QBO's limits are per company, whatever the number of Odoo workers sending."""

    def test_workers_together_stay_under_the_per_second_limit(self):
        # Three workers, each with its own limiter and database session (as three Odoo
        # processes have), send 24 requests to one company as fast as they may.
        realm = 'rate-test-%s' % self.connection.id
        limit, workers, each = 8, 3, 8
        sent, lock = [], threading.Lock()

        def worker():
            limiter = SharedRateLimiter(self.env.cr.dbname, realm, windows=((1.0, limit, False),))
            for _ in range(each):
                limiter.acquire()
                with lock:
                    sent.append(time.monotonic())
        threads = [threading.Thread(target=worker) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        self.assertEqual(len(sent), workers * each)
        sent.sort()
        # Any second holds at most the limit (a little slack for the time between slot and append).
        worst = max(sum(1 for t in sent if start <= t < start + 0.95) for start in sent)
        self.assertLessEqual(worst, limit)
        self.assertGreaterEqual(sent[-1] - sent[0], (workers * each) / limit - 1.1,
                                'together they waited as one client would')
