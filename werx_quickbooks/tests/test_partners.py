# Part of werx_quickbooks. License LGPL-3.
"""Customers and vendors both ways: import, matching, sending, name clashes, merges, crash safety, books."""

from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from .common import QBOSyncCase


class PartnersCase(QBOSyncCase):
    """The demo company's lists imported once; customers and vendors switched on both ways."""

    def start_partners(self, direction='both', **defaults):
        self.connection.write(dict(defaults, partner_direction='off'))
        self.sync('initial')
        self.connection.write({'partner_direction': direction})
        return self.sync()

    def qbo(self, entity, name):
        found = [o for o in self.store.all(self.realm, entity) if o['DisplayName'] == name]
        self.assertEqual(len(found), 1, 'exactly one QuickBooks %s named %s: %s' % (entity, name, found))
        return found[0]

    def mapping(self, model, name):
        return self.env[model].with_context(active_test=False).search(
            [('connection_id', '=', self.connection.id), ('name', '=', name)])

    def customer(self, name):
        return self.mapping('qbo.customer', name)

    def vendor(self, name):
        return self.mapping('qbo.vendor', name)


    def failures(self):
        return self.env['qbo.sync.failure'].search([('connection_id', '=', self.connection.id),
                                                    ('state', '=', 'open')])


@tagged('post_install', '-at_install')
class TestPartnersImport(PartnersCase):

    def test_demo_customers_and_vendors_import_with_exact_counts_and_values(self):
        self.start_partners()
        customers = self.env['qbo.customer'].with_context(active_test=False).search(
            [('connection_id', '=', self.connection.id)])
        vendors = self.env['qbo.vendor'].with_context(active_test=False).search(
            [('connection_id', '=', self.connection.id)])
        # The demo company: 29 customers (2 inactive, 3 of them jobs) and 24 vendors (2 inactive).
        self.assertEqual((len(customers), len(vendors)), (29, 24))
        states = set(customers.mapped('match_state')) | set(vendors.mapped('match_state'))
        self.assertEqual(states, {'created'})
        self.assertEqual(len(customers.partner_id | vendors.partner_id), 53, 'one Odoo contact per record')
        self.assertEqual(len(customers.filtered('active')), 27)

        amy = self.customer("Amy's Bird Sanctuary")
        contact = amy.partner_id
        self.assertEqual((contact.name, contact.is_company, contact.email, contact.customer_rank),
                         ("Amy's Bird Sanctuary", True, 'amysbirdsanctuary@example.com', 1))
        self.assertEqual(contact.property_payment_term_id,
                         self.mapping('qbo.term', 'Net 30').payment_term_id)
        self.assertEqual((amy.balance, amy.currency_code), (50.0, 'USD'))
        person = self.customer('Mark Cho').partner_id
        self.assertFalse(person.is_company)
        self.assertTrue(person.mobile)

        # An address with its state code: the Arizona camp, inactive in QuickBooks, archived here.
        camp = self.customer('Dukes Basketball Camp').partner_id.with_context(active_test=False)
        self.assertEqual((camp.street, camp.city, camp.zip, camp.state_id.code, camp.country_id.code),
                         ('25 Court St.', 'Tucson', '85701', 'AZ', 'US'))
        self.assertFalse(camp.active)
        # Shipping elsewhere than it bills: a delivery address of its own.
        cars = self.customer('Cool Cars').partner_id
        delivery = cars.child_ids.filtered(lambda c: c.type == 'delivery')
        self.assertEqual((delivery.street, delivery.city), ('1 Harbor Yard Rd.', 'Half Moon Bay'))

        # A sub-customer billed with its parent is a contact under its parent's; one billed on its own is not.
        remodel = self.customer('Remodel Phase 2')
        self.assertEqual(remodel.parent_id, self.customer('Weiskopf Consulting'))
        self.assertTrue(remodel.bill_with_parent)
        self.assertEqual(remodel.partner_id.parent_id, self.customer('Weiskopf Consulting').partner_id)
        self.assertEqual(remodel.partner_id.commercial_partner_id, remodel.parent_id.partner_id,
                         'its invoices are the parent\'s receivable')
        cabinets = self.customer('Kitchen Cabinets')
        self.assertEqual(cabinets.partner_id.parent_id, remodel.partner_id, 'three levels kept')
        bakery = self.customer('Bakery Expansion')
        self.assertEqual(bakery.parent_id, self.customer("Pye's Cakes"))
        self.assertFalse(bakery.partner_id.parent_id, 'billed on its own: its own contact')

        # A tax-exempt customer (a resale certificate) gets the fiscal position without sales tax.
        store = self.customer('Sonnenschein Family Store')
        self.assertEqual((store.resale_number, store.taxable), ('SR-2048-77', False))
        self.assertTrue(store.partner_id.property_account_position_id.qbo_tax_exempt)
        self.assertFalse(amy.partner_id.property_account_position_id)

        # A 1099 vendor: the flag, and the tax id only masked, never in full.
        pam = self.vendor('Pam Seitz')
        self.assertEqual((pam.vendor_1099, pam.tax_id_masked), (True, 'XXXXXXX7830'))
        self.assertFalse(pam.partner_id.vat)
        self.assertEqual(pam.partner_id.supplier_rank, 1)
        self.assertEqual(pam.partner_id.property_supplier_payment_term_id,
                         self.mapping('qbo.term', 'Net 15').payment_term_id)
        self.assertFalse(self.vendor('Hicks Hardware').vendor_1099)
        self.assertEqual(self.vendor('EDD').partner_id.is_company, True)
        self.assertFalse(self.writes(), 'importing sent nothing back to QuickBooks')

    def test_existing_contacts_match_by_e_mail_and_by_name(self):
        Partner = self.env['res.partner']
        by_email = Partner.create({'name': 'Bird Sanctuary (Amy)', 'email': 'AmysBirdSanctuary@example.com'})
        by_name = Partner.create({'name': 'geeta  KALAPATAPU', 'customer_rank': 1})
        vendor_and_customer = Partner.create({'name': 'Hicks Hardware', 'is_company': True})
        self.start_partners()
        self.assertEqual(self.customer("Amy's Bird Sanctuary").partner_id, by_email)
        self.assertEqual(self.customer("Amy's Bird Sanctuary").match_note, 'Same e-mail address')
        self.assertEqual(self.customer('Geeta Kalapatapu').partner_id, by_name)
        self.assertEqual(self.customer('Geeta Kalapatapu').match_state, 'matched')
        self.assertEqual(self.vendor('Hicks Hardware').partner_id, vendor_and_customer)
        self.assertEqual(Partner.search_count([('email', '=ilike', 'amysbirdsanctuary@example.com')]), 1)
        # Matched contacts are QuickBooks' twins: nothing goes back as new.
        self.assertFalse(self.customer('Geeta Kalapatapu (%s)' % by_name.id))
        self.assertEqual(len(self.store.all(self.realm, 'Customer')), 29)


