"""Tier 2: the QuickBooks lists come into a real Odoo 18 from the emulator's demo company."""

import contextlib
import math
from datetime import timedelta
from unittest.mock import patch

import psycopg2
from lxml import etree
from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import mute_logger
from odoo.tools.safe_eval import safe_eval

from ..qbo import const
from .common import QBOEmulatorCase, failing_to_map

LIST_MODELS = ('qbo.account', 'qbo.term', 'qbo.class', 'qbo.location', 'qbo.payment.method',
               'qbo.tax.agency', 'qbo.tax.rate', 'qbo.tax.code')
ENTITIES = {'qbo.account': 'Account', 'qbo.term': 'Term', 'qbo.class': 'Class',
            'qbo.location': 'Department', 'qbo.payment.method': 'PaymentMethod',
            'qbo.tax.agency': 'TaxAgency',
            'qbo.tax.rate': 'TaxRate', 'qbo.tax.code': 'TaxCode'}


class ListsCase(QBOEmulatorCase):
    """Helpers shared by the lists tests."""

    def setUp(self):
        super().setUp()
        self.sleeps = []
        original = type(self.connection)._qbo_client
        sleeps = self.sleeps

        def client_without_waiting(connection):
            client = original(connection)
            client.sleep = sleeps.append   # a throttled or retried call waits here, not for real
            return client
        patcher = patch.object(type(self.connection), '_qbo_client', client_without_waiting)
        patcher.start()
        self.addCleanup(patcher.stop)

    def sync(self, trigger='manual'):
        return self.in_worker(self.connection, '_sync', trigger)

    def mappings(self, model):
        return self.env[model].with_context(active_test=False).search(
            [('connection_id', '=', self.connection.id)])

    def qbo(self, entity):
        """Every object of a list in the emulator's company, inactive ones included."""
        return self.emulator.store.all(self.emulator.realm_id, entity)

    def snapshot(self):
        """What the import left behind: mapping -> (Odoo record, state, active), per list."""
        result = {}
        for model in LIST_MODELS:
            field = self.env[model]._qbo_odoo_field
            result[model] = {m.qbo_id: (m[field].id, m.match_state, m.active) for m in self.mappings(model)}
        return result

    def odoo_counts(self):
        env = self.env
        company = env.company
        return {
            'account.account': env['account.account'].search_count([('company_ids', 'in', company.ids)]),
            'account.payment.term': env['account.payment.term'].with_context(
                active_test=False).search_count([]),
            'account.analytic.account': env['account.analytic.account'].with_context(
                active_test=False).search_count([]),
            'account.tax': env['account.tax'].with_context(active_test=False).search_count([]),
            # Not the lines Odoo gives every new journal (named after their method), such as the
            # bank journals of QuickBooks' bank accounts: those of the payment methods.
            'account.payment.method.line': len(env['account.payment.method.line'].search([]).filtered(
                lambda line: line.name != line.payment_method_id.name)),
            'account.journal': env['account.journal'].with_context(active_test=False).search_count([]),
            'account.tax.group': env['account.tax.group'].search_count([]),
        }


class _Rollback(Exception):
    """Raised to undo a clean run inside a savepoint."""


