# Part of werx_quickbooks. License LGPL-3.
"""Browser tours: the QuickBooks screens as a person uses them, in headless Chromium.

scripts/test-odoo runs them when Chromium is on the PATH and says in one line when it is not.
"""

from odoo.tests import HttpCase, new_test_user, tagged

from .common import QBOEmulatorMixin, failing_to_map


@tagged('post_install', '-at_install', 'werx_tours')
class TestTours(QBOEmulatorMixin, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._start_emulator(test_mode=False)   # HttpCase already serves the test's cursor
        cls.env['ir.config_parameter'].set_param('web.base.url', cls.base_url())

    def _sync(self):
        """Run what the Sync button queued, as the background worker does."""
        self.in_worker(self.env['qbo.connection'], '_cron_run_requested')
        self.env.invalidate_all()

    def test_connect_through_the_wizard_to_the_consent_and_back(self):
        connection = self._make_connection(connected=False)
        self.start_tour('/odoo/action-werx_quickbooks.action_qbo_connection/%s' % connection.id,
                        'werx_quickbooks_connect', login='admin')
        self.env.invalidate_all()
        self.assertEqual(connection.state, 'connected')
        self.assertEqual(connection.realm_id, self.emulator.realm_id)

    def test_sync_shows_progress_and_the_result(self):
        connection = self._make_connection()
        connection.initial_import_state = 'done'
        self.start_tour('/odoo/quickbooks', 'werx_quickbooks_sync', login='admin')
        self.assertTrue(connection.sync_requested_at, 'queued by the button, run by a worker')
        self._sync()
        self.assertIn('records synced', connection.last_sync_result)
        self.start_tour('/odoo/quickbooks', 'werx_quickbooks_sync_result', login='admin')

    def test_link_a_record_waiting_for_review(self):
        connection = self._make_connection()
        self.in_worker(connection, '_sync', 'initial')
        code = self.env['qbo.tax.code'].search([('connection_id', '=', connection.id), ('name', '=', 'TAX')])
        self.assertEqual(code.match_state, 'unmatched')
        self.start_tour('/odoo/quickbooks', 'werx_quickbooks_review', login='admin')
        self.env.invalidate_all()
        self.assertEqual((code.match_state, code.tax_id.name), ('matched', 'California State'))

    def test_retry_a_failure(self):
        connection = self._make_connection()
        rent_id = next(a['Id'] for a in self.emulator.store.all(self.emulator.realm_id, 'Account')
                       if a['Name'] == 'Rent')
        with failing_to_map(self.env['qbo.account'], {rent_id}):
            self.in_worker(connection, '_sync', 'initial')
        failure = connection.sync_failure_ids
        self.assertEqual(failure.record_name, 'Rent')
        self.start_tour('/odoo/quickbooks', 'werx_quickbooks_retry', login='admin')
        self.env.invalidate_all()
        self.assertEqual(failure.state, 'queued')
        self._sync()
        self.assertEqual(failure.state, 'resolved')

    def test_a_quickbooks_user_without_accounting_rights_reads_every_tab(self):
        connection = self._make_connection()
        self.in_worker(connection, '_sync', 'initial')
        new_test_user(self.env, login='qbo_reader',
                      groups='base.group_user,werx_quickbooks.group_qbo_user')
        self.start_tour('/odoo/quickbooks', 'werx_quickbooks_reader', login='qbo_reader')
