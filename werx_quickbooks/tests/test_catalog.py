# Part of werx_quickbooks. License LGPL-3.
"""Products & Services both ways: import, matching, sending, conflicts, name clashes, crash safety."""

from unittest.mock import patch

from odoo.tests import tagged

from ..qbo import const
from .common import QBOSyncCase


class CatalogCase(QBOSyncCase):
    """The demo company's lists imported once; the catalog switched on both ways."""

    def start_catalog(self, direction='both', **defaults):
        self.connection.write(dict(defaults, item_direction='off'))
        self.sync('initial')
        self.connection.write({'item_direction': direction})
        return self.sync()

    def qbo_item(self, name):
        found = [i for i in self.store.all(self.realm, 'Item') if i['Name'] == name]
        self.assertEqual(len(found), 1, 'exactly one QuickBooks item named %s: %s' % (name, found))
        return found[0]

    def item(self, name):
        return self.env['qbo.item'].with_context(active_test=False).search(
            [('connection_id', '=', self.connection.id), ('name', '=', name)])

    def qbo_account(self, name):
        return self.env['qbo.account'].search([('connection_id', '=', self.connection.id),
                                               ('name', '=', name)])



@tagged('post_install', '-at_install')
class TestCatalogImport(CatalogCase):

    def test_demo_catalog_imports_with_exact_counts_and_values(self):
        self.start_catalog()
        qbo = self.store.all(self.realm, 'Item')
        products = [i for i in qbo if i['Type'] != 'Category']
        categories = [i for i in qbo if i['Type'] == 'Category']
        items = self.env['qbo.item'].with_context(active_test=False).search(
            [('connection_id', '=', self.connection.id)])
        # The demo company: 20 products and services (2 inactive) in 4 categories, 3 levels deep.
        self.assertEqual((len(products), len(categories)), (20, 4))
        self.assertEqual(len(items), len(products))
        self.assertEqual(set(items.mapped('match_state')), {'created'})
        self.assertEqual(len(items.product_id), len(products), 'one Odoo product per QuickBooks item')
        cats = self.env['qbo.item.category'].search([('connection_id', '=', self.connection.id)])
        self.assertEqual(len(cats.category_id), len(categories))

        labor = self.item('Hourly Labor').product_id
        self.assertEqual((labor.type, labor.list_price, labor.default_code), ('service', 95.0, 'LAB-HR'))
        self.assertEqual(labor.categ_id.name, 'Labor')
        self.assertEqual(labor.property_account_income_id, self.qbo_account('Repairs').account_id)

        part = self.item('Compressor C-5')
        product = part.product_id
        self.assertEqual((product.type, product.list_price, product.standard_price, product.default_code),
                         ('consu', 1450.0, 780.0, 'C5-COMP'))
        self.assertEqual(part.item_type, 'Inventory')
        self.assertEqual(part.qty_on_hand, 4.0)
        self.assertEqual(product.property_account_income_id,
                         self.qbo_account('Sales of Product Income').account_id)
        self.assertEqual(product.property_account_expense_id,
                         self.qbo_account('Cost of Goods Sold').account_id)
        # A sub-category keeps its place: Parts / Equipment.
        self.assertEqual((product.categ_id.name, product.categ_id.parent_id.name), ('Equipment', 'Parts'))
        deep = self.item('Heat Pump HP-48').product_id.categ_id
        self.assertEqual(deep.complete_name, 'Parts / Equipment / Heat Pumps')

        self.assertFalse(labor.taxes_id, 'not taxable in QuickBooks: no sales tax in Odoo')
        legacy = self.item('Legacy Service Contract')
        self.assertFalse(legacy.active)
        self.assertFalse(legacy.product_id.active, 'inactive in QuickBooks: archived in Odoo')
        self.assertFalse(self.writes(), 'importing sent nothing back to QuickBooks')

    def test_existing_products_match_by_reference_and_by_name(self):
        by_ref = self.env['product.product'].create({'name': 'Wall thermostat', 'default_code': 'TX-200',
                                                     'type': 'consu'})
        by_name = self.env['product.product'].create({'name': 'maintenance  visit', 'type': 'service'})
        other_type = self.env['product.product'].create({'name': 'Permit Fee', 'type': 'service'})
        self.start_catalog()
        self.assertEqual(self.item('Thermostat TX-200').product_id, by_ref)
        self.assertEqual(self.item('Maintenance Visit').product_id, by_name)
        self.assertEqual(self.item('Maintenance Visit').match_state, 'matched')
        permit = self.item('Permit Fee')
        self.assertNotEqual(permit.product_id, other_type, 'a service never matches goods')
        self.assertEqual(self.env['product.product'].search_count([('default_code', '=', 'TX-200')]), 1)


    def test_more_changes_than_the_change_feed_lists_are_read_by_date_not_whole(self):
        self.start_catalog()
        changed = [i for i in self.store.all(self.realm, 'Item') if i['Type'] == 'Service'][:4]
        for obj in changed:
            self.store.update(self.realm, 'Item', obj['Id'], {'UnitPrice': 7.0})
        self.emulator.reset_log()
        with patch.object(const, 'CDC_MAX_OBJECTS', 3):
            self.sync()
        reads = [r['query'] for r in self.emulator.request_log if r['query'] and 'FROM Item' in r['query']]
        self.assertTrue(reads and all('LastUpdatedTime' in q for q in reads), reads)
        for obj in changed:
            mapping = self.env['qbo.item'].search([('connection_id', '=', self.connection.id),
                                                   ('qbo_id', '=', obj['Id'])])
            self.assertEqual(mapping.product_id.with_context(active_test=False).list_price, 7.0, obj['Name'])


