# Part of werx_quickbooks. License LGPL-3.
import datetime
import threading
from unittest.mock import patch

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import AccessError, UserError
from odoo.modules.registry import DummyRLock, Registry
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger
from psycopg2 import IntegrityError

from ..models import qbo_connection as qbo_connection_module
from ..models.qbo_connection import wait_for_lock
from ..qbo import auth as qbo_auth
from ..qbo.errors import NeedsReconnect
from .common import CLIENT_ID, CLIENT_SECRET, QBOEmulatorCase, QBOEmulatorMixin


@tagged('post_install', '-at_install')
class TestConnectTokens(QBOEmulatorCase):
    """Token lifecycle: refresh ahead of expiry under a lock, rotation persisted, invalid_grant."""

    def _expire_access_token(self):
        row = self.connection._qbo_token_row()
        row.expires_at = fields.Datetime.now() - datetime.timedelta(minutes=1)
        self.env.flush_all()
        return row

    def test_refresh_ahead_of_expiry_persists_the_rotated_refresh_token(self):
        row = self._expire_access_token()
        old_refresh = row.refresh_token
        self.emulator.reset_log()
        client = self.connection._qbo_client()
        info = client.company_info()
        self.assertEqual(info['CompanyName'], 'Werx Demo Field Services')
        self.assertEqual(self.emulator.counters['POST token'], 1)
        row.invalidate_recordset()
        self.assertNotEqual(row.refresh_token, old_refresh, 'the rotated refresh token is stored')
        self.assertEqual(row.refresh_token, client.tokens.refresh_token)
        self.assertGreater(row.expires_at, fields.Datetime.now() + datetime.timedelta(minutes=50))
        # The stored token is the valid one: a new client refreshes with it without trouble.
        self._expire_access_token()
        self.connection._qbo_client().company_info()
        self.assertEqual(self.emulator.counters['POST token'], 2)

    def test_a_worker_holding_outdated_tokens_takes_the_refreshed_ones(self):
        self._expire_access_token()
        first = self.connection._qbo_client()
        second = self.connection._qbo_client()   # holds the same, soon outdated, tokens
        self.emulator.reset_log()
        first.company_info()
        second.company_info()
        self.assertEqual(self.emulator.counters['POST token'], 1,
                         'the second worker takes the tokens the first one stored')
        self.assertEqual(first.tokens.refresh_token, second.tokens.refresh_token)
        stored = self.connection._qbo_tokens()
        self.assertEqual(stored.refresh_token, first.tokens.refresh_token)
        # And that one refresh token still works at Intuit.
        fresh = qbo_auth.refresh_tokens(self.connection._qbo_endpoints(), CLIENT_ID, CLIENT_SECRET,
                                        stored.refresh_token)
        self.assertTrue(fresh.access_token)

    def test_invalid_grant_needs_reconnect_and_tells_the_administrators(self):
        row = self._expire_access_token()
        # Spend the stored refresh token behind Odoo's back (as a revoked or stolen app would).
        qbo_auth.refresh_tokens(self.connection._qbo_endpoints(), CLIENT_ID, CLIENT_SECRET, row.refresh_token)
        spent = row.refresh_token
        client = self.connection._qbo_client()
        # Not assertRaises: Odoo's rolls back to a savepoint, and what the refresh committed must stay.
        raised = None
        try:
            client.company_info()
        except NeedsReconnect as exc:
            raised = exc
        self.assertIsInstance(raised, NeedsReconnect, 'QuickBooks must refuse a spent refresh token')
        self.connection.invalidate_recordset()
        self.assertEqual(self.connection.state, 'needs_reconnect')
        self.assertIn('Reconnect', self.connection.connect_message)
        self.assertIn('Reconnect', self.connection.status_message)
        message = self.connection.message_ids.filtered(
            lambda m: 'refused the saved sign-in' in (m.body or ''))
        self.assertTrue(message)
        self.assertIn(self.env.ref('base.user_admin').partner_id, message[:1].partner_ids)
        # Nothing lost: the realm and the (spent) tokens are still there for support.
        self.assertEqual(self.connection.realm_id, self.emulator.realm_id)
        self.assertEqual(self.connection._qbo_token_row().refresh_token, spent)
        # A sync now refuses with the same plain words instead of calling QuickBooks.
        with self.assertRaises(UserError):
            self.in_worker(self.connection, '_sync', 'manual')

    def test_invalid_grant_during_a_sync_fails_the_run_in_words(self):
        row = self._expire_access_token()
        qbo_auth.refresh_tokens(self.connection._qbo_endpoints(), CLIENT_ID, CLIENT_SECRET, row.refresh_token)

        def import_lists(connection, run, client):
            client.company_info()

        with patch.object(type(self.connection), '_sync_qbo2odoo', import_lists):
            run = self.in_worker(self.connection, '_sync', 'cron')
        self.assertEqual(run.state, 'failed')
        self.assertIn('reconnect', run.message)
        self.assertNotIn(row.refresh_token, run.message)
        self.connection.invalidate_recordset()
        self.assertEqual(self.connection.state, 'needs_reconnect')
        told = self.connection.message_ids.filtered(lambda m: 'refused the saved sign-in' in (m.body or ''))
        self.assertEqual(len(told), 1, 'the administrators are told once')


