"""Tier 2: the imported lists keep the books right, read as an accountant reads them.

Each test imports the emulator's demo company into a real Odoo 18, then posts invoices,
bills and payments in Odoo and reads their journal items, or changes a list in the
emulator and checks what the next sync did to the Odoo records.
"""

from datetime import date, timedelta

from odoo import Command
from odoo.tests import tagged

from .test_import_lists import ListsCase

try:
    from qbo_emulator.store import due_date as qbo_due_date
except ImportError:  # pragma: no cover - common.py fails the class without the emulator
    qbo_due_date = None

AGENCY = 'California Department of Tax and Fee Administration'


class BooksCase(ListsCase):

    def mapping(self, model, name, connection=None):
        return self.env[model].with_context(active_test=False).search(
            [('connection_id', '=', (connection or self.connection).id), ('name', '=', name)])

    def qbo_named(self, entity, name):
        return next(o for o in self.qbo(entity) if o.get('Name', o.get('DisplayName')) == name)

    def partner(self):
        return self.env['res.partner'].create({'name': 'Amy Lauterbach'})

    def post(self, move_type, account, taxes, amount=100.0, **values):
        move = self.env['account.move'].create({
            'move_type': move_type,
            'partner_id': self.partner().id,
            'invoice_date': values.pop('invoice_date', date(2027, 3, 10)),
            'invoice_line_ids': [Command.create({
                'name': 'Service call', 'quantity': 1, 'price_unit': amount, 'account_id': account.id,
                'tax_ids': [Command.set(taxes.ids)]})],
            **values,
        })
        move.action_post()
        return move