@tagged('post_install', '-at_install')
class TestListsImport(ListsCase):

    def test_demo_company_imports_every_list_with_exact_counts(self):
        run = self.sync('initial')
        self.assertEqual(run.state, 'done', run.summary)
        for model in LIST_MODELS:
            entity = ENTITIES[model]
            expected = len(self.qbo(entity))
            self.assertEqual(len(self.mappings(model)), expected, model)
            stat = run.stat_ids.filtered(lambda s, e=entity: s.entity == e)
            self.assertEqual((stat.total, stat.done, stat.failed), (expected, expected, 0), entity)
            self.assertEqual(stat.created + stat.matched + stat.unmatched, expected, entity)
        # Demo seed: 69 accounts, 7 terms, 5 classes, 5 locations, 7 payment methods, 1 tax agency,
        # 4 rates, 6 codes.
        self.assertEqual([len(self.mappings(m)) for m in LIST_MODELS], [69, 7, 5, 5, 7, 1, 4, 6])
        # One API call per list (the tax codes are read once for both tax lists): the floor.
        self.assertEqual(run.api_calls, 8)
        self.assertFalse(run.failure_ids)

    def test_named_records_have_the_right_values(self):
        self.sync('initial')
        Account = self.env['qbo.account']
        fuel = Account.search([('connection_id', '=', self.connection.id),
                               ('full_name', '=', 'Automobile:Fuel')])
        self.assertEqual(fuel.match_state, 'created')
        self.assertEqual(fuel.account_id.code, '6110')
        self.assertEqual(fuel.account_id.name, 'Automobile:Fuel')
        self.assertEqual(fuel.account_id.account_type, 'expense')
        self.assertEqual(fuel.parent_id.full_name, 'Automobile')
        self.assertEqual(fuel.parent_id.account_id.code, '6100')

        checking = Account.search([('connection_id', '=', self.connection.id), ('acct_num', '=', '1010')])
        qbo_checking = self.emulator.store.get(self.emulator.realm_id, 'Account', checking.qbo_id)
        self.assertEqual(checking.account_id.account_type, 'asset_cash')
        self.assertEqual(checking.balance, qbo_checking['CurrentBalance'])
        self.assertEqual(checking.sync_token, qbo_checking['SyncToken'])

        petty = Account.search([('connection_id', '=', self.connection.id), ('name', '=', 'Petty Cash')])
        self.assertEqual(petty.account_id.code, 'QB%s' % petty.qbo_id, 'no number: a stable generated code')

        retained = Account.search([('connection_id', '=', self.connection.id),
                                   ('name', '=', 'Retained Earnings')])
        self.assertEqual(retained.match_state, 'matched')
        self.assertEqual(retained.account_id.account_type, 'equity_unaffected')
        undeposited = Account.search([('connection_id', '=', self.connection.id),
                                      ('name', '=', 'Undeposited Funds')])
        self.assertTrue(undeposited.account_id.reconcile)
        closed = Account.with_context(active_test=False).search(
            [('connection_id', '=', self.connection.id), ('name', '=', 'Old Savings (closed)')])
        self.assertFalse(closed.active)
        self.assertTrue(closed.account_id.deprecated, 'inactive in QuickBooks: deprecated, not deleted')

        Term = self.env['qbo.term']
        date_driven = Term.search([('connection_id', '=', self.connection.id),
                                   ('name', '=', 'Due 15th of next month')])
        line = date_driven.payment_term_id.line_ids
        self.assertEqual((line.delay_type, line.days_next_month, line.value_amount),
                         ('days_end_of_month_on_the', '15', 100.0))
        discount = Term.search([('connection_id', '=', self.connection.id), ('name', '=', '2% 10 Net 30')])
        self.assertTrue(discount.payment_term_id.early_discount)
        term = discount.payment_term_id
        self.assertEqual((term.discount_percentage, term.discount_days, term.line_ids.nb_days), (2.0, 10, 30))
        net90 = Term.with_context(active_test=False).search([('connection_id', '=', self.connection.id),
                                                             ('name', '=', 'Net 90')])
        self.assertFalse(net90.payment_term_id.active)

        combined = self.env['qbo.tax.code'].search([('connection_id', '=', self.connection.id),
                                                    ('name', '=', 'Combined: State + City')])
        group = combined.tax_id
        self.assertEqual((group.amount_type, group.type_tax_use), ('group', 'sale'))
        self.assertEqual(sorted(group.children_tax_ids.mapped('amount')), [1.375, 7.25])
        california = self.env['qbo.tax.code'].search([('connection_id', '=', self.connection.id),
                                                      ('name', '=', 'California')])
        self.assertEqual((california.tax_id.amount, california.tax_id.amount_type), (7.25, 'percent'))
        self.assertIn(california.tax_id, group.children_tax_ids, 'the rate is one tax, used by both codes')

        retail = self.env['qbo.class'].search([('connection_id', '=', self.connection.id),
                                               ('full_name', '=', 'Commercial:Retail')])
        self.assertEqual(retail.parent_id.name, 'Commercial')
        self.assertEqual(retail.analytic_account_id.name, 'Commercial:Retail')
        # The hierarchy in Odoo: a parent's sub-plan of the QuickBooks plan holds the parent's own
        # account and its children's, so its total is the parent's total in QBO's class report.
        classes_plan = self.env.ref('werx_quickbooks.analytic_plan_classes')
        self.assertEqual(retail.analytic_account_id.plan_id.name, 'Commercial')
        self.assertEqual(retail.analytic_account_id.plan_id.parent_id, classes_plan)
        self.assertEqual(retail.parent_id.analytic_account_id.plan_id, retail.analytic_account_id.plan_id)
        self.assertEqual(retail.analytic_account_id.root_plan_id, classes_plan)
        harbor = self.env['qbo.location'].search([('connection_id', '=', self.connection.id),
                                                  ('full_name', '=', 'South Region:Harbor')])
        self.assertEqual(harbor.analytic_account_id.root_plan_id.name, 'QuickBooks Locations')
        self.assertEqual(harbor.analytic_account_id.plan_id.name, 'South Region')
        government = self.env['qbo.class'].with_context(active_test=False).search(
            [('connection_id', '=', self.connection.id), ('name', '=', 'Government')])
        self.assertFalse(government.analytic_account_id.active)

        Method = self.env['qbo.payment.method']
        cash = Method.search([('connection_id', '=', self.connection.id), ('name', '=', 'Cash')])
        visa = Method.search([('connection_id', '=', self.connection.id), ('name', '=', 'Visa')])
        self.assertEqual(cash.journal_id.type, 'cash')
        self.assertEqual(visa.journal_id.type, 'bank')
        self.assertEqual(visa.payment_method_line_id.journal_id, visa.journal_id)

    def test_existing_odoo_records_are_matched_not_duplicated(self):
        company = self.env.company
        insurance = self.env['account.account'].create(
            {'code': '6300', 'name': 'Insurance costs', 'account_type': 'expense',
             'company_ids': company.ids})
        taken = self.env['account.account'].create(
            {'code': '1020', 'name': 'Consulting income', 'account_type': 'income',
             'company_ids': company.ids})
        state_tax = self.env['account.tax'].create(
            {'name': 'CA state tax', 'amount': 7.25, 'amount_type': 'percent', 'type_tax_use': 'sale'})
        net60 = self.env['account.payment.term'].create({'name': 'Sixty days', 'line_ids': [
            (0, 0, {'value': 'percent', 'value_amount': 100, 'delay_type': 'days_after', 'nb_days': 60})]})
        before = self.odoo_counts()
        run = self.sync('initial')

        def mapping(model, name):
            return self.env[model].search([('connection_id', '=', self.connection.id), ('name', '=', name)])
        self.assertEqual(mapping('qbo.account', 'Insurance').account_id, insurance, 'same number')
        self.assertEqual(mapping('qbo.account', 'Rent').account_id.code, '612000', 'same name, same type')
        savings = mapping('qbo.account', 'Savings')
        self.assertEqual((savings.match_state, savings.account_id), ('conflict', taken.browse()),
                         'number 1020 is an income account in Odoo: not the QuickBooks bank account')
        self.assertIn('1020', savings.match_note)
        state = mapping('qbo.tax.rate', 'California State')
        self.assertEqual((state.match_state, state.tax_id), ('conflict', state_tax.browse()),
                         'same rate and use, but it books its tax on the income account: not linked silently')
        self.assertIn(state_tax.name, state.match_note)
        self.assertEqual(mapping('qbo.term', 'Net 60').payment_term_id, net60, 'same due rule')
        self.assertEqual(mapping('qbo.term', 'Net 30').payment_term_id.name, '30 Days')
        self.assertEqual(mapping('qbo.account', 'Accounts Receivable (A/R)').account_id,
                         company.partner_id.property_account_receivable_id)
        after = self.odoo_counts()
        stats = {s.entity: s for s in run.stat_ids}
        self.assertEqual(after['account.account'] - before['account.account'], stats['Account'].created)
        self.assertEqual(after['account.payment.term'] - before['account.payment.term'],
                         stats['Term'].created)
        # Rates created as taxes, plus one group per code of several rates.
        self.assertEqual(after['account.tax'] - before['account.tax'],
                         stats['TaxRate'].created + stats['TaxCode'].created)
        self.assertEqual(stats['TaxRate'].matched, 0)
        linked = [m.account_id.id for m in self.mappings('qbo.account') if m.account_id]
        self.assertEqual(len(linked), len(set(linked)), 'never two QuickBooks accounts on one Odoo account')

    def test_ambiguous_name_is_left_for_the_user(self):
        Account = self.env['account.account']
        twins = Account.create([
            {'code': 'TEL1', 'name': 'Telephone', 'account_type': 'expense'},
            {'code': 'TEL2', 'name': 'telephone', 'account_type': 'expense'},
            {'code': 'TRV1', 'name': 'Travel', 'account_type': 'expense'},
            {'code': 'TRV2', 'name': 'Travel', 'account_type': 'expense_direct_cost'},
        ])
        self.sync('initial')

        def mapping(name):
            return self.env['qbo.account'].search([('connection_id', '=', self.connection.id),
                                                   ('name', '=', name)])
        phone = mapping('Telephone')
        self.assertEqual((phone.match_state, phone.account_id), ('unmatched', Account))
        self.assertIn('TEL1', phone.match_note)
        self.assertEqual(Account.search_count([('name', '=ilike', 'telephone')]), 2, 'nothing created')
        # Telephone, Travel and QBO's automated-tax code TAX wait for the user.
        self.assertEqual(self.connection.lists_to_review_count, 3)

        # "Link to…": the user picks one of the two.
        phone.account_id = twins[1]
        phone.action_link()
        self.assertEqual(phone.match_state, 'matched')
        # The same Odoo account cannot be linked to a second QuickBooks account.
        travel = mapping('Travel')
        with self.assertRaises(psycopg2.IntegrityError), mute_logger('odoo.sql_db'), self.env.cr.savepoint():
            travel.write({'account_id': twins[1].id})
            travel.flush_recordset()
        # "Create in Odoo": a new account from QuickBooks' data, next to the two lookalikes.
        travel.action_create_in_odoo()
        travel = mapping('Travel')
        self.assertEqual(travel.match_state, 'created')
        self.assertEqual((travel.account_id.name, travel.account_id.code), ('Travel', 'QB%s' % travel.qbo_id))
        self.assertEqual(self.connection.lists_to_review_count, 1)
        # QBO's automated-tax code has no rates to build an Odoo tax from: the user is told to link it.
        tax = self.env['qbo.tax.code'].search([('connection_id', '=', self.connection.id),
                                               ('name', '=', 'TAX')])
        with self.assertRaisesRegex(UserError, 'link it to the Odoo tax'):
            tax.action_create_in_odoo()

    def test_create_in_odoo_on_many_records_runs_in_the_background(self):
        self.env['account.account'].create([
            {'code': 'TEL1', 'name': 'Telephone', 'account_type': 'expense'},
            {'code': 'TEL2', 'name': 'telephone', 'account_type': 'expense'},
            {'code': 'TRV1', 'name': 'Travel', 'account_type': 'expense'},
            {'code': 'TRV2', 'name': 'Travel', 'account_type': 'expense_direct_cost'}])
        self.sync('initial')
        waiting = self.env['qbo.account'].search([('connection_id', '=', self.connection.id),
                                                  ('match_state', '=', 'unmatched')])
        self.assertEqual(sorted(waiting.mapped('name')), ['Telephone', 'Travel'])
        action = waiting.action_create_in_odoo()
        self.assertEqual(action['tag'], 'display_notification')
        self.assertTrue(all(waiting.mapped('create_requested')))
        self.assertFalse(waiting.account_id, 'nothing created in the request')
        self.in_worker(self.env['qbo.connection'], '_cron_run_requested')
        created = self.env['qbo.account'].search([('connection_id', '=', self.connection.id),
                                                  ('name', 'in', ['Telephone', 'Travel'])])
        self.assertEqual(created.mapped('match_state'), ['created', 'created'])
        self.assertFalse(any(created.mapped('create_requested')))

    def test_second_run_creates_nothing(self):
        self.sync('initial')
        first = self.snapshot()
        counts = self.odoo_counts()
        self.assertTrue(self.connection.lists_cursor)
        run = self.sync('manual')
        self.assertEqual(run.state, 'done', run.summary)
        self.assertEqual(sum(run.stat_ids.mapped('created')), 0)
        self.assertEqual(self.snapshot(), first)
        self.assertEqual(self.odoo_counts(), counts)
        # Incremental: one CDC call for five lists, one query each for the tax codes, agencies and rates
        # (QBO's change feed has none of them).
        self.assertEqual(run.api_calls, 4)

    def test_cursor_older_than_the_change_feed_reads_the_lists_whole(self):
        self.sync('initial')
        first = self.snapshot()
        self.connection.lists_cursor = fields.Datetime.now() - timedelta(days=40)
        cdc_calls = self.emulator.counters['GET cdc']
        run = self.sync('manual')
        self.assertEqual(run.state, 'done', run.summary)
        self.assertEqual(self.emulator.counters['GET cdc'], cdc_calls, 'no change feed asked beyond 30 days')
        self.assertEqual(run.api_calls, 8, 'one query per list')
        self.assertEqual(sum(run.stat_ids.mapped('skipped')), 104)
        self.assertEqual(self.snapshot(), first)
        self.assertGreater(self.connection.lists_cursor, fields.Datetime.now() - timedelta(minutes=1))

    def test_run_failed_halfway_then_rerun_gives_the_clean_result(self):
        def described(snapshot):
            """Ids differ between runs: compare what the Odoo records are."""
            out = {}
            for model, rows in snapshot.items():
                comodel = self.env[self.env[model]._fields[self.env[model]._qbo_odoo_field].comodel_name]
                out[model] = {qbo_id: (comodel.browse(odoo_id).with_context(active_test=False).display_name
                                       if odoo_id else False, state, active)
                              for qbo_id, (odoo_id, state, active) in rows.items()}
            return out

        clean = clean_counts = None
        with contextlib.suppress(_Rollback), self.env.cr.savepoint():
            self.sync('initial')
            clean = described(self.snapshot())
            clean_counts = self.odoo_counts()
            raise _Rollback()
        self.env.invalidate_all()
        self.assertFalse(self.mappings('qbo.account'))

        Location = type(self.env['qbo.location'])
        original = Location._qbo_import_page

        def crash(model, objects, state):
            original(model, objects, state)
            raise ConnectionError('the worker died half-way')
        with patch.object(Location, '_qbo_import_page', crash), \
                mute_logger('odoo.addons.werx_quickbooks.models.qbo_connection'):
            failed = self.sync('initial')
        self.assertEqual(failed.state, 'failed')
        self.assertFalse(self.connection.lists_cursor, 'no cursor saved for a run that did not finish')
        self.assertTrue(self.mappings('qbo.account'), 'the lists before the crash are kept')
        self.assertFalse(self.mappings('qbo.tax.rate'))

        rerun = self.sync('initial')
        self.assertEqual(rerun.state, 'done', rerun.summary)
        self.assertEqual(described(self.snapshot()), clean)
        self.assertEqual(self.odoo_counts(), clean_counts)
        stats = {s.entity: s for s in rerun.stat_ids}
        self.assertEqual(stats['Account'].created, 0, 'nothing imported twice')
        self.assertEqual(stats['Account'].skipped, 69)

    def test_throttling_mid_import_completes(self):
        Term = type(self.env['qbo.term'])
        original = Term._qbo_import_all
        emulator = self.emulator

        def throttled(model, connection, run, client, cache):
            emulator.inject('429', count=2)  # QBO says "too many requests" twice, mid-import
            return original(model, connection, run, client, cache)
        with patch.object(Term, '_qbo_import_all', throttled):
            run = self.sync('initial')
        self.assertEqual(run.state, 'done', run.summary)
        self.assertEqual(run.throttled_waits, 2)
        self.assertEqual(self.sleeps.count(60.0), 2, 'waited the 60 s QuickBooks asks for, twice')
        self.assertEqual(len(self.mappings('qbo.term')), 7)
        self.assertEqual(len(self.mappings('qbo.tax.code')), 6)

    def test_a_bad_record_fails_alone_and_retry_brings_it_in(self):
        rent_id = next(a['Id'] for a in self.qbo('Account') if a['Name'] == 'Rent')
        with failing_to_map(self.env['qbo.account'], {rent_id}):
            run = self.sync('initial')
        self.assertEqual(run.state, 'partial', run.summary)
        self.assertEqual(len(self.mappings('qbo.account')), 68)
        failure = run.failure_ids
        self.assertEqual((failure.entity, failure.qbo_id, failure.record_name), ('Account', rent_id, 'Rent'))
        self.assertIn('unexpected ValueError', failure.message)
        self.assertNotIn('broken', failure.message, "an unexpected error's own text stays in the server log")
        failure.action_retry()
        self.assertEqual(failure.state, 'queued', 'retried in a background worker, not in the request')
        self.in_worker(self.env['qbo.connection'], '_cron_run_requested')
        self.assertEqual(failure.state, 'resolved')
        rent = self.env['qbo.account'].search([('connection_id', '=', self.connection.id),
                                               ('qbo_id', '=', rent_id)])
        self.assertEqual(rent.match_state, 'matched')

    def test_retrying_several_failures_reads_quickbooks_once(self):
        broken_names = ('Rent', 'Insurance')
        broken_ids = {a['Id'] for a in self.qbo('Account') if a['Name'] in broken_names}
        self.assertEqual(len(broken_ids), 2)
        with failing_to_map(self.env['qbo.account'], broken_ids):
            run = self.sync('initial')
        self.assertEqual(set(run.failure_ids.mapped('qbo_id')), broken_ids)
        self.emulator.reset_log()
        run.failure_ids.action_retry()
        self.assertEqual(sum(self.emulator.counters.values()), 0, 'nothing read in the request')
        self.in_worker(self.env['qbo.connection'], '_cron_run_requested')
        self.assertEqual(run.failure_ids.mapped('state'), ['resolved', 'resolved'])
        self.assertEqual(sum(self.emulator.counters.values()), 1, 'one query for both, not a read each')
        linked = self.mappings('qbo.account').filtered(lambda m: m.qbo_id in broken_ids)
        self.assertEqual(len(linked.account_id), 2)

    def test_screens_show_the_lists(self):
        self.sync('initial')
        form = Form(self.connection)
        self.assertEqual(len(form.qbo_account_ids), 69)
        self.assertEqual(len(form.qbo_tax_code_ids), 6)
        self.assertEqual(form.lists_to_review_count, 1)
        # The count on the screen is what the lists' "To Review" filter shows.
        shown = 0
        for model in LIST_MODELS:
            view = self.env[model].get_views([(False, 'search')])['views']['search']['arch']
            review = etree.fromstring(view).xpath("//filter[@name='to_review']")[0].get('domain')
            shown += self.env[model].search_count(
                safe_eval(review) + [('connection_id', '=', self.connection.id)])
        self.assertEqual(shown, form.lists_to_review_count)
        fuel = self.env['qbo.account'].search([('connection_id', '=', self.connection.id),
                                               ('full_name', '=', 'Automobile:Fuel')])
        account_form = Form(fuel.account_id)
        self.assertEqual(len(account_form.qbo_account_ids), 1, 'the account shows its QuickBooks twin')
        mapping_form = Form(fuel)
        self.assertEqual(mapping_form.match_state, 'created')
        # The review list opens on what waits for the user.
        action = self.connection.action_open_lists_to_review()
        self.assertEqual(action['res_model'], 'qbo.account')

    def test_an_account_odoo_refuses_fails_alone_and_the_next_run_brings_it_in(self):
        Account = type(self.env['qbo.account'])
        original = Account._qbo_odoo_create_values

        def refused(model, values, state):
            vals = original(model, values, state)
            if values['name'] == 'Goodwill':
                vals['code'] = 'not a code!'   # Odoo refuses it: only letters, digits and dots
            return vals
        with patch.object(Account, '_qbo_odoo_create_values', refused):
            run = self.sync('initial')
        self.assertEqual(run.state, 'partial', run.summary)
        goodwill = self.env['qbo.account'].search([('connection_id', '=', self.connection.id),
                                                   ('name', '=', 'Goodwill')])
        self.assertEqual((goodwill.match_state, goodwill.account_id), ('error', self.env['account.account']))
        self.assertIn('alphanumeric', goodwill.last_error)
        self.assertEqual(run.failure_ids.record_name, 'Goodwill')
        stat = run.stat_ids.filtered(lambda s: s.entity == 'Account')
        self.assertEqual((stat.created, stat.failed), (61, 1), 'the rest of the page was created')

        # Nothing changed in QuickBooks, yet the next sync reads the refused record again.
        rerun = self.sync('manual')
        self.assertEqual(rerun.state, 'done', rerun.summary)
        self.assertEqual(rerun.api_calls, 5,
                         'change feed, the refused account, tax codes, tax agencies, tax rates')
        goodwill = self.env['qbo.account'].search([('connection_id', '=', self.connection.id),
                                                   ('name', '=', 'Goodwill')])
        self.assertEqual(goodwill.match_state, 'created')
        self.assertEqual(goodwill.account_id.code, 'QB%s' % goodwill.qbo_id)

    def test_a_quickbooks_administrator_without_accounting_rights_can_sync(self):
        admin = new_test_user(self.env, 'qbo_admin_only',
                              groups='base.group_user,werx_quickbooks.group_qbo_admin')
        self.assertFalse(admin.has_group('account.group_account_manager'))
        self.connection.with_user(admin).action_sync()
        self.in_worker(self.env['qbo.connection'], '_cron_run_requested')
        run = self.connection.last_sync_run_id
        self.assertEqual(run.state, 'done', run.summary)
        self.assertEqual(len(self.mappings('qbo.account')), 69)

    def test_progress_is_shown_and_the_user_is_told(self):
        self.connection._start_initial_import()
        self.in_worker(self.env['qbo.connection'], '_cron_initial_import')
        self.assertEqual(self.connection.initial_import_state, 'done')
        progress = str(self.connection.lists_progress)
        self.assertIn('Chart of Accounts', progress)
        self.assertIn('69 / 69', progress)
        self.assertIn('Tax Codes', progress)
        message = self.connection.message_ids[:1]
        self.assertIn('The QuickBooks lists were imported', str(message.body))