@tagged('post_install', '-at_install')
class TestConnectAccess(QBOEmulatorCase):
    """Who may see what: secrets for Settings administrators only, each company its own connection."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.qbo_user = new_test_user(cls.env, login='qbo_reader', groups='werx_quickbooks.group_qbo_user')
        cls.qbo_admin = new_test_user(cls.env, login='qbo_manager',
                                      groups='werx_quickbooks.group_qbo_admin,account.group_account_manager')

    def test_a_quickbooks_user_reads_the_status_but_not_tokens_or_secret(self):
        connection = self.connection.with_user(self.qbo_user)
        self.assertEqual(connection.read(['state'])[0]['state'], 'connected')
        for secret_field in ('client_secret', 'access_token', 'refresh_token', 'webhook_verifier_token'):
            with self.assertRaises(AccessError, msg=secret_field):
                connection.read([secret_field])
        with self.assertRaises(AccessError):
            self.env['qbo.connection.token'].with_user(self.qbo_user).search([])
        with self.assertRaises(AccessError):
            connection.action_connect()
        with self.assertRaises(AccessError):
            connection.action_sync()

    def test_the_screen_opens_for_users_and_administrators_without_the_secrets(self):
        for user in (self.qbo_user, self.qbo_admin):
            connection = self.connection.with_user(user)
            views = connection.get_views([(False, 'form')])
            fields_on_screen = list(views['models']['qbo.connection']['fields'])
            for secret_field in ('client_secret', 'access_token', 'refresh_token', 'webhook_verifier_token'):
                self.assertNotIn(secret_field, fields_on_screen, user.login)
            values = connection.read(fields_on_screen)[0]
            self.assertEqual(values['state'], 'connected')
            self.assertIn('Connected to Emulated Company', values['status_message'])

    def test_a_quickbooks_administrator_connects_without_seeing_the_secret(self):
        connection = self.connection.with_user(self.qbo_admin)
        with self.assertRaises(AccessError):
            connection.read(['client_secret'])
        with self.assertRaises(AccessError):
            connection.read(['refresh_token'])
        action = connection.action_connect()
        self.assertEqual(action['type'], 'ir.actions.act_url')
        self.assertNotIn(CLIENT_SECRET, action['url'])
        with self.assertRaises(AccessError, msg='a custom address is for Settings administrators'):
            connection.write({'environment': 'custom', 'base_url': 'http://127.0.0.1:1'})

    def test_app_keys_are_locked_under_a_live_connection_and_the_secret_never_stays_in_the_wizard(self):
        Wizard = self.env['qbo.connect.wizard']
        opened = Wizard.with_context(default_connection_id=self.connection.id).default_get(
            ['connection_id', 'environment', 'base_url', 'client_id'])
        self.assertEqual((opened['environment'], opened['base_url']), ('custom', self.emulator.base_url),
                         "the wizard opens on the connection's server, not on Intuit's production")
        values = {'connection_id': self.connection.id, 'environment': 'custom',
                  'base_url': self.emulator.base_url, 'client_id': 'another-app'}
        wizard = Wizard.create(values)
        with self.assertRaisesRegex(UserError, 'Disconnect first'):
            wizard.action_connect()
        with self.assertRaisesRegex(UserError, 'Disconnect first'):
            Wizard.create(dict(values, client_id=self.connection.client_id, client_secret='a new secret'))
        self.assertEqual(self.connection.sudo().client_secret, CLIENT_SECRET)
        self.connection.action_disconnect()
        wizard = Wizard.create(dict(values, client_secret='typed secret'))
        self.env.flush_all()
        self.env.cr.execute('SELECT column_name FROM information_schema.columns '
                            "WHERE table_name = 'qbo_connect_wizard' AND column_name = 'client_secret'")
        self.assertFalse(self.env.cr.fetchall(), 'no column can keep a typed secret')
        self.assertEqual(self.connection.sudo().client_secret, 'typed secret')
        self.assertEqual(wizard.action_connect()['type'], 'ir.actions.act_url')
        self.assertEqual(self.connection.client_id, 'another-app')

    def test_a_user_of_company_b_cannot_see_company_a_connection(self):
        company_b = self.env['res.company'].create({'name': 'Company B'})
        user_b = new_test_user(self.env, login='qbo_b', groups='werx_quickbooks.group_qbo_admin',
                               company_id=company_b.id, company_ids=[(6, 0, company_b.ids)])
        connection_b = self._make_connection(company_b, connected=False)
        Connection = self.env['qbo.connection'].with_user(user_b)
        self.assertEqual(Connection.search([]), connection_b)
        with self.assertRaises(AccessError):
            self.connection.with_user(user_b).read(['state'])
        action = Connection.with_company(company_b).action_open_company_connection()
        self.assertEqual(action['res_id'], connection_b.id)

    @mute_logger('odoo.sql_db')
    def test_one_connection_per_company(self):
        with self.assertRaises(IntegrityError), self.cr.savepoint():
            self.env['qbo.connection'].create({'company_id': self.env.company.id})

    @mute_logger('odoo.sql_db')
    def test_one_live_connection_per_quickbooks_company_even_in_a_race(self):
        company_b = self.env['res.company'].create({'name': 'Company B'})
        connection_b = self._make_connection(company_b, connected=False)
        # As if company B's sign-in slipped past the check while A's was being saved.
        with self.assertRaises(IntegrityError), self.cr.savepoint():
            connection_b.sudo().write({'realm_id': self.connection.realm_id, 'state': 'connected'})
            connection_b.flush_recordset()
        # A disconnected connection keeps its realm and does not block anyone.
        self.connection.action_disconnect()
        self.env.flush_all()
        connection_b.sudo().write({'realm_id': self.connection.realm_id, 'state': 'connected'})
        connection_b.flush_recordset()
        self.assertEqual(connection_b.state, 'connected')

    @mute_logger('odoo.sql_db')
    def test_a_sign_in_that_loses_the_race_for_a_quickbooks_company_is_refused_in_words(self):
        company_b = self.env['res.company'].create({'name': 'Company B'})
        connection_b = self._make_connection(company_b, connected=False)
        tokens = qbo_auth.Tokens.from_reply(self.emulator.issue_tokens())
        # B's check passed while A's connection to the same QuickBooks company was being saved.
        with self.assertRaisesRegex(UserError, 'just connected to another Odoo company'):
            connection_b._qbo_set_connected(self.connection.realm_id, tokens, 'Emulated Company')
        self.env.flush_all()
        self.assertEqual(connection_b.state, 'draft', 'left as it was')
        self.assertIsNone(connection_b._qbo_tokens(), 'no half-saved sign-in')

    def test_menu_opens_the_company_connection_and_makes_one_if_needed(self):
        company_c = self.env['res.company'].create({'name': 'Company C'})
        action = self.env['qbo.connection'].with_company(company_c).action_open_company_connection()
        connection = self.env['qbo.connection'].browse(action['res_id'])
        self.assertEqual(connection.company_id, company_c)
        self.assertEqual(connection.state, 'draft')
        self.assertIn('Connect', connection.status_message)
        again = self.env['qbo.connection'].with_company(company_c).action_open_company_connection()
        self.assertEqual(again['res_id'], connection.id)


@tagged('post_install', '-at_install')
class TestConnectDisconnect(QBOEmulatorCase):

    def test_disconnect_revokes_at_intuit_clears_tokens_and_keeps_the_realm(self):
        tokens = self.connection._qbo_tokens()
        self.emulator.reset_log()
        self.connection.action_disconnect()
        self.assertEqual(self.emulator.counters['POST revoke'], 1)
        self.assertEqual(self.connection.state, 'disconnected')
        self.assertFalse(self.connection._qbo_tokens())
        Token = self.env['qbo.connection.token']
        self.assertFalse(Token.search([('connection_id', '=', self.connection.id)]))
        self.assertEqual(self.connection.realm_id, self.emulator.realm_id, 'kept so a reconnect resumes')
        # Intuit no longer accepts the old sign-in.
        with self.assertRaises(NeedsReconnect):
            qbo_auth.refresh_tokens(self.connection._qbo_endpoints(), CLIENT_ID, CLIENT_SECRET,
                                    tokens.refresh_token)

    def test_disconnect_goes_on_when_intuit_cannot_revoke(self):
        self.emulator.inject('503', count=1, path_contains='revoke')
        self.connection.action_disconnect()
        self.assertEqual(self.connection.state, 'disconnected')
        self.assertFalse(self.connection._qbo_tokens())
        self.assertIn('revoke', self.connection.connect_message)
        self.assertNotIn(CLIENT_SECRET, self.connection.connect_message)


@tagged('post_install', '-at_install')
class TestConnectConcurrentRefresh(QBOEmulatorMixin, TransactionCase):
    """Two workers refresh at the same moment, each on its own database connection, as in production.

    No registry test mode here: every cursor is a real one, so the row lock and the
    commit are the real thing. The connection is committed for the test and removed after.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._start_emulator(test_mode=False)

    def _committed_connection(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env['res.company'].search([], limit=1, order='id')
            connection = env['qbo.connection'].create({
                'company_id': company.id, 'environment': 'custom', 'base_url': self.emulator.base_url,
                'client_id': CLIENT_ID, 'client_secret': CLIENT_SECRET,
                'realm_id': self.emulator.realm_id, 'state': 'connected',
            })
            tokens = qbo_auth.Tokens.from_reply(self.emulator.issue_tokens())
            tokens.expires_at = fields.Datetime.now() - datetime.timedelta(minutes=1)
            connection._qbo_store_tokens(tokens)
            connection_id = connection.id
        self.addCleanup(self._drop_connection, connection_id)
        return connection_id, tokens

    def _drop_connection(self, connection_id):
        with self.registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})['qbo.connection'].browse(connection_id).unlink()

    def test_two_workers_refreshing_at_once_end_with_one_valid_token(self):
        connection_id, old_tokens = self._committed_connection()
        # Intuit answers slowly: the second worker arrives while the first holds the lock.
        self.emulator.inject('slow', count=1, path_contains='tokens/bearer')
        self.emulator.slow_seconds = 1.0
        self.emulator.reset_log()
        barrier = threading.Barrier(2)
        results, errors = [], []

        def worker():
            try:
                with self.registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    barrier.wait(timeout=10)
                    connection = env['qbo.connection'].browse(connection_id)
                    results.append(connection._qbo_refresh_tokens(old_tokens))
            except Exception as exc:  # noqa: BLE001 — reported by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _i in range(2)]
        # The test runner holds the registry lock for the whole run; let the workers' new
        # environments through, as registry test mode does for HttpCase.
        waits = []

        def count_waits(attempt):
            waits.append(attempt)
            wait_for_lock(attempt)

        with patch.object(Registry, '_lock', DummyRLock()), \
                patch.object(qbo_connection_module, 'wait_for_lock', count_waits):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
        self.assertFalse(errors, errors)
        self.assertEqual(len(results), 2)
        self.assertTrue(waits, 'the second worker found the row locked and waited')
        self.assertEqual(self.emulator.counters['POST token'], 1, 'Intuit is asked once')
        self.assertEqual(results[0].refresh_token, results[1].refresh_token)
        self.assertNotEqual(results[0].refresh_token, old_tokens.refresh_token)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            stored = env['qbo.connection'].browse(connection_id)._qbo_tokens()
        self.assertEqual(stored.refresh_token, results[0].refresh_token, 'the rotated token is committed')
        # The one stored refresh token is valid at Intuit.
        fresh = qbo_auth.refresh_tokens(qbo_auth.endpoints_for('custom', self.emulator.base_url),
                                        CLIENT_ID, CLIENT_SECRET, stored.refresh_token)
        self.assertTrue(fresh.access_token)