@tagged('post_install', '-at_install')
class TestTaxBooks(BooksCase):
    """Sales tax is owed to the agency: it posts on the agency's liability, never on income."""

    def setUp(self):
        super().setUp()
        store, realm = self.emulator.store, self.emulator.realm_id
        state_rate = self.qbo_named('TaxRate', 'California State')

        def detail(rate):
            return {'TaxRateRef': {'value': rate['Id']}, 'TaxTypeApplicable': 'TaxOnAmount', 'TaxOrder': 0}
        # The emulator outlives a test: the purchase code is added once.
        if not any(r['Name'] == 'County Use Tax' for r in self.qbo('TaxRate')):
            county = store.create(realm, 'TaxRate', {'Name': 'County Use Tax', 'RateValue': 1.0,
                                                     'AgencyRef': {'value': self.qbo('TaxAgency')[0]['Id']}})
            # The state rate is also charged on purchases; a purchase code combines two rates.
            store.create(realm, 'TaxCode', {
                'Name': 'Purchases: State + County', 'Taxable': True, 'TaxGroup': True,
                'SalesTaxRateList': {'TaxRateDetail': []},
                'PurchaseTaxRateList': {'TaxRateDetail': [detail(state_rate), detail(county)]}})
        self.purchase_code = self.qbo_named('TaxCode', 'Purchases: State + County')
        self.state_rate_id = state_rate['Id']
        # Whatever this company's default, QBO adds the tax on top of the price.
        self.env.company.account_price_include = 'tax_included'
        run = self.sync('initial')
        self.assertEqual(run.state, 'done', run.summary)
        self.payable = self.mapping('qbo.account', '%s Payable' % AGENCY).account_id
        self.assertTrue(self.payable, "the agency's liability account came over with the chart")
        self.income = self.mapping('qbo.account', 'Discounts Given').account_id
        self.expense = self.mapping('qbo.account', 'Office Supplies').account_id

    def test_agency_is_a_tax_group_on_its_liability_account(self):
        agency = self.mapping('qbo.tax.agency', AGENCY)
        self.assertEqual(agency.match_state, 'created')
        self.assertEqual(agency.payable_account_id, self.payable)
        self.assertEqual(agency.tax_group_id.name, AGENCY)
        self.assertEqual(agency.tax_group_id.tax_payable_account_id, self.payable)
        self.assertEqual(self.payable.account_type, 'liability_current')
        state = self.mapping('qbo.tax.rate', 'California State')
        self.assertEqual(state.tax_id.tax_group_id, agency.tax_group_id)
        for tax in state.tax_id | state.purchase_tax_id:
            self.assertFalse(tax.price_include, 'excluded from the price, as in QuickBooks')
            for line in tax.repartition_line_ids.filtered(lambda r: r.repartition_type == 'tax'):
                self.assertEqual(line.account_id, self.payable, '%s %s' % (tax.name, line.document_type))

    def test_invoice_books_the_tax_on_the_agency_liability_and_the_base_on_income(self):
        california = self.mapping('qbo.tax.code', 'California').tax_id
        invoice = self.post('out_invoice', self.income, california)
        self.assertEqual(invoice.amount_total, 107.25, 'tax added on top of the price')
        lines = invoice.line_ids
        tax_line = lines.filtered('tax_line_id')
        self.assertEqual((tax_line.account_id, tax_line.balance), (self.payable, -7.25))
        base = lines.filtered(lambda line: line.display_type == 'product')
        self.assertEqual((base.account_id, base.balance), (self.income, -100.0))
        receivable = lines.filtered(lambda line: line.display_type == 'payment_term')
        self.assertEqual(receivable.balance, 107.25)
        self.assertFalse(lines.filtered(lambda line: line.account_id == self.income and line.tax_line_id),
                         'no tax on the income account')

        combined = self.mapping('qbo.tax.code', 'Combined: State + City').tax_id
        invoice = self.post('out_invoice', self.income, combined, amount=200.0)
        tax_lines = invoice.line_ids.filtered('tax_line_id')
        self.assertEqual(sorted(tax_lines.mapped('balance')), [-14.5, -2.75])
        self.assertEqual(tax_lines.account_id, self.payable)

        refund = self.post('out_refund', self.income, california)
        tax_line = refund.line_ids.filtered('tax_line_id')
        self.assertEqual((tax_line.account_id, tax_line.balance), (self.payable, 7.25))

    def test_a_rate_used_on_both_sides_is_a_purchase_tax_on_bills(self):
        state = self.mapping('qbo.tax.rate', 'California State')
        self.assertEqual(state.used_on, 'both')
        self.assertEqual((state.tax_id.type_tax_use, state.purchase_tax_id.type_tax_use),
                         ('sale', 'purchase'))
        self.assertEqual(state.purchase_tax_id.amount, 7.25)
        bill = self.post('in_invoice', self.expense, state.purchase_tax_id)
        tax_line = bill.line_ids.filtered('tax_line_id')
        self.assertEqual((tax_line.account_id, tax_line.balance), (self.payable, 7.25))
        base = bill.line_ids.filtered(lambda line: line.display_type == 'product')
        self.assertEqual((base.account_id, base.balance), (self.expense, 100.0))

        code = self.env['qbo.tax.code'].search([('connection_id', '=', self.connection.id),
                                                ('qbo_id', '=', self.purchase_code['Id'])])
        group = code.tax_id
        self.assertEqual((code.match_state, group.amount_type, group.type_tax_use),
                         ('created', 'group', 'purchase'), 'a purchase code of two rates: a purchase group')
        self.assertEqual(set(group.children_tax_ids.mapped('type_tax_use')), {'purchase'})
        self.assertIn(state.purchase_tax_id, group.children_tax_ids, 'never the sales tax reused on bills')
        bill = self.post('in_invoice', self.expense, group)
        self.assertEqual(sorted(bill.line_ids.filtered('tax_line_id').mapped('balance')), [1.0, 7.25])

    def test_not_taxable_code_says_so(self):
        non = self.mapping('qbo.tax.code', 'NON')
        self.assertEqual((non.match_state, non.tax_id), ('not_needed', self.env['account.tax']))
        self.assertIn('Not taxable', non.match_note)
        automated = self.mapping('qbo.tax.code', 'TAX')
        self.assertEqual(automated.match_state, 'unmatched', "QBO's automated sales tax waits for the user")


