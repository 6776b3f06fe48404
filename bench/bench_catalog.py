"""Benchmark of the catalog: a large item list in the emulator, a real Odoo 18 database.

Run through bench/run (it makes a fresh database with the add-on and finds Odoo):
    bench/run catalog [--items 20000] [--push 3000] [--changes 10]
Prints, side by side with their baselines:
  - import of N items: products/s against creating the same products in one raw batched ORM
    create on the same database (target: at least 0.8 of it);
  - sending M new Odoo products: API calls against the floor ceil(M/30) (target <= 1.05x), time
    against QuickBooks' write ceiling (40 batch requests a minute), throttle replies (target 0);
  - an incremental sync after 10 changes on each side: calls and time against the full import.
"""

import cProfile
import math
import os
import pstats
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_lists import _Plain, bench_args, connect, measured, open_registry  # noqa: E402

QBO_BATCHES_PER_MINUTE = 40


def main():
    args = bench_args(__doc__.splitlines()[0],
                      ('--items', 20000, 'QuickBooks items to import'),
                      ('--push', 3000, 'new Odoo products to send'),
                      ('--changes', 10, 'changes on each side before the incremental sync'))
    from qbo_emulator import Emulator

    odoo, registry = open_registry(args)
    # QuickBooks' own limits on: a throttle reply would show in the emulator's log.
    emu = Emulator(seed='demo', client_id='bench', client_secret='bench', rate_limits=True).start()
    try:
        print('bench: adding %d items to the emulator...' % args.items, flush=True)
        seed_items(emu, args.items)
        run_bench(odoo, registry, emu, args)
    finally:
        emu.stop()


def seed_items(emu, count):
    """Add ``count`` items, made an hour ago: the change feed of the syncs below sees only later changes."""
    emu.clock.advance(-3600)
    try:
        _seed_items(emu, count)
    finally:
        emu.clock.advance(3600)


def _seed_items(emu, count):
    store, realm = emu.store, emu.realm_id
    account = {a['Name']: a['Id'] for a in store.all(realm, 'Account')}
    income, cogs = account['Sales of Product Income'], account['Cost of Goods Sold']
    asset = account['Inventory Asset']
    categories = [store.create(realm, 'Item', {'Name': 'Bench Category %d' % i, 'Type': 'Category'})['Id']
                  for i in range(20)]
    for i in range(count):
        kind = ('Service', 'NonInventory', 'Inventory')[i % 3]
        data = {'Name': 'Bench item %05d' % i, 'Type': kind, 'Sku': 'BENCH-%05d' % i,
                'UnitPrice': 10 + i % 500, 'PurchaseCost': 4 + i % 200,
                'Description': 'Benchmark item %d' % i,
                'IncomeAccountRef': {'value': income}, 'SubItem': True,
                'ParentRef': {'value': categories[i % len(categories)]}}
        if kind != 'Service':
            data['ExpenseAccountRef'] = {'value': cogs}
        if kind == 'Inventory':
            data.update(AssetAccountRef={'value': asset}, QtyOnHand=i % 50, InvStartDate='2026-01-01',
                        TrackQtyOnHand=True)
        store.create(realm, 'Item', data)


def time_creates(env):
    """Add up the time the import spends creating records, by model (WERX_BENCH_SPLIT=1)."""
    totals = {}
    cls = type(env['qbo.item'])
    original = cls._qbo_create_each

    def timed(self, model, vals_list):
        started = time.perf_counter()
        try:
            return original(self, model, vals_list)
        finally:
            totals[model._name] = totals.get(model._name, 0.0) + time.perf_counter() - started
    cls._qbo_create_each = timed
    return totals


def measured_sync(emu, cr, connection):
    """Run one sync, measured; return (figures, the emulator's log counts, the run's state)."""
    time.sleep(1.1)   # the requests before leave QuickBooks' one-second window first
    emu.reset_log()
    with measured(cr) as figures:
        run = connection._sync('manual')
    log, state = log_counts(emu), run.state
    cr.commit()
    return figures, log, state


def read_product(product):
    """Return the values the import gave ``product`` (what the raw baseline creates too)."""
    return {'name': product.name, 'default_code': product.default_code, 'list_price': product.list_price,
            'standard_price': product.standard_price, 'description_sale': product.description_sale,
            'type': product.type, 'categ_id': product.categ_id, 'company_id': product.company_id,
            'active': product.active, 'sale_ok': product.sale_ok, 'purchase_ok': product.purchase_ok,
            'property_account_income_id': product.property_account_income_id,
            'property_account_expense_id': product.property_account_expense_id}