@tagged('post_install', '-at_install')
class TestListsIncremental(ListsCase):
    """Changes made in QuickBooks after the import arrive with the next sync (own emulator)."""

    def test_change_new_record_and_deactivation_arrive_with_next_sync(self):
        self.sync('initial')
        store, realm = self.emulator.store, self.emulator.realm_id
        rent = next(a for a in self.qbo('Account') if a['Name'] == 'Rent')
        store.update(realm, 'Account', rent['Id'], {'Name': 'Office Rent'})
        travel = next(a for a in self.qbo('Account') if a['Name'] == 'Travel')
        store.update(realm, 'Account', travel['Id'], {'Name': 'Travel and Lodging'})
        new_term = store.create(realm, 'Term', {'Name': 'Net 50', 'DueDays': 50})
        residential = next(c for c in self.qbo('Class') if c['Name'] == 'Residential')
        store.update(realm, 'Class', residential['Id'], {'Active': False})
        state_rate = next(r for r in self.qbo('TaxRate') if r['Name'] == 'California State')
        check = next(p for p in self.qbo('PaymentMethod') if p['Name'] == 'Check')
        store.delete(realm, 'PaymentMethod', check['Id'])   # CDC reports it with its Id only
        accounts_before = self.odoo_counts()['account.account']

        run = self.sync('manual')
        self.assertEqual(run.state, 'done', run.summary)
        stats = {s.entity: s for s in run.stat_ids}
        self.assertEqual((stats['Account'].total, stats['Account'].updated), (2, 2))
        self.assertEqual((stats['Term'].total, stats['Term'].created), (1, 1))
        self.assertEqual((stats['Class'].total, stats['Class'].updated), (1, 1))
        self.assertEqual(run.api_calls, 4)

        def mapping(model, qbo_id):
            return self.env[model].with_context(active_test=False).search(
                [('connection_id', '=', self.connection.id), ('qbo_id', '=', qbo_id)])
        rent_map = mapping('qbo.account', rent['Id'])
        self.assertEqual(rent_map.name, 'Office Rent')
        self.assertEqual(rent_map.account_id.name, 'Office Rent',
                         'a matched Odoo account follows QuickBooks too')
        logged = run.change_ids.filtered(lambda c: c.qbo_id == rent['Id'])
        self.assertEqual((logged.field_label, logged.old_value, logged.new_value, logged.applied),
                         ('Account Name', 'Rent', 'Office Rent', True),
                         'the previous Odoo name stays in the log')
        travel_map = mapping('qbo.account', travel['Id'])
        self.assertEqual(travel_map.account_id.name, 'Travel and Lodging', 'a created one follows QuickBooks')
        self.assertEqual(self.odoo_counts()['account.account'], accounts_before)
        term = mapping('qbo.term', new_term['Id'])
        self.assertEqual((term.match_state, term.payment_term_id.line_ids.nb_days), ('created', 50))
        residential_map = mapping('qbo.class', residential['Id'])
        self.assertFalse(residential_map.active)
        self.assertFalse(residential_map.analytic_account_id.active, 'archived, not deleted')
        self.assertTrue(residential_map.analytic_account_id.exists())
        self.assertTrue(mapping('qbo.tax.rate', state_rate['Id']).tax_id.active)
        deleted = mapping('qbo.payment.method', check['Id'])
        self.assertEqual((deleted.active, deleted.name), (False, 'Check'), 'archived, name kept')
        self.assertTrue(deleted.payment_method_line_id.exists(), 'the Odoo payment method stays for history')