@tagged('post_install', '-at_install')
class TestPartnersPush(PartnersCase):

    def test_a_contact_that_is_both_customer_and_vendor_gives_two_quickbooks_records(self):
        self.start_partners()
        term = self.mapping('qbo.term', 'Net 15').payment_term_id
        ca = self.env.ref('base.state_us_5')
        acme = self.env['res.partner'].create({
            'name': 'Acme Heating', 'is_company': True, 'email': 'ap@acme-heating.example',
            'phone': '(408) 555-0199', 'street': '9 Furnace Rd', 'city': 'San Jose', 'zip': '95112',
            'state_id': ca.id, 'country_id': self.env.ref('base.us').id,
            'customer_rank': 1, 'supplier_rank': 1, 'vat': '12-3456789',
            'property_payment_term_id': term.id})
        self.emulator.reset_log()
        self.sync()
        customer = self.qbo('Customer', 'Acme Heating')
        vendor = self.qbo('Vendor', 'Acme Heating (Vendor)')
        bill = customer['BillAddr']
        self.assertEqual((customer['PrimaryEmailAddr']['Address'], bill['CountrySubDivisionCode'],
                          bill['City'], customer['SalesTermRef']['value']),
                         ('ap@acme-heating.example', 'CA', 'San Jose',
                          self.mapping('qbo.term', 'Net 15').qbo_id))
        self.assertEqual(vendor['CompanyName'], 'Acme Heating')
        self.assertEqual(self.customer('Acme Heating').partner_id, acme)
        self.assertEqual(self.vendor('Acme Heating (Vendor)').partner_id, acme)
        self.assertEqual(self.customer('Acme Heating').match_state, 'sent')
        # The vendor's tax ID reaches QuickBooks, which shows it masked; Odoo keeps no copy of it elsewhere.
        self.assertEqual(self.store.tax_identifier(self.realm, vendor['Id']), '12-3456789')
        self.assertEqual(self.vendor('Acme Heating (Vendor)').tax_id_masked, 'XXXXXX6789')
        self.assertNotIn('TaxIdentifier', customer)
        stored = self.env['qbo.outbox'].search([('connection_id', '=', self.connection.id)])
        self.assertTrue(stored)
        self.assertNotIn('3456789', str(stored.mapped('items')), 'not kept in the stored batches')
        batches = [r for r in self.emulator.request_log if r['path'].endswith('/batch')]
        self.assertEqual(len(batches), 2, 'one batch for the customers, one for the vendors')
        # Nothing echoes back.
        self.emulator.reset_log()
        self.sync()
        self.assertFalse(self.writes())

    def test_a_contact_nobody_sells_to_or_buys_from_stays_in_odoo(self):
        self.start_partners()
        self.env['res.partner'].create({'name': 'Just a Lead', 'email': 'lead@example.com'})
        never = self.env['res.partner'].create({'name': 'Private Buyer', 'customer_rank': 3,
                                                'qbo_sync': 'never'})
        marked = self.env['res.partner'].create({'name': 'Marked Vendor', 'qbo_sync': 'vendor'})
        self.sync()
        names = {o['DisplayName'] for o in self.store.all(self.realm, 'Customer')}
        self.assertNotIn('Just a Lead', names)
        self.assertNotIn(never.name, names)
        self.qbo('Vendor', marked.name)

    def test_contacts_like_a_record_waiting_for_review_wait_unless_sent_on_purpose(self):
        self.store.create(self.realm, 'Customer', {'DisplayName': 'Twin Plumbing'})
        Partner = self.env['res.partner']
        Partner.create({'name': 'Twin Plumbing', 'customer_rank': 1})
        second = Partner.create({'name': 'twin  plumbing', 'customer_rank': 1})
        self.start_partners()
        waiting = self.customer('Twin Plumbing')
        self.assertEqual((waiting.match_state, waiting.partner_id), ('unmatched', Partner))
        self.assertEqual(len([o for o in self.store.all(self.realm, 'Customer')
                              if o['DisplayName'].lower().split() == ['twin', 'plumbing']]), 1,
                         'neither contact was sent by itself: one of them may be the record waiting')
        second.action_qbo_send()
        self.assertEqual(second.qbo_sync, 'customer')
        self.sync()
        # Sent on purpose, QuickBooks refuses the name: linked to the waiting record (Defaults tab).
        self.assertEqual((waiting.partner_id, waiting.match_state), (second, 'matched'))
        self.assertEqual(len([o for o in self.store.all(self.realm, 'Customer')
                              if o['DisplayName'].lower().split() == ['twin', 'plumbing']]), 1)

    def test_a_name_used_by_a_quickbooks_employee_waits_for_the_user_and_is_resolved(self):
        self.start_partners()   # name clash: link (the default)
        maria = self.env['res.partner'].create({'name': 'Maria Garcia', 'customer_rank': 1})
        self.sync()
        clash = self.env['qbo.name.clash'].search([('partner_id', '=', maria.id)])
        self.assertEqual((clash.state, clash.entity, clash.holder_entity, clash.holder_name),
                         ('open', 'Customer', 'Employee', 'Maria Garcia'))
        self.assertFalse(clash.can_link, 'an employee is not a customer: it cannot be linked')
        self.assertIn(clash, self.connection.qbo_name_clash_ids)
        self.emulator.reset_log()
        self.sync()
        self.assertFalse(self.writes(), 'a clash waiting for the user is not sent again and again')
        clash.action_resolve()
        self.assertEqual(clash.send_as, 'Maria Garcia (%s)' % maria.id)
        clash.send_as = 'Maria Garcia (Homeowner)'
        clash.action_send_as()
        self.sync()
        self.qbo('Customer', 'Maria Garcia (Homeowner)')
        self.assertEqual(self.customer('Maria Garcia (Homeowner)').partner_id, maria)
        self.assertEqual(clash.state, 'resolved')

    def test_a_name_held_by_an_inactive_customer_is_linked_when_the_user_says_so(self):
        self.start_partners()
        old = self.store.create(self.realm, 'Customer', {'DisplayName': 'Old Namesake', 'Active': False})
        namesake = self.env['res.partner'].create({'name': 'Old Namesake', 'customer_rank': 1})
        self.connection.partner_direction = 'odoo2qbo'   # QuickBooks' record was not read in
        self.sync()
        clash = self.env['qbo.name.clash'].search([('partner_id', '=', namesake.id)])
        self.assertEqual((clash.state, clash.holder_entity, clash.holder_active, clash.can_link),
                         ('open', 'Customer', False, True), 'an inactive namesake is not linked by itself')
        clash.action_link()
        self.assertTrue(clash.link_requested)
        self.assertEqual(clash.state, 'open', 'the link is made by the sync, not in the request')
        self.sync()
        self.assertEqual(clash.state, 'resolved')
        mapping = self.customer('Old Namesake')
        self.assertEqual((mapping.qbo_id, mapping.partner_id, mapping.match_state),
                         (old['Id'], namesake, 'matched'))
        self.assertEqual(len([o for o in self.store.all(self.realm, 'Customer')
                              if o['DisplayName'] == 'Old Namesake']), 1)

    def test_a_name_used_by_a_quickbooks_employee_gets_a_differentiator(self):
        self.start_partners(name_clash='suffix')
        maria = self.env['res.partner'].create({'name': 'Maria Garcia', 'customer_rank': 1, 'ref': 'C-77'})
        self.sync()
        self.qbo('Customer', 'Maria Garcia (C-77)')
        self.assertEqual(self.customer('Maria Garcia (C-77)').partner_id, maria)
        # Its next change keeps the name it was sent under.
        maria.phone = '(650) 555-0177'
        self.sync()
        self.assertEqual(self.qbo('Customer', 'Maria Garcia (C-77)')['PrimaryPhone']['FreeFormNumber'],
                         '(650) 555-0177')
        # Renamed in Odoo, it keeps its differentiator.
        maria.name = 'Maria Garcia-Lopez'
        self.sync()
        self.qbo('Customer', 'Maria Garcia-Lopez (C-77)')

    def test_a_customer_quickbooks_already_has_under_the_same_name_is_linked(self):
        self.start_partners(partner_direction='qbo2odoo')
        self.store.create(self.realm, 'Customer', {'DisplayName': 'Late Arrival Inc'})
        late = self.env['res.partner'].create({'name': 'Late Arrival Inc', 'customer_rank': 1})
        self.connection.partner_direction = 'odoo2qbo'   # QuickBooks' record was not read in yet
        self.sync()
        self.assertEqual(len([o for o in self.store.all(self.realm, 'Customer')
                              if o['DisplayName'] == 'Late Arrival Inc']), 1)
        self.assertEqual(self.customer('Late Arrival Inc').partner_id, late)
        self.assertEqual(self.customer('Late Arrival Inc').match_state, 'matched')

    def test_a_change_on_each_side_arrives_on_the_other(self):
        self.start_partners()
        # (Each test of this class renames or merges records of its own: the emulator outlives them.)
        travis = self.customer('Travis Waldron')
        self.store.update(self.realm, 'Customer', travis.qbo_id, {
            'DisplayName': 'Travis Waldron-Ross', 'PrimaryPhone': {'FreeFormNumber': '555-0001'}})
        self.sync()
        self.assertEqual((travis.partner_id.name, travis.partner_id.phone),
                         ('Travis Waldron-Ross', '555-0001'))
        self.assertEqual(travis.last_direction, 'qbo2odoo')
        # What came from QuickBooks is not sent back as Odoo's change: only the e-mail changed in Odoo goes.
        travis.partner_id.email = 'travis@waldron.example'
        self.sync()
        qbo = self.store.get(self.realm, 'Customer', travis.qbo_id)
        self.assertEqual((qbo['DisplayName'], qbo['PrimaryEmailAddr']['Address']),
                         ('Travis Waldron-Ross', 'travis@waldron.example'))

        hicks = self.vendor('Hicks Hardware')
        hicks.partner_id.write({'email': 'orders@hicks.example', 'city': 'Oakland'})
        self.assertTrue(hicks.need_push)
        self.emulator.reset_log()
        self.sync()
        qbo = self.store.get(self.realm, 'Vendor', hicks.qbo_id)
        self.assertEqual((qbo['PrimaryEmailAddr']['Address'], qbo['BillAddr']['City']),
                         ('orders@hicks.example', 'Oakland'))
        self.assertEqual((hicks.need_push, hicks.last_direction), (False, 'odoo2qbo'))
        self.assertEqual(qbo['AcctNum'], 'HH-20931', 'what Odoo does not keep stays as QuickBooks has it')
        self.assertEqual((qbo['GivenName'], qbo['FamilyName'], qbo['DisplayName'], qbo['PrimaryPhone']),
                         ('Geoff', 'Hicks', 'Hicks Hardware', {'FreeFormNumber': '(415) 555-2054'}),
                         'only what changed in Odoo is sent')
        # A delivery address added in Odoo is the customer's shipping address in QuickBooks.
        john = self.customer('John Melton')
        self.env['res.partner'].create({'parent_id': john.partner_id.id, 'type': 'delivery',
                                        'street': '7 Dock St', 'city': 'Alameda', 'zip': '94501'})
        self.sync()
        ship = self.store.get(self.realm, 'Customer', john.qbo_id)['ShipAddr']
        self.assertEqual((ship['Line1'], ship['City']), ('7 Dock St', 'Alameda'))
        # And what it sent does not come back as a change.
        self.emulator.reset_log()
        self.sync()
        self.assertFalse(self.writes())
        self.assertEqual(hicks.partner_id.city, 'Oakland')

    def test_a_merge_in_quickbooks_re_points_the_mapping_and_flags_the_duplicate(self):
        self.start_partners()
        gone, kept = self.customer('Kate Whelan'), self.customer('Shara Barnett')
        duplicate, survivor = gone.partner_id, kept.partner_id
        self.store.merge(self.realm, 'Customer', gone.qbo_id, kept.qbo_id)
        # QuickBooks names both Ids in its merge notification; the change feed then shows the one merged
        # away as deleted.
        self.env['qbo.customer'].sudo()._qbo_apply_merges(self.connection.sudo(), None,
                                                         [(gone.qbo_id, kept.qbo_id)])
        self.sync()
        self.assertEqual(kept.partner_id, survivor)
        self.assertFalse(gone.active)
        self.assertEqual(duplicate.qbo_duplicate_of_id, survivor)
        kates = [o for o in self.store.all(self.realm, 'Customer') if o['DisplayName'] == 'Kate Whelan']
        self.assertFalse(kates,
                         'the contact merged away is not sent to QuickBooks again')
        self.assertTrue(duplicate.exists() and duplicate.active,
                        'the Odoo duplicate is flagged, never deleted')
        self.assertIn('merged', duplicate.message_ids[0].body)

        # A record merged into one that never came to Odoo: the contact follows the survivor.
        newcomer = self.store.create(self.realm, 'Customer', {'DisplayName': 'Geeta K. (new)'})
        geeta = self.customer('Geeta Kalapatapu')
        contact = geeta.partner_id
        self.store.merge(self.realm, 'Customer', geeta.qbo_id, newcomer['Id'])
        self.env['qbo.customer'].sudo()._qbo_apply_merges(self.connection.sudo(), None,
                                                         [(geeta.qbo_id, newcomer['Id'])])
        self.sync()
        self.assertEqual((geeta.qbo_id, geeta.partner_id, geeta.active), (newcomer['Id'], contact, True))
        self.assertEqual(geeta.name, 'Geeta K. (new)')
        self.assertEqual(contact.name, 'Geeta K. (new)', "the survivor's values come in")

    def test_odoo_wins_only_what_odoo_changed_and_the_rest_comes_in(self):
        self.start_partners(conflict_policy='odoo')
        bill = self.customer("Bill's Windsurf Shop")
        bill.partner_id.phone = '(650) 555-9999'
        self.store.update(self.realm, 'Customer', bill.qbo_id, {
            'PrimaryPhone': {'FreeFormNumber': '(650) 555-1111'},
            'PrimaryEmailAddr': {'Address': 'orders@windsurf.example'}})
        run = self.sync()
        qbo = self.store.get(self.realm, 'Customer', bill.qbo_id)
        self.assertEqual(qbo['PrimaryPhone']['FreeFormNumber'], '(650) 555-9999', "Odoo's phone wins")
        self.assertEqual(bill.partner_id.email, 'orders@windsurf.example', "QuickBooks' e-mail comes in")
        lost = run.change_ids.filtered(lambda c: not c.applied)
        self.assertIn('(650) 555-1111', lost.mapped('new_value'), "QuickBooks' phone stays in the log")
        self.emulator.reset_log()
        self.sync()
        self.assertFalse(self.writes(), 'both sides agree: nothing more to send')

    def test_a_customer_merged_away_without_notice_waits_for_the_user(self):
        self.start_partners()
        gone, kept = self.customer('Dylan Sollfrank'), self.customer('Mark Cho')
        self.store.merge(self.realm, 'Customer', gone.qbo_id, kept.qbo_id)
        self.sync()
        self.assertEqual(gone.match_state, 'conflict')
        self.assertTrue(gone.partner_id.active, 'the Odoo contact is kept')

    def test_inactivating_a_customer_with_a_balance_gives_quickbooks_refusal_in_words(self):
        self.start_partners()
        cakes = self.customer("Pye's Cakes")
        cakes.partner_id.active = False
        run = self.sync()
        failure = self.failures().filtered(lambda f: f.record_name == "Pye's Cakes")
        self.assertEqual(len(failure), 1, run.summary)
        self.assertIn('open balance', failure.message)
        self.assertTrue(self.store.get(self.realm, 'Customer', cakes.qbo_id)['Active'])
        self.assertTrue(cakes.need_push, 'tried again with the next sync')
        # Another change in QuickBooks does not bring the contact archived in Odoo back.
        self.store.update(self.realm, 'Customer', cakes.qbo_id,
                          {'PrimaryPhone': {'FreeFormNumber': '555-0102'}})
        self.sync()
        self.assertEqual((cakes.partner_id.active, cakes.partner_id.phone), (False, '555-0102'))

    def test_a_crash_between_the_reply_and_the_bind_leaves_one_quickbooks_customer(self):
        class WorkerKilled(BaseException):
            pass
        self.start_partners()
        self.env['res.partner'].create({'name': 'Crash Test Dummies', 'customer_rank': 1})
        before = len(self.store.all(self.realm, 'Customer'))
        Customer = type(self.env['qbo.customer'])

        def dies(*args, **kwargs):
            raise WorkerKilled()
        killed = False
        with patch.object(Customer, '_qbo_push_bind', dies):
            try:
                self.in_worker(self.connection, '_sync', 'manual')
            except WorkerKilled:
                killed = True
        self.assertTrue(killed)
        self.qbo('Customer', 'Crash Test Dummies')
        self.in_worker(self.env['qbo.connection'], '_cron_sync')   # recovers the run, then syncs
        self.sync()
        self.assertEqual(len(self.store.all(self.realm, 'Customer')), before + 1, 'exactly one customer')
        self.assertEqual(self.customer('Crash Test Dummies').match_state, 'sent')

    def test_a_run_with_no_changes_sends_nothing(self):
        self.start_partners()
        self.emulator.reset_log()
        run = self.sync()
        self.assertFalse(self.writes())
        calls = [r for r in self.emulator.request_log if 'Customer' in (r['query'] or '') + r['path']]
        self.assertLessEqual(len(calls), 1, 'one change-feed read covers customers and vendors: %s' % calls)
        self.assertFalse(run.stat_ids.filtered(lambda s: s.entity in ('Customer', 'Vendor') and s.updated))


