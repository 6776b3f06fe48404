# Part of werx_quickbooks. License LGPL-3.
"""Who may do what: QuickBooks Users read, QuickBooks Administrators sync and link, only Settings
administrators read the sign-in; an accountant who is neither still works with Odoo's own records."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .test_import_lists import LIST_MODELS, ListsCase


@tagged('post_install', '-at_install')
class TestAccessRights(ListsCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.qbo_user = new_test_user(cls.env, login='qbo_access_reader',
                                     groups='base.group_user,werx_quickbooks.group_qbo_user')
        cls.qbo_admin = new_test_user(cls.env, login='qbo_access_admin',
                                      groups='base.group_user,werx_quickbooks.group_qbo_admin')
        cls.accountant = new_test_user(cls.env, login='qbo_access_accountant',
                                       groups='account.group_account_manager')

    def setUp(self):
        super().setUp()
        self.run_ = self.sync('initial')

    def test_a_quickbooks_user_reads_mappings_and_logs_but_changes_nothing(self):
        for model in LIST_MODELS:
            mappings = self.env[model].with_user(self.qbo_user).search([])
            self.assertTrue(mappings, model)
            mappings.read(['full_name', 'match_state'])
            with self.assertRaises(AccessError, msg=model):
                mappings[:1].write({'match_note': 'changed'})
        run = self.run_.with_user(self.qbo_user)
        run.read(['state', 'summary'])
        run.stat_ids.read(['label', 'done'])
        account = self.env['qbo.account'].with_user(self.qbo_user).search([], limit=1)
        with self.assertRaises(AccessError):
            account.action_create_in_odoo()

    def test_a_quickbooks_administrator_links_but_never_deletes_a_mapping(self):
        account = self.env['qbo.account'].with_user(self.qbo_admin).search([], limit=1)
        account.write({'match_note': 'checked'})
        with self.assertRaises(AccessError, msg='mappings are archived, never deleted'):
            account.unlink()
        with self.assertRaises(AccessError, msg='mappings come from QuickBooks only'):
            self.env['qbo.account'].with_user(self.qbo_admin).create({
                'connection_id': self.connection.id, 'realm_id': self.connection.realm_id, 'qbo_id': 'X1'})

    def test_only_settings_administrators_read_the_sign_in(self):
        for model in ('qbo.connection.token', 'qbo.oauth.state'):
            for user in (self.qbo_user, self.qbo_admin, self.accountant):
                with self.assertRaises(AccessError, msg='%s %s' % (model, user.login)):
                    self.env[model].with_user(user).search([])
        self.assertTrue(self.env['qbo.connection.token'].with_user(self.env.ref('base.user_admin')).search([]))

    def test_an_accountant_who_is_no_quickbooks_user_still_reads_the_linked_odoo_records(self):
        linked = {
            'account.account': self.env['qbo.account'].search(
                [('account_id', '!=', False)], limit=1).account_id,
            'account.payment.term': self.env['qbo.term'].search(
                [('payment_term_id', '!=', False)], limit=1).payment_term_id,
            'account.tax': self.env['qbo.tax.rate'].search([('tax_id', '!=', False)], limit=1).tax_id,
            'account.analytic.account': self.env['qbo.class'].search(
                [('analytic_account_id', '!=', False)], limit=1).analytic_account_id,
        }
        for model, record in linked.items():
            self.assertTrue(record, model)
            # Every field, as an export or another module's read() asks for them.
            record.with_user(self.accountant).read()

    def test_quickbooks_rights_grant_nothing_else_in_accounting_and_reach_the_screen(self):
        for user in (self.qbo_user, self.qbo_admin):
            with self.assertRaises(AccessError, msg=user.login):
                self.env['account.move'].with_user(user).check_access('read')
            visible = self.env['ir.ui.menu'].with_user(user)._visible_menu_ids()
            self.assertIn(self.env.ref('werx_quickbooks.menu_quickbooks_app').id, visible, user.login)
            self.connection.with_user(user).read(['state', 'lists_progress'])
            self.env['qbo.account'].with_user(user).search([]).read(['account_id', 'match_state'])

    def test_linking_or_creating_odoo_records_by_hand_needs_accounting_rights(self):
        account = self.env['qbo.account'].search([('account_id', '!=', False)], limit=1)
        linked = self.mappings('qbo.account').account_id
        other = self.env['account.account'].search([('id', 'not in', linked.ids)], limit=1)
        self.assertFalse(account.with_user(self.qbo_admin).qbo_can_link, 'Link and Create are not offered')
        with self.assertRaisesRegex(AccessError, 'accountant'):
            account.with_user(self.qbo_admin).write({'account_id': other.id})
        with self.assertRaisesRegex(AccessError, 'accountant'):
            account.with_user(self.qbo_admin).action_create_in_odoo()
        accountant_admin = new_test_user(self.env, login='qbo_access_accountant_admin',
                                         groups='account.group_account_manager,werx_quickbooks.group_qbo_admin')
        self.assertTrue(account.with_user(accountant_admin).qbo_can_link)
        account.with_user(accountant_admin).write({'account_id': other.id})
        self.assertEqual(account.account_id, other)

    def test_no_context_key_or_queued_flag_lets_a_non_accountant_write_the_chart(self):
        account = self.env['qbo.account'].search([('account_id', '!=', False)], limit=1)
        as_admin = account.with_user(self.qbo_admin)
        with self.assertRaisesRegex(AccessError, 'accountant'):
            as_admin.with_context(qbo_sync=True).write({'account_id': False})
        with self.assertRaises(AccessError):
            as_admin.write({'create_requested': True})
        with self.assertRaisesRegex(AccessError, 'accountant'):
            (account | self.env['qbo.account'].search([], limit=2)).with_user(self.qbo_admin) \
                .action_create_in_odoo()

    def test_app_keys_cannot_be_changed_by_a_direct_write_under_a_live_connection(self):
        connection = self.connection.with_user(self.qbo_admin)
        for values in ({'client_id': 'another-app'}, {'environment': 'sandbox'}):
            with self.assertRaisesRegex(UserError, 'Disconnect first', msg=str(values)):
                connection.write(values)
        self.assertEqual(self.connection.client_id, 'werx-test-client')