@tagged('post_install', '-at_install')
class TestCatalogPush(CatalogCase):

    def test_a_product_created_in_odoo_goes_to_quickbooks_with_the_defaults_accounts(self):
        self.start_catalog()
        income, expense = self.qbo_account('Installation'), self.qbo_account('Cost of Goods Sold')
        self.connection.write({'income_account_id': income.id, 'expense_account_id': expense.id})
        bare = self.env['product.category'].create({'name': 'No accounts'})
        gutter = self.env['product.product'].create({
            'name': 'Gutter Cleaning', 'type': 'service', 'list_price': 80, 'default_code': 'GUT-1',
            'categ_id': bare.id, 'purchase_ok': False})
        hose = self.env['product.product'].create({
            'name': 'Garden Hose', 'type': 'consu', 'list_price': 30, 'standard_price': 12,
            'categ_id': bare.id})
        repairs = self.qbo_account('Repairs')
        hose.product_tmpl_id.qbo_income_account_id = repairs
        self.emulator.reset_log()
        run = self.sync()
        sent = self.qbo_item('Gutter Cleaning')
        self.assertEqual((sent['Type'], sent['UnitPrice'], sent['Sku']), ('Service', 80.0, 'GUT-1'))
        self.assertEqual(sent['IncomeAccountRef']['value'], income.qbo_id)
        hose_qbo = self.qbo_item('Garden Hose')
        self.assertEqual((hose_qbo['Type'], hose_qbo['PurchaseCost']), ('NonInventory', 12.0))
        self.assertEqual(hose_qbo['IncomeAccountRef']['value'], repairs.qbo_id, 'the product override wins')
        self.assertEqual(hose_qbo['ExpenseAccountRef']['value'], expense.qbo_id)
        mapping = self.item('Gutter Cleaning')
        self.assertEqual((mapping.product_id, mapping.match_state, mapping.last_direction),
                         (gutter, 'sent', 'odoo2qbo'))
        batches = [r for r in self.emulator.request_log if r['path'].endswith('/batch')]
        self.assertEqual(len(batches), 1, 'two new products: one batch')
        self.assertTrue(batches[0]['request_id'])
        stat = run.stat_ids.filtered(lambda s: s.entity == 'Item>QBO')
        self.assertEqual(stat.created, 2)
        # Nothing echoes back: the next sync sends nothing and changes nothing.
        self.emulator.reset_log()
        self.sync()
        self.assertFalse(self.writes())

    def test_a_price_changed_on_each_side_arrives_on_the_other(self):
        self.start_catalog()
        labor = self.item('Hourly Labor')
        self.store.update(self.realm, 'Item', labor.qbo_id, {'UnitPrice': 99.5})
        self.sync()
        self.assertEqual(labor.product_id.list_price, 99.5)
        self.assertEqual(labor.last_direction, 'qbo2odoo')

        diag = self.item('Diagnostic Fee')
        diag.product_id.list_price = 95.0
        self.assertTrue(diag.need_push)
        self.emulator.reset_log()
        self.sync()
        self.assertEqual(self.store.get(self.realm, 'Item', diag.qbo_id)['UnitPrice'], 95.0)
        self.assertEqual((diag.need_push, diag.last_direction), (False, 'odoo2qbo'))
        self.assertEqual(diag.sync_token, self.store.get(self.realm, 'Item', diag.qbo_id)['SyncToken'])
        self.emulator.reset_log()
        self.sync()
        self.assertFalse(self.writes(), 'the price it sent does not come back as a change')
        self.assertEqual(diag.product_id.list_price, 95.0)

    def test_an_archived_product_goes_inactive_and_each_variant_is_its_own_item(self):
        self.start_catalog()
        self.connection.income_account_id = self.qbo_account('Installation')
        diag = self.item('Diagnostic Fee')
        diag.product_id.active = False
        size = self.env['product.attribute'].create({'name': 'Size', 'value_ids': [
            (0, 0, {'name': 'Small'}), (0, 0, {'name': 'Large'})]})
        template = self.env['product.template'].create({
            'name': 'Filter Kit', 'type': 'consu', 'list_price': 40, 'purchase_ok': False,
            'attribute_line_ids': [(0, 0, {'attribute_id': size.id,
                                           'value_ids': [(6, 0, size.value_ids.ids)]})]})
        self.assertEqual(len(template.product_variant_ids), 2)
        self.sync()
        self.assertIs(self.store.get(self.realm, 'Item', diag.qbo_id)['Active'], False)
        self.assertFalse(diag.active)
        diag.product_id.active = True
        self.sync()
        self.assertIs(self.store.get(self.realm, 'Item', diag.qbo_id)['Active'], True,
                      'restored: active again')
        self.assertTrue(diag.active)
        self.qbo_item('Filter Kit (Small)')
        self.qbo_item('Filter Kit (Large)')
        variants = self.env['qbo.item'].search([('product_id', 'in', template.product_variant_ids.ids)])
        self.assertEqual(len(variants), 2, 'one QuickBooks item per variant')

    def test_a_stale_version_is_read_again_and_sent_once_more(self):
        self.start_catalog()
        diag = self.item('Diagnostic Fee')
        # QuickBooks changed something the pull has not seen yet: Odoo's SyncToken is old.
        self.store.update(self.realm, 'Item', diag.qbo_id, {'Description': 'Diagnosis'})
        diag.product_id.list_price = 91.0
        self.emulator.reset_log()
        with patch.object(type(self.connection), '_qbo_pull_changes', lambda *args: None):
            self.sync()
        batches = [r for r in self.emulator.request_log if r['path'].endswith('/batch')]
        self.assertEqual(len(batches), 2, 'refused as stale once, then sent again')
        qbo = self.store.get(self.realm, 'Item', diag.qbo_id)
        self.assertEqual((qbo['UnitPrice'], qbo['Description']), (91.0, 'Diagnosis'),
                         "Odoo's price and QuickBooks' description: nothing lost on either side")
        self.assertEqual(diag.product_id.description_sale, 'Diagnosis')
        self.assertFalse(diag.need_push)