@tagged('post_install', '-at_install')
class TestPartnersBooks(PartnersCase):
    """Contacts from QuickBooks book where QuickBooks would: their receivable, their terms, their taxes."""

    def test_invoices_to_imported_customers_post_receivable_terms_and_exemption(self):
        self.sync('initial')
        receivable = self.mapping('qbo.account', 'Accounts Receivable (A/R)').account_id
        self.assertTrue(receivable, 'the A/R account came in with the lists')
        self.connection.write({'partner_direction': 'both', 'receivable_account_id': receivable.id})
        self.sync()
        california = self.env['qbo.tax.code'].search([('connection_id', '=', self.connection.id),
                                                      ('name', '=', 'California')]).tax_id
        self.assertTrue(california)
        product = self.env['product.product'].create({
            'name': 'Water Heater', 'type': 'consu', 'list_price': 1000.0,
            'taxes_id': [(6, 0, california.ids)]})
        amy = self.customer("Amy's Bird Sanctuary").partner_id
        exempt = self.customer('Sonnenschein Family Store').partner_id

        def invoice(partner):
            move = self.env['account.move'].create({
                'move_type': 'out_invoice', 'partner_id': partner.id, 'invoice_date': '2026-11-02',
                'invoice_line_ids': [(0, 0, {'product_id': product.id, 'quantity': 1})]})
            move.action_post()
            return move

        taxed = invoice(amy)
        tax_line = taxed.line_ids.filtered(lambda line: line.display_type == 'tax')
        self.assertTrue(tax_line, 'a taxable customer pays the sales tax')
        self.assertEqual(tax_line.account_id, california.invoice_repartition_line_ids.filtered(
            lambda r: r.repartition_type == 'tax').account_id)
        due = taxed.line_ids.filtered(lambda line: line.display_type == 'payment_term')
        self.assertEqual(due.date_maturity, fields.Date.to_date('2026-12-02'), 'Net 30, as in QuickBooks')
        self.assertEqual(round(due.debit, 2), round(1000.0 + tax_line.credit, 2))

        # A sales tax the company gains after the import is taken off for exempt customers too.
        extra = california.copy({'name': 'County Surcharge', 'amount': 0.5})
        self.sync()
        product.taxes_id = [(4, extra.id)]
        free = invoice(exempt)
        self.assertFalse(free.line_ids.filtered(lambda line: line.display_type == 'tax'),
                         'a tax-exempt customer pays no sales tax')
        receivable_line = free.line_ids.filtered(lambda line: line.display_type == 'payment_term')
        self.assertEqual((receivable_line.debit, receivable_line.account_id), (1000.0, receivable))
        income = free.line_ids.filtered(lambda line: line.display_type == 'product')
        self.assertEqual(income.credit, 1000.0)