@tagged('post_install', '-at_install')
class TestTaxMatching(BooksCase):

    def test_match_needs_same_use_rate_price_handling_and_zero_rates_are_never_merged(self):
        Tax = self.env['account.tax']
        exempt, zero = Tax.create([
            {'name': 'Exempt', 'amount': 0.0, 'amount_type': 'percent', 'type_tax_use': 'sale'},
            {'name': 'Zero rated', 'amount': 0.0, 'amount_type': 'percent', 'type_tax_use': 'sale'}])
        included = Tax.create({'name': 'State 7.25 incl.', 'amount': 7.25, 'amount_type': 'percent',
                               'type_tax_use': 'sale', 'price_include_override': 'tax_included'})
        purchase = Tax.create({'name': 'Purchase 1.5', 'amount': 1.5, 'amount_type': 'percent',
                               'type_tax_use': 'purchase'})
        run = self.sync('initial')
        self.assertEqual(run.state, 'done', run.summary)
        out_of_state = self.mapping('qbo.tax.rate', 'Out of State')
        self.assertEqual((out_of_state.match_state, out_of_state.tax_id), ('unmatched', Tax))
        self.assertIn('Exempt', out_of_state.match_note)
        self.assertIn('Zero rated', out_of_state.match_note)
        state = self.mapping('qbo.tax.rate', 'California State')
        self.assertEqual(state.match_state, 'created', 'a tax included in the price is another tax')
        self.assertNotEqual(state.tax_id, included)
        alameda = self.mapping('qbo.tax.rate', 'Alameda County')
        self.assertEqual(alameda.match_state, 'created', 'a purchase tax is never a sales rate')
        self.assertNotEqual(alameda.tax_id, purchase)
        self.assertFalse(self.env['qbo.tax.rate'].search([('tax_id', 'in', (exempt | zero).ids)]))

    def test_an_odoo_tax_that_books_elsewhere_is_not_linked_silently(self):
        city = self.env['account.tax'].create({'name': 'SF city', 'amount': 1.375, 'amount_type': 'percent',
                                               'type_tax_use': 'sale'})   # Odoo's default: tax on income
        self.sync('initial')
        mapping = self.mapping('qbo.tax.rate', 'San Francisco City')
        self.assertEqual((mapping.match_state, mapping.tax_id), ('conflict', city.browse()))
        self.assertIn('income', mapping.match_note)
        self.assertIn('%s Payable' % AGENCY, mapping.match_note)


@tagged('post_install', '-at_install')
class TestTermsDueDates(BooksCase):
    """Every imported term gives, for every invoice date, QuickBooks' due date."""

    def test_due_dates_match_quickbooks_on_every_day_or_the_term_waits_with_its_reason(self):
        store, realm = self.emulator.store, self.emulator.realm_id
        for term in ({'Name': 'Due 1st', 'DayOfMonthDue': 1, 'DueNextMonthDays': 0},
                     {'Name': 'Due 31st within 5', 'DayOfMonthDue': 31, 'DueNextMonthDays': 5},
                     {'Name': 'Due 20th within 25', 'DayOfMonthDue': 20, 'DueNextMonthDays': 25},
                     {'Name': 'Due 30th', 'DayOfMonthDue': 30, 'DueNextMonthDays': 0},
                     {'Name': 'Due 25th, 1% by the 10th', 'DayOfMonthDue': 25, 'DueNextMonthDays': 3,
                      'DiscountPercent': 1, 'DiscountDayOfMonth': 10}):
            store.create(realm, 'Term', term)
        run = self.sync('initial')
        self.assertEqual(run.state, 'done', run.summary)
        days = [date(2027, 1, 1) + timedelta(days=n) for n in range(31)]
        days += [date(2027, 3, 1) + timedelta(days=n) for n in range(31)]   # after a short February
        checked = 0
        for obj in self.qbo('Term'):
            mapping = self.env['qbo.term'].with_context(active_test=False).search(
                [('connection_id', '=', self.connection.id), ('qbo_id', '=', obj['Id'])])
            if obj['Name'] in ('Due 30th', 'Due 25th, 1% by the 10th'):
                self.assertEqual((mapping.match_state, mapping.payment_term_id),
                                 ('unmatched', self.env['account.payment.term']), obj['Name'])
                self.assertIn('Waits for you', mapping.match_note)
                self.assertIn('February' if obj['Name'] == 'Due 30th' else 'discount', mapping.match_note)
                continue
            line = mapping.payment_term_id.line_ids
            self.assertEqual(len(line), 1, obj['Name'])
            for invoice_date in days:
                self.assertEqual(line._get_due_date(invoice_date), qbo_due_date(invoice_date, obj),
                                 '%s, invoice of %s' % (obj['Name'], invoice_date))
            checked += 1
        self.assertEqual(checked, 10)

        # A rule Odoo cannot follow, set later in QuickBooks, waits too (the term keeps its exact rule).
        due15 = self.mapping('qbo.term', 'Due 15th of next month')
        line = due15.payment_term_id.line_ids
        store.update(realm, 'Term', due15.qbo_id, {'DiscountPercent': 1, 'DiscountDayOfMonth': 5})
        run = self.sync('manual')
        self.assertEqual(run.state, 'done', run.summary)
        self.assertEqual(due15.match_state, 'conflict')
        self.assertIn('discount', due15.match_note)
        self.assertEqual(due15.payment_term_id.line_ids, line, 'the term keeps its rule')
        self.assertFalse(due15.payment_term_id.early_discount)

        # One real invoice per date-driven term: Odoo's due date is the one QBO gives the same invoice.
        customer = self.qbo('Customer')[0]
        item = next(i for i in self.qbo('Item') if i['Type'] == 'Service')
        income = self.mapping('qbo.account', 'Services').account_id
        for name, invoice_date in (('Due 15th of next month', date(2027, 3, 4)),
                                   ('Due 15th of next month', date(2027, 3, 5)),
                                   ('Due 31st within 5', date(2027, 3, 1)),
                                   ('Due 20th within 25', date(2027, 1, 31))):
            term = self.qbo_named('Term', name)
            qbo_invoice = store.create(realm, 'Invoice', {
                'CustomerRef': {'value': customer['Id']}, 'TxnDate': invoice_date.isoformat(),
                'SalesTermRef': {'value': term['Id']},
                'Line': [{'DetailType': 'SalesItemLineDetail', 'Amount': 10.0,
                          'SalesItemLineDetail': {'ItemRef': {'value': item['Id']}, 'Qty': 1,
                                                  'UnitPrice': 10}}]})
            term_id = self.mapping('qbo.term', name).payment_term_id.id
            odoo_invoice = self.post('out_invoice', income, self.env['account.tax'],
                                     invoice_date=invoice_date, invoice_payment_term_id=term_id)
            self.assertEqual(odoo_invoice.invoice_date_due.isoformat(), qbo_invoice['DueDate'],
                             '%s on %s' % (name, invoice_date))