@tagged('post_install', '-at_install')
class TestCatalogConflicts(CatalogCase):

    def both_sides(self, policy):
        self.start_catalog()
        self.connection.conflict_policy = policy
        item = self.item('Emergency Call-out')
        item.product_id.list_price = 210.0
        self.store.update(self.realm, 'Item', item.qbo_id, {'UnitPrice': 205.0})
        return item, self.sync()

    def test_quickbooks_wins_and_the_odoo_value_stays_in_the_log(self):
        item, run = self.both_sides('qbo')
        self.assertEqual(item.product_id.list_price, 205.0)
        self.assertEqual(self.store.get(self.realm, 'Item', item.qbo_id)['UnitPrice'], 205.0)
        change = run.change_ids.filtered(lambda c: c.qbo_id == item.qbo_id)
        self.assertEqual((change.old_value, change.new_value, change.applied), ('210.0', '205.0', True))

    def test_newest_change_wins(self):
        self.start_catalog()
        self.connection.conflict_policy = 'newest'
        item = self.item('Emergency Call-out')
        self.store.update(self.realm, 'Item', item.qbo_id, {'UnitPrice': 205.0})
        self.emulator.clock.advance(-120)   # QuickBooks' change is older than Odoo's below
        try:
            self.store.update(self.realm, 'Item', item.qbo_id, {'Description': 'Older change'})
        finally:
            self.emulator.clock.advance(120)
        item.product_id.list_price = 215.0
        self.sync()
        self.assertEqual(self.store.get(self.realm, 'Item', item.qbo_id)['UnitPrice'], 215.0,
                         'Odoo was newer')
        self.assertEqual(item.product_id.list_price, 215.0)
        # And the other way: QuickBooks changed after Odoo.
        item.product_id.list_price = 220.0
        self.emulator.clock.advance(120)
        self.store.update(self.realm, 'Item', item.qbo_id, {'UnitPrice': 225.0})
        self.sync()
        self.assertEqual(item.product_id.list_price, 225.0, 'QuickBooks was newer')
        self.assertEqual(self.store.get(self.realm, 'Item', item.qbo_id)['UnitPrice'], 225.0)

    def test_odoo_wins_and_the_quickbooks_value_stays_in_the_log(self):
        item, run = self.both_sides('odoo')
        self.assertEqual(item.product_id.list_price, 210.0)
        self.assertEqual(self.store.get(self.realm, 'Item', item.qbo_id)['UnitPrice'], 210.0)
        change = run.change_ids.filtered(lambda c: c.qbo_id == item.qbo_id)
        self.assertEqual((change.new_value, change.applied), ('205.0', False))