@tagged('post_install', '-at_install')
class TestListsTwoCompanies(ListsCase):
    """Two Odoo companies, each linked to its own QuickBooks company: lists never mix."""

    def test_each_company_gets_and_sees_only_its_own_lists(self):
        other = self.env['res.company'].create({'name': 'Second Company',
                                                'country_id': self.env.ref('base.us').id})
        self.env['account.chart.template'].try_loading('generic_coa', company=other, install_demo=False)
        realm = self.emulator.add_company(seed='empty', name='Second QuickBooks Co')
        second = self._make_connection(company=other, realm_id=realm)
        self.sync('initial')
        run = self.in_worker(second.with_company(other), '_sync', 'initial')
        self.assertEqual(run.state, 'done', run.summary)

        theirs = self.env['qbo.account'].search([('connection_id', '=', second.id)])
        self.assertEqual(len(theirs), len(self.emulator.store.all(realm, 'Account')))
        self.assertTrue(all(acc.company_ids == other for acc in theirs.account_id))
        self.assertEqual(theirs.company_id, other)

        user = new_test_user(self.env, 'lists_user', groups='werx_quickbooks.group_qbo_user',
                             company_id=self.env.company.id, company_ids=[self.env.company.id])
        visible = self.env['qbo.account'].with_user(user).search([])
        self.assertTrue(visible)
        self.assertFalse(visible & theirs, "a user of the first company never sees the second's lists")

    def test_switching_quickbooks_company_archives_the_old_lists_and_imports_the_new(self):
        self.sync('initial')
        old = self.mappings('qbo.account')
        old_accounts = old.account_id
        realm = self.emulator.add_company(seed='empty', name='Replacement QuickBooks Co')
        self.connection._qbo_archive_mappings()
        self.assertFalse(self.connection.lists_cursor, 'the next run is a full import')
        self._make_connection(realm_id=realm)
        run = self.sync('initial')
        self.assertEqual(run.state, 'done', run.summary)
        self.assertFalse(any(old.mapped('active')), 'the old links are archived, not deleted')
        self.assertEqual(old_accounts.exists(), old_accounts, 'no Odoo account was deleted')
        new = self.env['qbo.account'].search([('connection_id', '=', self.connection.id),
                                              ('realm_id', '=', realm)])
        # QBO Ids restart in every company: the same Ids live side by side under their realm.
        self.assertEqual(len(new), len(self.emulator.store.all(realm, 'Account')))
        self.assertTrue(set(new.mapped('qbo_id')) & set(old.mapped('qbo_id')))