@tagged('post_install', '-at_install')
class TestBanksAndCards(BooksCase):

    def test_bank_and_card_accounts_have_journals_and_payments_land_on_the_bank_account(self):
        run = self.sync('initial')
        self.assertEqual(run.state, 'done', run.summary)
        checking = self.mapping('qbo.account', 'Business Checking')
        self.assertEqual((checking.journal_id.type, checking.journal_id.default_account_id),
                         ('bank', checking.account_id))
        card = self.mapping('qbo.account', 'Visa Business Card')
        self.assertEqual((card.journal_id.type, card.journal_id.default_account_id),
                         ('credit', card.account_id))
        petty = self.mapping('qbo.account', 'Petty Cash')
        self.assertEqual(petty.journal_id.type, 'cash')
        self.assertFalse(self.mapping('qbo.account', 'Old Savings (closed)').journal_id,
                         'no journal for a closed one')

        check = self.mapping('qbo.payment.method', 'Check')
        self.assertEqual(check.journal_id, checking.journal_id,
                         "payments go to QuickBooks' first bank account")
        self.assertEqual(self.mapping('qbo.payment.method', 'Cash').journal_id, petty.journal_id)

        income = self.mapping('qbo.account', 'Repairs').account_id
        invoice = self.post('out_invoice', income, self.env['account.tax'], amount=250.0)
        payment = self.env['account.payment.register'].with_context(
            active_model='account.move', active_ids=invoice.ids).create({
                'journal_id': check.journal_id.id, 'payment_method_line_id': check.payment_method_line_id.id,
            })._create_payments()
        self.assertEqual(payment.journal_id, checking.journal_id, 'received into the QuickBooks bank account')
        # As every payment of the journal: on Odoo's outstanding receipts until the bank statement line.
        self.assertEqual(payment.outstanding_account_id, payment._get_outstanding_account('inbound'))
        self.assertEqual(payment.move_id.line_ids.filtered(
            lambda line: line.account_id == payment.outstanding_account_id).balance, 250.0)
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        statement_line = self.env['account.bank.statement.line'].create({
            'journal_id': checking.journal_id.id, 'date': date(2027, 3, 12), 'payment_ref': 'Deposit',
            'amount': 250.0, 'partner_id': invoice.partner_id.id})
        bank_line = statement_line.move_id.line_ids.filtered(
            lambda line: line.account_id == checking.account_id)
        self.assertEqual(bank_line.balance, 250.0, 'the deposit lands on the QuickBooks bank account')

        # Moving a payment method that posted payments leaves those payments where they are.
        old_line = check.payment_method_line_id
        savings = self.mapping('qbo.account', 'Savings').journal_id
        check.journal_id = savings
        self.assertEqual(old_line.journal_id, checking.journal_id)
        self.assertEqual(payment.journal_id, checking.journal_id)
        self.assertEqual(check.payment_method_line_id.journal_id, savings)
        # One no payment uses simply moves.
        visa = self.mapping('qbo.payment.method', 'Visa')
        visa_line = visa.payment_method_line_id
        visa.journal_id = savings
        self.assertEqual((visa.payment_method_line_id, visa_line.journal_id), (visa_line, savings))

    def test_a_euro_bank_account_is_a_euro_account(self):
        store, realm = self.emulator.store, self.emulator.realm_id
        euro = store.create(realm, 'Account', {'Name': 'Euro Checking', 'AccountType': 'Bank',
                                               'AccountSubType': 'Checking', 'AcctNum': '1050',
                                               'CurrencyRef': {'value': 'EUR', 'name': 'Euro'}})
        run = self.sync('initial')
        self.assertEqual(run.state, 'done', run.summary)
        mapping = self.env['qbo.account'].search([('connection_id', '=', self.connection.id),
                                                  ('qbo_id', '=', euro['Id'])])
        eur = self.env.ref('base.EUR')
        self.assertEqual(mapping.account_id.currency_id, eur)
        self.assertEqual(mapping.journal_id.currency_id, eur)
        self.assertEqual(mapping.currency_id, eur, 'its balance is shown in euros')
        checking = self.mapping('qbo.account', 'Business Checking')
        self.assertEqual(checking.currency_id, self.env.company.currency_id)
        self.assertFalse(checking.account_id.currency_id, 'home currency accounts stay without one')