@tagged('post_install', '-at_install')
class TestCatalogNameClash(CatalogCase):

    def test_a_name_quickbooks_already_uses_is_linked(self):
        self.connection.write({'name_clash': 'link', 'item_direction': 'off'})
        self.sync('initial')
        self.connection.write({'item_direction': 'odoo2qbo',   # no pull: only QuickBooks knows the item
                               'income_account_id': self.qbo_account('Repairs').id})
        product = self.env['product.product'].create({'name': 'Hourly Labor', 'type': 'service'})
        before = len(self.store.all(self.realm, 'Item'))
        self.sync()
        self.assertEqual(len(self.store.all(self.realm, 'Item')), before, 'no second item')
        mapping = self.item('Hourly Labor')
        self.assertEqual((mapping.product_id, mapping.qbo_id), (product, self.qbo_item('Hourly Labor')['Id']))

    def test_a_name_quickbooks_already_uses_gets_a_differentiator(self):
        self.start_catalog(name_clash='suffix')
        self.connection.income_account_id = self.qbo_account('Repairs')
        self.env['product.product'].create({'name': 'Hourly Labor', 'type': 'service', 'default_code': 'HL2'})
        self.sync()
        self.qbo_item('Hourly Labor')
        self.qbo_item('Hourly Labor (HL2)')


