"""Benchmark of customers and vendors: a large contact list in the emulator, a real Odoo 18 database.

Run through bench/run (it makes a fresh database with the add-on and finds Odoo):
    bench/run partners [--customers 10000] [--vendors 2000] [--push 3000] [--changes 10]
Prints, side by side with their baselines:
  - import of N customers and M vendors: contacts/s against creating the same contacts in one raw
    batched ORM create on the same database (target: at least 0.8 of it);
  - sending P new Odoo customers: batch requests against the floor ceil(P/30) (target <= 1.05x), time
    against QuickBooks' write ceiling (40 batch requests a minute), throttle replies (target 0);
  - an incremental sync after 10 changes on each side: calls and time against the full import.
"""

import math
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_catalog import measured_sync, print_push_and_after  # noqa: E402
from bench_lists import _Plain, bench_args, connect, measured, open_registry  # noqa: E402

STATES = ('CA', 'AZ', 'NV', 'OR', 'WA')


def main():
    args = bench_args(__doc__.splitlines()[0],
                      ('--customers', 10000, 'QuickBooks customers to import'),
                      ('--vendors', 2000, 'QuickBooks vendors to import'),
                      ('--push', 3000, 'new Odoo customers to send'),
                      ('--changes', 10, 'changes on each side before the incremental sync'))
    from qbo_emulator import Emulator

    odoo, registry = open_registry(args)
    # QuickBooks' own limits on: a throttle reply would show in the emulator's log.
    emu = Emulator(seed='demo', client_id='bench', client_secret='bench', rate_limits=True).start()
    try:
        print('bench: adding %d customers and %d vendors to the emulator...' % (args.customers, args.vendors),
              flush=True)
        # Made an hour ago: the change feed of the syncs below sees only later changes.
        emu.clock.advance(-3600)
        try:
            seed_parties(emu, args.customers, args.vendors)
        finally:
            emu.clock.advance(3600)
        run_bench(odoo, registry, emu, args)
    finally:
        emu.stop()


def seed_parties(emu, customers, vendors):
    store, realm = emu.store, emu.realm_id
    terms = [t['Id'] for t in store.all(realm, 'Term') if t.get('Active', True)]
    for i in range(customers):
        company = i % 3 != 0
        data = {'DisplayName': 'Bench Customer %05d' % i,
                'PrimaryEmailAddr': {'Address': 'customer%05d@bench.example' % i},
                'PrimaryPhone': {'FreeFormNumber': '(650) 555-%04d' % (i % 10000)},
                'BillAddr': {'Line1': '%d Market St' % (i + 1), 'City': 'San Mateo',
                             'CountrySubDivisionCode': STATES[i % len(STATES)], 'PostalCode': '94401',
                             'Country': 'USA'},
                'SalesTermRef': {'value': terms[i % len(terms)]}}
        if company:
            data['CompanyName'] = data['DisplayName']
        else:
            data.update(GivenName='Bench', FamilyName='Customer %05d' % i)
        store.create(realm, 'Customer', data)
    for i in range(vendors):
        store.create(realm, 'Vendor', {
            'DisplayName': 'Bench Vendor %05d' % i, 'CompanyName': 'Bench Vendor %05d' % i,
            'PrimaryEmailAddr': {'Address': 'ap%05d@vendor.bench.example' % i},
            'BillAddr': {'Line1': '%d Commerce Way' % (i + 1), 'City': 'San Francisco',
                         'CountrySubDivisionCode': 'CA', 'PostalCode': '94107', 'Country': 'USA'},
            'TermRef': {'value': terms[i % len(terms)]}, 'Vendor1099': i % 7 == 0})


def read_contact(contact):
    """Return the values the import gave ``contact`` (what the raw baseline creates too)."""
    contact = contact.with_context(active_test=False)
    return {'name': contact.name, 'is_company': contact.is_company, 'email': contact.email,
            'phone': contact.phone, 'mobile': contact.mobile, 'website': contact.website,
            'street': contact.street, 'street2': contact.street2, 'city': contact.city, 'zip': contact.zip,
            'state_id': contact.state_id.id, 'country_id': contact.country_id.id,
            'company_id': contact.company_id.id, 'active': contact.active,
            'customer_rank': contact.customer_rank, 'supplier_rank': contact.supplier_rank,
            'property_payment_term_id': contact.property_payment_term_id.id,
            'property_supplier_payment_term_id': contact.property_supplier_payment_term_id.id}