@tagged('post_install', '-at_install')
class TestChangesFromQuickBooks(BooksCase):
    """What is changed in QuickBooks arrives with the next sync, for matched and created records.

    Each class that changes the emulator's company has its own emulator.
    """

    def test_rename_renumber_and_deactivation_arrive_and_the_old_values_are_logged(self):
        company = self.env.company
        insurance = self.env['account.account'].create(
            {'code': '6300', 'name': 'Insurance costs', 'account_type': 'expense',
             'company_ids': company.ids})
        own_term = self.env['account.payment.term'].create({
            'name': 'Net 15', 'company_id': company.id, 'line_ids': [Command.create(
                {'value': 'percent', 'value_amount': 100, 'delay_type': 'days_after', 'nb_days': 15})]})
        self.sync('initial')
        store, realm = self.emulator.store, self.emulator.realm_id
        self.assertEqual(self.mapping('qbo.account', 'Insurance').account_id, insurance)
        net15 = self.mapping('qbo.term', 'Net 15')
        self.assertEqual(net15.payment_term_id, own_term)
        store.update(realm, 'Account', self.qbo_named('Account', 'Insurance')['Id'],
                     {'Name': 'Business Insurance', 'AcctNum': '6350'})
        store.update(realm, 'Account', self.qbo_named('Account', 'Advertising')['Id'], {'Active': False})
        store.update(realm, 'Term', self.qbo_named('Term', 'Net 15')['Id'], {'Name': 'Net 15 days'})
        store.update(realm, 'Class', self.qbo_named('Class', 'Residential')['Id'], {'Name': 'Homes'})
        run = self.sync('manual')
        self.assertEqual(run.state, 'done', run.summary)

        self.assertEqual((insurance.code, insurance.name), ('6350', 'Business Insurance'),
                         'a matched account follows its QuickBooks number and name')
        logged = {(c.field_label, c.old_value, c.new_value) for c in run.change_ids if c.applied}
        self.assertIn(('Code', '6300', '6350'), logged)
        self.assertIn(('Account Name', 'Insurance costs', 'Business Insurance'), logged)
        self.assertEqual(own_term.name, 'Net 15 days')
        self.assertIn(('Payment Terms', 'Net 15', 'Net 15 days'), logged)
        advertising = self.mapping('qbo.account', 'Advertising')
        self.assertTrue(advertising.account_id.deprecated)
        self.assertEqual(self.mapping('qbo.class', 'Homes').analytic_account_id.name, 'Homes')



