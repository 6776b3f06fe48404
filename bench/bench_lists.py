"""Benchmark of the lists import: a large chart in the emulator, a real Odoo 18 database.

Run through bench/run (it makes a fresh database with the add-on and finds Odoo), or by hand:
    ODOO_RC=... python bench/bench_lists.py --db DB --addons-path ... [--scale 50]
Prints, side by side with their baselines:
  - initial import: records/s, API calls per list against the floor ceil(N/1000), SQL queries per record;
  - the same number of account.account created in one raw ORM batch on the same database;
  - an incremental sync after 10 changes: API calls and time against the full import.
"""

import argparse
import contextlib
import math
import os
import sys
import time
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def bench_args(description, *options):
    """Parse the arguments bench/run passes (--db, --addons-path, --db-args) and ``options``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--db', required=True)
    parser.add_argument('--addons-path', required=True)
    for name, default, help_text in options:
        parser.add_argument(name, type=int, default=default, help=help_text)
    parser.add_argument('--db-args', nargs=argparse.REMAINDER, default=[])
    return parser.parse_args()


def open_registry(args):
    """Load Odoo on the benchmark's database; return (odoo, registry)."""
    import odoo
    from odoo.tools import config

    config.parse_config(['-d', args.db, '--addons-path', args.addons_path, '--log-level', 'warn',
                         *args.db_args])
    odoo.service.server.load_server_wide_modules()
    return odoo, odoo.modules.registry.Registry(args.db)


def main():
    args = bench_args(__doc__.splitlines()[0],
                      ('--scale', 50, 'emulator seed scale (57 accounts, 5 classes, 5 locations per step)'),
                      ('--changes', 10, 'accounts renamed before the incremental sync'))
    from qbo_emulator import Emulator

    odoo, registry = open_registry(args)

    print('bench: seeding the emulator (scale %d)...' % args.scale, flush=True)
    emu = Emulator(seed='demo', client_id='bench', client_secret='bench', seed_scale=args.scale,
                   rate_limits=False).start()
    try:
        run_bench(odoo, registry, emu, args)
    finally:
        emu.stop()


def connect(env, emu):
    """Return the company's qbo.connection, connected to the emulator (committed)."""
    from odoo.addons.werx_quickbooks.qbo import auth as qbo_auth

    connection = env['qbo.connection'].create({
        'company_id': env.company.id, 'environment': 'custom', 'base_url': emu.base_url,
        'client_id': 'bench', 'client_secret': 'bench'})
    connection._qbo_store_tokens(qbo_auth.Tokens.from_reply(emu.issue_tokens()))
    connection.write({'realm_id': emu.realm_id, 'state': 'connected'})
    env.cr.commit()
    return connection


def list_sizes(emu):
    entities = ('Account', 'Term', 'Class', 'Department', 'PaymentMethod', 'TaxAgency', 'TaxRate',
                'TaxCode')
    return {e: len(emu.store.all(emu.realm_id, e)) for e in entities}


def api_calls_by_entity(emu):
    counts = Counter()
    for entry in emu.request_log:
        if '/oauth2/' in entry['path']:
            continue
        counts[entry['entity'] or entry['path'].rsplit('/', 1)[-1]] += 1
    return counts


@contextlib.contextmanager
def measured(cr):
    """Measure the block: wall time (s) and SQL queries on ``cr``, set on the yielded object."""
    figures = _Plain(time=0.0, queries=0)
    queries, started = cr.sql_log_count, time.perf_counter()
    yield figures
    figures.time = time.perf_counter() - started
    figures.queries = cr.sql_log_count - queries