@tagged('post_install', '-at_install')
class TestListsPaging(ListsCase):
    """Lists longer than a page: progress totals, one call per page, parents in a later page."""

    def test_pages_commit_one_by_one_and_late_parents_are_linked(self):
        store, realm = self.emulator.store, self.emulator.realm_id
        child = store.create(realm, 'Class', {'Name': 'Night Shift'})
        parent = store.create(realm, 'Class', {'Name': 'Operations'})
        store.update(realm, 'Class', child['Id'], {'ParentRef': {'value': parent['Id']}})
        classes = len(self.qbo('Class'))   # 7: the child's page comes before its parent's
        commits = []
        Connection = type(self.connection)
        with patch.object(const, 'PAGE_SIZE', 2), \
                patch.object(Connection, '_qbo_commit', lambda connection: commits.append(connection.id)):
            run = self.sync('initial')
        self.assertEqual(run.state, 'done', run.summary)
        stat = run.stat_ids.filtered(lambda s: s.entity == 'Class')
        self.assertEqual((stat.total, stat.done, stat.created), (classes, classes, classes))
        self.assertGreaterEqual(len(commits), math.ceil(classes / 2), 'a commit per page at least')
        night = self.env['qbo.class'].search([('connection_id', '=', self.connection.id),
                                              ('qbo_id', '=', child['Id'])])
        self.assertEqual(night.parent_id.name, 'Operations')
        self.assertEqual(night.analytic_account_id.name, 'Operations:Night Shift')
        self.assertEqual(night.analytic_account_id.plan_id.name, 'Operations')

    def test_a_purchase_rate_becomes_a_purchase_tax(self):
        store, realm = self.emulator.store, self.emulator.realm_id
        agency = self.qbo('TaxAgency')[0]
        rate = store.create(realm, 'TaxRate', {'Name': 'Use Tax', 'RateValue': 6.0,
                                               'AgencyRef': {'value': agency['Id']}})
        code = store.create(realm, 'TaxCode', {
            'Name': 'Use tax on purchases', 'Taxable': True, 'TaxGroup': False,
            'SalesTaxRateList': {'TaxRateDetail': []},
            'PurchaseTaxRateList': {'TaxRateDetail': [{'TaxRateRef': {'value': rate['Id']}, 'TaxOrder': 0}]}})
        self.sync('initial')
        rate_map = self.env['qbo.tax.rate'].search([('connection_id', '=', self.connection.id),
                                                    ('qbo_id', '=', rate['Id'])])
        self.assertEqual((rate_map.tax_id.type_tax_use, rate_map.tax_id.amount), ('purchase', 6.0))
        code_map = self.env['qbo.tax.code'].search([('connection_id', '=', self.connection.id),
                                                    ('qbo_id', '=', code['Id'])])
        self.assertEqual((code_map.match_state, code_map.tax_id, code_map.type_tax_use),
                         ('matched', rate_map.tax_id, 'purchase'))