@tagged('post_install', '-at_install')
class TestTypeChangeFromQuickBooks(BooksCase):
    """(Own emulator: the changes it makes there stay for the class.)"""

    def test_a_new_type_on_an_account_with_entries_waits_for_review(self):
        self.sync('initial')
        discounts = self.mapping('qbo.account', 'Discounts Given')
        self.post('out_invoice', discounts.account_id, self.env['account.tax'])
        store, realm = self.emulator.store, self.emulator.realm_id
        store.update(realm, 'Account', discounts.qbo_id, {'AccountType': 'Other Income',
                                                         'AccountSubType': 'OtherMiscellaneousIncome'})
        unused = self.mapping('qbo.account', 'Interest Earned')
        store.update(realm, 'Account', unused.qbo_id, {'AccountType': 'Income',
                                                      'AccountSubType': 'ServiceFeeIncome'})
        run = self.sync('manual')
        self.assertEqual(run.state, 'done', run.summary)
        self.assertEqual(discounts.account_id.account_type, 'income', 'not changed under its entries')
        self.assertEqual(discounts.match_state, 'conflict')
        self.assertIn('journal entries', discounts.match_note)
        held = run.change_ids.filtered(lambda c: c.qbo_id == discounts.qbo_id)
        self.assertEqual((held.field_label, held.applied), ('Type', False))
        self.assertEqual(unused.account_id.account_type, 'income', 'an account without entries follows')



@tagged('post_install', '-at_install')
class TestSharedRecordsFromQuickBooks(BooksCase):
    """(Own emulator: the changes it makes there stay for the class.)"""

    def test_a_term_shared_by_every_company_is_unlinked_not_archived(self):
        self.sync('initial')
        net30 = self.mapping('qbo.term', 'Net 30')
        shared = net30.payment_term_id
        self.assertFalse(shared.company_id, "Odoo's own 30 Days term is every company's")
        store, realm = self.emulator.store, self.emulator.realm_id
        store.update(realm, 'Term', net30.qbo_id, {'Active': False})
        store.update(realm, 'Term', self.qbo_named('Term', 'Net 15')['Id'], {'Name': 'Net 15 days'})
        run = self.sync('manual')
        self.assertEqual(run.state, 'done', run.summary)
        self.assertTrue(shared.active, 'still there for the other companies')
        self.assertEqual((net30.payment_term_id, net30.match_state), (shared.browse(), 'unmatched'))
        self.assertIn('shared', net30.match_note)
        net15 = self.mapping('qbo.term', 'Net 15 days')
        self.assertEqual(net15.payment_term_id.name, '15 Days',
                         'a shared term is not renamed for every company')
        self.assertEqual(net15.match_state, 'matched', 'and it stays linked')
        self.assertTrue(run.change_ids.filtered(lambda c: c.qbo_id == net15.qbo_id and not c.applied))