def run_bench(odoo, registry, emu, args):
    sizes = list_sizes(emu)
    total = sum(sizes.values())
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        connection = connect(env, emu)

        # --- initial import --- #
        emu.reset_log()
        with measured(cr) as full:
            run = connection._sync('initial')
        import_time, import_queries = full.time, full.queries
        calls = api_calls_by_entity(emu)
        stats = _plain(run)
        run = _Plain(api_calls=run.api_calls, state=run.state, summary=run.summary)
        if run.state != 'done':
            print('bench: the import ended %s: %s' % (run.state, run.summary))

        # --- baseline: the same number of accounts in one raw ORM batch --- #
        n_accounts = sizes['Account']
        with measured(cr) as raw:
            cr.execute('SAVEPOINT bench_raw')
            env['account.account'].with_context(tracking_disable=True, mail_create_nolog=True).create([
                {'name': 'Raw %d' % i, 'code': 'RAW%05d' % i, 'account_type': 'expense'}
                for i in range(n_accounts)])
            env.flush_all()
        raw_time, raw_queries = raw.time, raw.queries
        cr.execute('ROLLBACK TO SAVEPOINT bench_raw')
        env.invalidate_all()

        # --- incremental sync after N changes --- #
        accounts = [a for a in emu.store.all(emu.realm_id, 'Account') if a.get('Active', True)]
        for obj in accounts[-args.changes:]:
            emu.store.update(emu.realm_id, 'Account', obj['Id'], {'Name': obj['Name'] + ' (renamed)'})
        emu.reset_log()
        with measured(cr) as incremental:
            inc = connection._sync('manual')
        inc_time, inc_queries = incremental.time, incremental.queries
        inc_stats = _plain(inc)
        inc = _Plain(api_calls=inc.api_calls, state=inc.state, summary=inc.summary)
        renamed = env['qbo.account'].search_count([('connection_id', '=', connection.id),
                                                   ('name', '=like', '% (renamed)')])
        cr.commit()

    print()
    print('Lists benchmark: emulator demo company x%d, Odoo %s, database %s'
          % (args.scale, odoo.release.version, args.db))
    print()
    print('Initial import (%d records, %d lists)' % (total, len(sizes)))
    print('  %-15s %7s %9s %10s %8s %8s %8s' % ('list', 'records', 'API calls', 'floor', 'created', 'matched',
                                                'failed'))
    query_entities = {'TaxCode': 'TaxCode', 'TaxRate': 'TaxRate'}
    for entity, n in sizes.items():
        floor = max(1, math.ceil(n / 1000))
        stat = stats.get(entity)
        print('  %-15s %7d %9d %10d %8d %8d %8d' % (
            entity, n, calls.get(query_entities.get(entity, entity), 0), floor,
            stat.created if stat else 0, stat.matched if stat else 0, stat.failed if stat else 0))
    all_calls = sum(calls.values())
    floor_all = sum(max(1, math.ceil(n / 1000)) for n in sizes.values())
    print('  %-15s %7d %9d %10d' % ('all', total, all_calls, floor_all))
    print('  time %.2f s  -> %.0f records/s;  SQL queries %d -> %.2f per record;  run API calls %d'
          % (import_time, total / import_time, import_queries, import_queries / total, run.api_calls))
    print()
    print('Baseline: %d account.account created in one raw ORM batch, same database' % n_accounts)
    print('  time %.2f s  -> %.0f records/s;  SQL queries %d -> %.2f per record'
          % (raw_time, n_accounts / raw_time, raw_queries, raw_queries / n_accounts))
    print('  (the import above reads %d records over HTTP, matches them against Odoo, creates the Odoo '
          'records and their %d mappings, in %.2f s)' % (total, total, import_time))
    print()
    print('Incremental sync after %d changed accounts' % args.changes)
    print('  %-28s %12s %12s' % ('', 'incremental', 'full import'))
    print('  %-28s %12d %12d' % ('API calls', inc.api_calls, run.api_calls))
    print('  %-28s %12.2f %12.2f' % ('time (s)', inc_time, import_time))
    print('  %-28s %12d %12d' % ('SQL queries', inc_queries, import_queries))
    print('  %-28s %12d %12d' % ('records read', sum(s.done for s in inc_stats.values()),
                                 sum(s.done for s in stats.values())))
    print('  accounts updated: %d (renamed mappings found: %d); run %s'
          % (inc_stats['Account'].updated if 'Account' in inc_stats else 0, renamed, inc.state))


class _Plain:
    def __init__(self, **values):
        self.__dict__.update(values)


def _plain(run):
    """Return {entity: counts} of a run, readable after its cursor is closed."""
    return {s.entity: _Plain(created=s.created, matched=s.matched, failed=s.failed, done=s.done,
                             updated=s.updated) for s in run.stat_ids}


if __name__ == '__main__':
    main()