@tagged('post_install', '-at_install')
class TestCatalogCrash(CatalogCase):

    def test_a_crash_between_the_reply_and_the_bind_leaves_one_quickbooks_item(self):
        class WorkerKilled(BaseException):
            pass
        self.start_catalog()
        product = self.env['product.product'].create({'name': 'Duct Sealing', 'type': 'service',
                                                      'list_price': 60, 'purchase_ok': False})
        before = len(self.store.all(self.realm, 'Item'))
        self.connection.income_account_id = self.qbo_account('Installation')
        Item = type(self.env['qbo.item'])

        def dies(*args, **kwargs):
            raise WorkerKilled()
        killed = False
        with patch.object(Item, '_qbo_push_bind', dies):
            try:
                self.in_worker(self.connection, '_sync', 'manual')
            except WorkerKilled:
                killed = True
        self.assertTrue(killed)
        self.qbo_item('Duct Sealing')   # QuickBooks has it
        pending = self.env['qbo.outbox'].search([('connection_id', '=', self.connection.id),
                                                 ('state', '=', 'pending')])
        self.assertEqual(len(pending), 1, 'the batch was stored before it was sent')
        self.in_worker(self.env['qbo.connection'], '_cron_sync')   # recovers the run, then syncs
        self.sync()
        self.assertEqual(len(self.store.all(self.realm, 'Item')), before + 1, 'exactly one item, in all')
        self.assertEqual(pending.state, 'done')
        mapping = self.item('Duct Sealing')
        self.assertEqual((mapping.product_id, mapping.match_state), (product, 'sent'))
        self.assertEqual(self.env['product.product'].search_count([('name', '=', 'Duct Sealing')]), 1)

    def test_a_product_deleted_while_its_batch_waited_leaves_the_item_for_the_user(self):
        class WorkerKilled(BaseException):
            pass
        self.start_catalog()
        self.connection.income_account_id = self.qbo_account('Installation')
        product = self.env['product.product'].create({'name': 'Chimney Sweep', 'type': 'service',
                                                      'purchase_ok': False})

        def dies(*args, **kwargs):
            raise WorkerKilled()
        killed = False
        with patch.object(type(self.env['qbo.item']), '_qbo_push_bind', dies):
            try:
                self.in_worker(self.connection, '_sync', 'manual')
            except WorkerKilled:
                killed = True
        self.assertTrue(killed)
        product.unlink()
        self.sync()
        mapping = self.item('Chimney Sweep')
        self.assertEqual((mapping.product_id.id, mapping.match_state), (False, 'conflict'))
        self.assertFalse(self.env['product.product'].search([('name', '=', 'Chimney Sweep')]),
                         'not brought back as a new product')


@tagged('post_install', '-at_install')
class TestCatalogBooks(CatalogCase):
    """Products from QuickBooks book where QuickBooks books them."""

    def test_an_invoice_and_a_bill_of_imported_products_post_to_quickbooks_accounts(self):
        self.start_catalog()
        customer = self.env['res.partner'].create({'name': 'Books Customer'})
        labor = self.item('Hourly Labor').product_id
        invoice = self.env['account.move'].create({
            'move_type': 'out_invoice', 'partner_id': customer.id,
            'invoice_line_ids': [(0, 0, {'product_id': labor.id, 'quantity': 2})]})
        invoice.action_post()
        income = invoice.line_ids.filtered(lambda line: line.display_type == 'product')
        self.assertEqual(income.account_id, self.qbo_account('Repairs').account_id)
        self.assertEqual((income.credit, income.debit), (190.0, 0.0))
        self.assertFalse(invoice.line_ids.filtered(lambda line: line.display_type == 'tax'),
                         'not taxable in QuickBooks: no tax line')
        receivable = invoice.line_ids.filtered(lambda line: line.display_type == 'payment_term')
        self.assertEqual(receivable.debit, 190.0)

        filters = self.item('Air Filter 16x25').product_id
        bill = self.env['account.move'].create({
            'move_type': 'in_invoice', 'partner_id': customer.id, 'invoice_date': '2026-12-01',
            'invoice_line_ids': [(0, 0, {'product_id': filters.id, 'quantity': 10, 'price_unit': 9.5,
                                         'tax_ids': [(5, 0, 0)]})]})
        bill.action_post()
        expense = bill.line_ids.filtered(lambda line: line.display_type == 'product')
        self.assertEqual(expense.account_id, self.qbo_account('Cost of Goods Sold').account_id)
        self.assertEqual((expense.debit, expense.credit), (95.0, 0.0))
        payable = bill.line_ids.filtered(lambda line: line.display_type == 'payment_term')
        self.assertEqual(payable.credit, 95.0)