def log_counts(emu):
    entries = [e for e in emu.request_log if '/oauth2/' not in e['path']]
    if os.environ.get('WERX_BENCH_VERBOSE'):
        for e in entries:
            print('   ', e['method'], e['path'].rsplit('/', 1)[-1], (e['query'] or '')[:90], e['status'])
    return _Plain(calls=len(entries),
                  batches=sum(1 for e in entries if e['path'].endswith('/batch')),
                  throttled=sum(1 for e in entries if e['status'] == 429))


def run_bench(odoo, registry, emu, args):
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        connection = connect(env, emu)
        connection._sync('initial')   # the lists first (not measured here: bench_lists does)
        connection.item_direction = 'qbo2odoo'
        cr.commit()
        n_items = sum(1 for i in emu.store.all(emu.realm_id, 'Item') if i['Type'] != 'Category')

        # --- import of the catalog --- #
        time.sleep(1.1)   # the lists' requests above leave QuickBooks' one-second window first
        emu.reset_log()
        split = time_creates(env) if os.environ.get('WERX_BENCH_SPLIT') else None
        profile = cProfile.Profile() if os.environ.get('WERX_BENCH_PROFILE') else None
        with measured(cr) as full:
            if profile:
                profile.enable()
            run = connection._sync('manual')
            if profile:
                profile.disable()
        if split is not None:
            print('bench: time in create, by model:', {k: round(v, 2) for k, v in split.items()})
        if profile:
            stats = pstats.Stats(profile).sort_stats(os.environ['WERX_BENCH_PROFILE'])
            stats.print_stats(os.environ.get('WERX_BENCH_FILTER', ''), 40)
        imported = env['qbo.item'].search_count([('connection_id', '=', connection.id),
                                                 ('product_id', '!=', False)])
        states = env['qbo.item'].with_context(active_test=False).read_group(
            [('connection_id', '=', connection.id)], ['match_state'], ['match_state'])
        states = ', '.join('%s %d' % (g['match_state'], g['match_state_count']) for g in states)
        import_log = log_counts(emu)
        full_run = _Plain(state=run.state, summary=run.summary, api_calls=run.api_calls)

        # --- baseline: the same products (same values, categories, accounts) in one raw ORM create --- #
        values = [{field: (value.id if hasattr(value, '_name') else value)
                   for field, value in read_product(mapping.product_id).items()}
                  for mapping in env['qbo.item'].with_context(active_test=False).search(
                      [('connection_id', '=', connection.id)])]
        with measured(cr) as raw:
            cr.execute('SAVEPOINT bench_raw')
            env['product.product'].with_context(tracking_disable=True, mail_create_nolog=True).create([
                dict(vals, name='Raw ' + vals['name'], default_code=vals['default_code'] and 'RAW-'
                     + vals['default_code']) for vals in values])
            env.flush_all()
        cr.execute('ROLLBACK TO SAVEPOINT bench_raw')
        env.invalidate_all()

        # --- pushing new Odoo products --- #
        income = env['qbo.account'].search([('connection_id', '=', connection.id),
                                            ('name', '=', 'Sales of Product Income')])
        expense = env['qbo.account'].search([('connection_id', '=', connection.id),
                                             ('name', '=', 'Cost of Goods Sold')])
        env['product.product'].create([
            {'name': 'Odoo product %05d' % i, 'default_code': 'ODOO-%05d' % i, 'list_price': 20 + i % 90,
             'type': 'service' if i % 2 else 'consu', 'purchase_ok': not i % 2}
            for i in range(args.push)])
        connection.write({'item_direction': 'both', 'income_account_id': income.id,
                          'expense_account_id': expense.id})
        cr.commit()
        emu.reset_log()
        with measured(cr) as push:
            push_run = connection._sync('manual')
        push_log = log_counts(emu)
        sent = env['qbo.item'].search_count([('connection_id', '=', connection.id),
                                             ('match_state', '=', 'sent')])
        push_state = push_run.state

        # --- the sync after the push: the change feed lists the 3,000 items it sent (more than the
        # 1,000 it can list), so they are read by their update time; each is found unchanged --- #
        settle, settle_log, settle_state = measured_sync(emu, cr, connection)

        # --- incremental sync after N changes on each side --- #
        items = [i for i in emu.store.all(emu.realm_id, 'Item') if i['Type'] != 'Category'][:args.changes]
        for obj in items:
            emu.store.update(emu.realm_id, 'Item', obj['Id'],
                             {'UnitPrice': float(obj.get('UnitPrice') or 0) + 1})
        mine = env['qbo.item'].search([('connection_id', '=', connection.id), ('match_state', '=', 'sent')],
                                      limit=args.changes)
        for mapping in mine:
            mapping.product_id.list_price += 1
        cr.commit()
        incremental, inc_log, inc_state = measured_sync(emu, cr, connection)

    rate = n_items / full.time
    raw_rate = n_items / raw.time
    print()
    print('Catalog benchmark: %d QuickBooks items, %d new Odoo products, Odoo %s, database %s'
          % (n_items, args.push, odoo.release.version, args.db))
    print()
    print('Import of the catalog (%s; %s)' % (full_run.state, full_run.summary))
    print('  %-34s %12s %12s %8s' % ('', 'import', 'raw ORM', 'ratio'))
    print('  %-34s %12d %12d   (%s)' % ('products', imported, n_items, states))
    print('  %-34s %12.2f %12.2f' % ('time (s)', full.time, raw.time))
    print('  %-34s %12.0f %12.0f %8.2f   (target >= 0.80)' % ('products per second', rate, raw_rate,
                                                               rate / raw_rate))
    print('  %-34s %12.2f %12.2f' % ('SQL queries per product', full.queries / n_items,
                                     raw.queries / n_items))
    print('  %-34s %12d %12s' % ('API calls', import_log.calls, 'floor %d' % (math.ceil(n_items / 1000) + 1)))
    print()
    print_push_and_after(_Plain(what='Odoo products', sent_label='products created in QuickBooks',
                                count=args.push, state=push_state, figures=push, log=push_log, sent=sent),
                         _Plain(title='The next sync: more changed items than the change feed lists (the %d '
                                      'it sent), read by their update time (%s)' % (args.push, settle_state),
                                figures=settle, log=settle_log),
                         _Plain(changes=args.changes, state=inc_state, figures=incremental, log=inc_log),
                         _Plain(figures=full, log=import_log))