def run_bench(odoo, registry, emu, args):
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        connection = connect(env, emu)
        connection._sync('initial')   # the lists first (not measured here: bench_lists does)
        connection.partner_direction = 'qbo2odoo'
        cr.commit()
        n_parties = len(emu.store.all(emu.realm_id, 'Customer')) + len(emu.store.all(emu.realm_id, 'Vendor'))
        domain = [('connection_id', '=', connection.id)]

        # --- import of customers and vendors --- #
        full, import_log, full_state = measured_sync(emu, cr, connection)
        import_summary = env['qbo.sync.run'].search(domain, order='id desc', limit=1).summary
        imported = sum(env[name].search_count(domain + [('partner_id', '!=', False)])
                       for name in ('qbo.customer', 'qbo.vendor'))
        states = []
        for name in ('qbo.customer', 'qbo.vendor'):
            for group in env[name].with_context(active_test=False).read_group(domain, ['match_state'],
                                                                               ['match_state']):
                states.append('%s %s %d' % (name[4:], group['match_state'], group['match_state_count']))

        # --- baseline: the same contacts (same values, terms, states) in one raw ORM create --- #
        contacts = env['qbo.customer'].with_context(active_test=False).search(domain).partner_id \
            | env['qbo.vendor'].with_context(active_test=False).search(domain).partner_id
        values = [read_contact(contact) for contact in contacts]
        with measured(cr) as raw:
            cr.execute('SAVEPOINT bench_raw')
            env['res.partner'].with_context(tracking_disable=True, mail_create_nolog=True).create([
                dict(vals, name='Raw ' + vals['name'], email=vals['email'] and 'raw.' + vals['email'])
                for vals in values])
            env.flush_all()
        cr.execute('ROLLBACK TO SAVEPOINT bench_raw')
        env.invalidate_all()

        # --- sending new Odoo customers --- #
        state = env.ref('base.state_us_5')
        env['res.partner'].create([
            {'name': 'Odoo Customer %05d' % i, 'email': 'odoo%05d@customer.example' % i, 'is_company': True,
             'street': '%d Odoo Way' % i, 'city': 'Fresno', 'zip': '93650', 'state_id': state.id,
             'country_id': state.country_id.id, 'customer_rank': 1}
            for i in range(args.push)])
        connection.partner_direction = 'both'
        cr.commit()
        push, push_log, push_state = measured_sync(emu, cr, connection)
        sent = env['qbo.customer'].search_count(domain + [('match_state', '=', 'sent')])

        # --- the sync after the push: what it sent comes back unchanged, nothing echoes --- #
        settle, settle_log, settle_state = measured_sync(emu, cr, connection)

        # --- incremental sync after N changes on each side --- #
        for number, obj in enumerate(emu.store.all(emu.realm_id, 'Customer')[:args.changes]):
            emu.store.update(emu.realm_id, 'Customer', obj['Id'],
                             {'PrimaryPhone': {'FreeFormNumber': '(415) 555-0%03d' % number}})
        for mapping in env['qbo.vendor'].search(domain, limit=args.changes):
            mapping.partner_id.city = 'Oakland'
        cr.commit()
        incremental, inc_log, inc_state = measured_sync(emu, cr, connection)

    rate = n_parties / full.time
    raw_rate = n_parties / raw.time
    print()
    print('Customers & vendors benchmark: %d QuickBooks customers and vendors, %d new Odoo customers, '
          'Odoo %s, database %s' % (n_parties, args.push, odoo.release.version, args.db))
    print()
    print('Import of customers and vendors (%s; %s)' % (full_state, import_summary))
    print('  %-34s %12s %12s %8s' % ('', 'import', 'raw ORM', 'ratio'))
    print('  %-34s %12d %12d   (%s)' % ('contacts', imported, n_parties, ', '.join(states)))
    print('  %-34s %12.2f %12.2f' % ('time (s)', full.time, raw.time))
    print('  %-34s %12.0f %12.0f %8.2f   (target >= 0.80)' % ('contacts per second', rate, raw_rate,
                                                               rate / raw_rate))
    print('  %-34s %12.2f %12.2f' % ('SQL queries per contact', full.queries / n_parties,
                                     raw.queries / n_parties))
    floor = math.ceil(args.customers / 1000) + math.ceil(args.vendors / 1000)
    print('  %-34s %12d %12s' % ('API calls', import_log.calls, 'floor %d' % floor))
    print()
    print_push_and_after(_Plain(what='Odoo customers', sent_label='customers created in QuickBooks',
                                count=args.push, state=push_state, figures=push, log=push_log, sent=sent),
                         _Plain(title='The next sync: the %d it sent come back as changes, unchanged (%s)'
                                      % (args.push, settle_state), figures=settle, log=settle_log),
                         _Plain(changes=args.changes, state=inc_state, figures=incremental, log=inc_log),
                         _Plain(figures=full, log=import_log))

if __name__ == '__main__':
    main()