@tagged('post_install', '-at_install')
class TestListsLog(ListsCase):
    """The log tells the truth: one line per failing record, closed once it comes in; 'no changes'."""

    def test_a_record_that_keeps_failing_is_one_line_and_closes_when_it_comes_in(self):
        rent_id = next(a['Id'] for a in self.qbo('Account') if a['Name'] == 'Rent')
        with failing_to_map(self.env['qbo.account'], {rent_id}):
            first = self.sync('initial')
            second = self.sync('manual')
        failures = self.env['qbo.sync.failure'].search([('connection_id', '=', self.connection.id)])
        self.assertEqual(len(failures), 1, 'one open failure, not one a run')
        self.assertEqual((failures.occurrences, failures.run_id, failures.state), (2, second, 'open'))
        self.assertEqual(first.stat_ids.filtered(lambda s: s.entity == 'Account').failed, 1)
        third = self.sync('manual')   # fixed: the failed record is read again and comes in
        self.assertEqual(third.state, 'done', third.summary)
        self.assertEqual(failures.state, 'resolved', 'closed by the sync that brought the record in')
        self.assertFalse(self.connection.sync_failure_ids)

    def test_a_run_that_changed_nothing_says_so_and_old_runs_go(self):
        self.sync('initial')
        idle = self.sync('manual')
        self.assertTrue(idle.summary.startswith('No changes'), idle.summary)
        self.assertEqual(idle.api_calls, 4, 'an idle sync costs only the calls it must make')
        Run = self.env['qbo.sync.run']
        old = Run.create({'connection_id': self.connection.id, 'trigger': 'cron', 'state': 'done',
                          'started_at': fields.Datetime.now() - timedelta(days=100)})
        kept = Run.create({'connection_id': self.connection.id, 'trigger': 'cron', 'state': 'partial',
                           'started_at': fields.Datetime.now() - timedelta(days=100)})
        still_open = self.env['qbo.sync.failure'].create({
            'run_id': kept.id, 'connection_id': self.connection.id, 'entity': 'Account', 'qbo_id': '1',
            'message': 'still wrong', 'last_seen_at': fields.Datetime.now() - timedelta(days=100)})
        solved = self.env['qbo.sync.failure'].create({
            'run_id': idle.id, 'connection_id': self.connection.id, 'entity': 'Account', 'qbo_id': '2',
            'message': 'was wrong', 'state': 'resolved',
            'last_seen_at': fields.Datetime.now() - timedelta(days=100)})
        Run._gc_old_runs()
        self.assertFalse(old.exists(), 'older than the 90 days kept')
        self.assertFalse(solved.exists())
        self.assertTrue(kept.exists() and still_open.exists(), 'an open failure stays, with its run')
        self.assertTrue(idle.exists())