def print_push_and_after(push, settle, incremental, full):
    """Print what the two-way benchmarks share: the push, the sync after it, the incremental sync."""
    batches_floor = math.ceil(push.count / 30)
    ceiling = max(0.0, (batches_floor - QBO_BATCHES_PER_MINUTE) / QBO_BATCHES_PER_MINUTE * 60)
    print('Sending %d new %s (%s)' % (push.count, push.what, push.state))
    print('  %-34s %12s %12s %8s' % ('', 'measured', 'floor', 'ratio'))
    print('  %-34s %12d %12d %8.2f   (target <= 1.05)' % ('batch requests', push.log.batches, batches_floor,
                                                           push.log.batches / batches_floor))
    print('  %-34s %12d' % (push.sent_label, push.sent))
    print('  %-34s %12.1f %12.1f          (QuickBooks allows %d batch requests a minute)'
          % ('time (s)', push.figures.time, ceiling, QBO_BATCHES_PER_MINUTE))
    print('  %-34s %12d %12d' % ('throttle replies (429)', push.log.throttled, 0))
    print('  %-34s %12d' % ('API calls in all', push.log.calls))
    print()
    print(settle.title)
    print('  %-34s %12d' % ('API calls', settle.log.calls))
    print('  %-34s %12.2f' % ('time (s)', settle.figures.time))
    print('  %-34s %12d' % ('batch requests (nothing echoes)', settle.log.batches))
    print()
    print('Incremental sync after %d changes on each side (%s)' % (incremental.changes, incremental.state))
    print('  %-34s %12s %12s' % ('', 'incremental', 'full import'))
    print('  %-34s %12d %12d' % ('API calls', incremental.log.calls, full.log.calls))
    print('  %-34s %12.2f %12.2f' % ('time (s)', incremental.figures.time, full.figures.time))
    print('  %-34s %12d %12d' % ('SQL queries', incremental.figures.queries, full.figures.queries))
    print('  %-34s %12d' % ('batch requests', incremental.log.batches))

if __name__ == '__main__':
    main()