@tagged('post_install', '-at_install')
class TestBranchAndAnalytic(BooksCase):

    def test_a_branch_matches_its_parent_chart_and_never_duplicates_it(self):
        self.sync('initial')
        chart = [('company_ids', 'in', self.env.company.ids)]
        parent_accounts = self.env['account.account'].search_count(chart)
        branch = self.env['res.company'].create({'name': 'North Branch', 'parent_id': self.env.company.id})
        realm = self.emulator.add_company(seed='demo', name='North Branch QuickBooks')
        connection = self._make_connection(company=branch, realm_id=realm)
        run = self.in_worker(connection.with_company(branch), '_sync', 'initial')
        self.assertEqual(run.state, 'done', run.summary)
        stat = run.stat_ids.filtered(lambda s: s.entity == 'Account')
        self.assertEqual((stat.created, stat.unmatched), (0, 0), self.env['qbo.account'].search(
            [('connection_id', '=', connection.id), ('match_state', '!=', 'matched')]).mapped(
            lambda m: '%s: %s' % (m.name, m.match_note)))
        self.assertEqual(self.env['account.account'].search_count(chart), parent_accounts)
        mappings = self.env['qbo.account'].search([('connection_id', '=', connection.id)])
        self.assertEqual(mappings.account_id.company_ids, self.env.company)
        checking = mappings.filtered(lambda m: m.name == 'Business Checking')
        self.assertEqual(self.env['account.journal'].search_count(
            [('default_account_id', '=', checking.account_id.id)]), 1,
            "the parent's journal, not a second one")
        self.assertEqual(checking.journal_id, self.mapping('qbo.account', 'Business Checking').journal_id)

        # The branch's QuickBooks renames an account: the parent's chart is not changed for every branch.
        self.emulator.store.update(realm, 'Account', checking.qbo_id, {'Name': 'Branch Checking'})
        run = self.in_worker(connection.with_company(branch), '_sync', 'manual')
        self.assertEqual(run.state, 'done', run.summary)
        self.assertEqual(checking.account_id.name, 'Business Checking')
        self.assertEqual(run.change_ids.filtered(lambda c: c.qbo_id == checking.qbo_id).applied, False)

    def test_analytic_plans_by_reference_parents_in_their_sub_plan_and_analytic_accounting_on(self):
        plan = self.env['qbo.class']._qbo_plan()
        self.assertEqual(self.env.ref('werx_quickbooks.analytic_plan_classes'), plan)
        plan.name = 'Klassen'   # a translated or renamed plan is still the one
        employees = self.env.ref('base.group_user')
        employees.implied_ids -= self.env.ref('analytic.group_analytic_accounting')
        self.sync('initial')
        self.assertIn(self.env.ref('analytic.group_analytic_accounting'), employees.implied_ids)
        commercial = self.mapping('qbo.class', 'Commercial')
        retail = self.mapping('qbo.class', 'Retail')
        self.assertEqual(commercial.analytic_account_id.root_plan_id, plan)
        self.assertEqual(commercial.analytic_account_id.plan_id, retail.analytic_account_id.plan_id)
        self.assertEqual(commercial.analytic_account_id.plan_id.parent_id, plan)
        self.assertFalse(self.env['account.analytic.plan'].search([('name', '=', 'QuickBooks Classes')]))


@tagged('post_install', '-at_install')
class TestTaxChangesFromQuickBooks(BooksCase):
    """A rate's new agency, a rate's new value and a code's new rates reach the Odoo taxes."""

    def test_taxes_follow_their_rates_and_agencies(self):
        self.sync('initial')
        store, realm = self.emulator.store, self.emulator.realm_id
        city_office = store.create(realm, 'TaxAgency', {'DisplayName': 'City Tax Office'})
        state = self.mapping('qbo.tax.rate', 'California State')
        store.update(realm, 'TaxRate', state.qbo_id, {'AgencyRef': {'value': city_office['Id']},
                                                      'RateValue': 7.5})
        combined = self.mapping('qbo.tax.code', 'Combined: State + City')
        alameda = self.qbo_named('TaxRate', 'Alameda County')
        state_rate = self.qbo_named('TaxRate', 'California State')
        store.update(realm, 'TaxCode', combined.qbo_id, {'SalesTaxRateList': {'TaxRateDetail': [
            {'TaxRateRef': {'value': state_rate['Id']}, 'TaxOrder': 0},
            {'TaxRateRef': {'value': alameda['Id']}, 'TaxOrder': 1}]}})
        run = self.sync('manual')
        self.assertEqual(run.state, 'done', run.summary)

        payable = self.mapping('qbo.account', 'City Tax Office Payable').account_id
        agency = self.mapping('qbo.tax.agency', 'City Tax Office')
        self.assertTrue(payable and agency.tax_group_id)
        tax = state.tax_id
        self.assertEqual(tax.amount, 7.5)
        self.assertEqual(tax.tax_group_id, agency.tax_group_id)
        accounts = tax.repartition_line_ids.filtered(lambda line: line.repartition_type == 'tax').account_id
        self.assertEqual(accounts, payable, 'the tax now owed to the new agency posts on its account')
        self.assertTrue(run.change_ids.filtered(
            lambda c: c.qbo_id == state.qbo_id and c.field_label == 'Amount'))
        group = combined.tax_id
        self.assertEqual(group.children_tax_ids, tax | self.mapping('qbo.tax.rate', 'Alameda County').tax_id,
                         "the code's group follows its new rates")
        invoice = self.post('out_invoice', self.mapping('qbo.account', 'Repairs').account_id, group)
        by_account = {line.account_id: line.balance for line in invoice.line_ids.filtered('tax_line_id')}
        self.assertEqual(by_account[payable], -7.5)
        self.assertEqual(by_account[self.mapping('qbo.account', '%s Payable' % AGENCY).account_id], -1.5)
