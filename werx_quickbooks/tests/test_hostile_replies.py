"""Tier 2: wrong or hostile QuickBooks replies never break the lists sync.

Every case puts damaged objects where the sync reads them (the emulator's stored dicts,
edited under its lock and so past its validation, or the client's reply) and runs a sync.
The run ends (partial or failed) with a failure in plain words naming the record; the other
records come in; no Odoo record is left without its mapping; and once the data is corrected
in QuickBooks, the next sync brings the record in.
"""

import copy
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import mute_logger

from ..qbo.client import QBOClient
from ..qbo.errors import BadReply
from .test_import_lists import ListsCase

try:
    from qbo_emulator.util import iso
except ImportError:  # pragma: no cover - the case is skipped without the emulator anyway
    iso = None

DROP = object()   # poke(): remove the key
MUTE = ('odoo.addons.werx_quickbooks.models.qbo_mapped_mixin',
        'odoo.addons.werx_quickbooks.models.qbo_connection')
# What a failure line must never show the bookkeeper.
NOT_PLAIN = ('Traceback', 'Error:', 'KeyError', 'TypeError', 'AttributeError', 'object has no attribute',
             'could not process this record', 'QueryResponse')
# Odoo records each list creates, and the mapped models whose 'created' rows stand for them.
ODOO_OF = {
    'account.account': ('qbo.account',),
    'account.payment.term': ('qbo.term',),
    'account.analytic.account': ('qbo.class', 'qbo.location'),
    'account.tax': ('qbo.tax.rate', 'qbo.tax.code'),
    'account.payment.method.line': ('qbo.payment.method',),
}


@tagged('post_install', '-at_install')
class TestHostileReplies(ListsCase):

    # --- the emulator's data, edited behind its validation --- #

    def stored(self, entity):
        return self.emulator.store.company(self.emulator.realm_id).objects[entity]

    def poke(self, entity, obj_id, touch=False, **changes):
        """Change a stored object in place (DROP removes a key); ``touch`` makes it a new version."""
        store = self.emulator.store
        with store.lock:
            obj = self.stored(entity)[obj_id]
            if not hasattr(self, '_originals'):
                self._originals = {}
            self._originals.setdefault((entity, obj_id), copy.deepcopy(obj))
            for key, value in changes.items():
                if value is DROP:
                    obj.pop(key, None)
                else:
                    obj[key] = value
            if touch:
                obj['SyncToken'] = str(int(obj['SyncToken']) + 1)
                obj['MetaData']['LastUpdatedTime'] = iso(store.now())
        return obj_id

    def add(self, entity, data, **hostile):
        """Create a valid object in the emulator, then damage it; removed again after the test."""
        obj = self.emulator.store.create(self.emulator.realm_id, entity, data)

        def remove(entity=entity, obj_id=obj['Id']):
            with self.emulator.store.lock:
                self.stored(entity).pop(obj_id, None)
        self.addCleanup(remove)
        if hostile:
            with self.emulator.store.lock:
                self.stored(entity)[obj['Id']].update(hostile)
                for key in [k for k, v in hostile.items() if v is DROP]:
                    self.stored(entity)[obj['Id']].pop(key)
        return obj['Id']

    def fix(self, entity, obj_id, **changes):
        """Correct an object as someone would in QuickBooks: new values, new version."""
        self.poke(entity, obj_id, touch=True, **changes)

    def setUp(self):
        super().setUp()
        self.addCleanup(self._restore)

    def _restore(self):
        with self.emulator.store.lock:
            for (entity, obj_id), original in getattr(self, '_originals', {}).items():
                if obj_id in self.stored(entity):   # not the ones the test made (removed already)
                    self.stored(entity)[obj_id] = original
        self._originals = {}

    # --- the client's reply, changed on its way --- #

    def patch_reply(self, entity, change):
        """Pass every SELECT * reply about ``entity`` through ``change(response) -> response``."""
        original = QBOClient.query

        def query(client, statement):
            response = original(client, statement)
            if ('FROM %s ' % entity) in statement + ' ' and 'count(*)' not in statement:
                response = change(copy.deepcopy(response))
            return response
        patcher = patch.object(QBOClient, 'query', query)
        patcher.start()
        self.addCleanup(patcher.stop)
        return patcher

    # --- checks --- #

    def run_sync(self):
        with mute_logger(*MUTE):
            return self.sync()

    def failure(self, run, entity, qbo_id=None, name=None):
        failures = run.failure_ids.filtered(
            lambda f: f.entity == entity and (qbo_id is None or f.qbo_id == qbo_id)
            and (name is None or f.record_name == name))
        self.assertEqual(len(failures), 1, 'one failure for %s %s %s, got: %s' % (
            entity, qbo_id, name, run.failure_ids.mapped(lambda f: (f.entity, f.qbo_id, f.message))))
        message = failures.message
        for word in NOT_PLAIN:
            self.assertNotIn(word, message, 'not plain words: %s' % message)
        self.assertTrue(failures.record_name or failures.qbo_id, 'the failure names no record')
        return failures

    def mapping(self, model, qbo_id):
        return self.env[model].with_context(active_test=False).search(
            [('connection_id', '=', self.connection.id), ('qbo_id', '=', qbo_id)])

    def assertImported(self, model, qbo_id):
        mapping = self.mapping(model, qbo_id)
        self.assertTrue(mapping, '%s %s was not imported' % (model, qbo_id))
        self.assertIn(mapping.match_state, ('created', 'matched'), mapping.last_error)
        self.assertTrue(mapping[mapping._qbo_odoo_field] or mapping.match_state == 'matched')
        return mapping

    def assertNotImported(self, model, qbo_id):
        mapping = self.mapping(model, qbo_id)
        self.assertFalse(mapping[mapping._qbo_odoo_field] if mapping else False,
                         '%s %s is linked to an Odoo record though it failed' % (model, qbo_id))

    def assertConsistent(self, before):
        """No Odoo record without its mapping, no 'created' mapping without its record."""
        after = self.odoo_counts()
        for odoo_model, models in ODOO_OF.items():
            created = 0
            for model in models:
                mappings = self.mappings(model)
                field = self.env[model]._qbo_odoo_field
                for mapping in mappings.filtered(lambda m: m.match_state == 'created'):
                    self.assertTrue(mapping[field], '%s %s created without its record'
                                    % (model, mapping.qbo_id))
                for mapping in mappings.filtered(lambda m: m.match_state == 'error'):
                    self.assertFalse(mapping[field], '%s %s failed yet linked' % (model, mapping.qbo_id))
                created += len(mappings.filtered(lambda m: m.match_state == 'created'))
            if odoo_model == 'account.tax':
                continue  # a group tax for several codes, or none for NON: not one per mapping
            self.assertEqual(after[odoo_model] - before[odoo_model], created,
                             '%s: Odoo records created without a mapping (or lost)' % odoo_model)

    def assertOthersImported(self, run, entity, model, bad_ids):
        """Every other record of the list came in."""
        good = [o['Id'] for o in self.qbo(entity) if o['Id'] not in bad_ids]
        self.assertTrue(good)
        for qbo_id in good:
            self.assertImported(model, qbo_id)
        self.assertIn(run.state, ('partial', 'failed'))

    # === CASES === #

    def test_damaged_accounts_fail_alone_and_come_in_once_corrected(self):
        base = {'AccountType': 'Expense'}
        bad = {
            'no name': self.add('Account', dict(base, Name='Hostile no name'), Name=DROP,
                                FullyQualifiedName=DROP),
            'long name': self.add('Account', dict(base, Name='Hostile long'), Name='N' * 5000,
                                  FullyQualifiedName='N' * 5000),
            'name not text': self.add('Account', dict(base, Name='Hostile number'), Name=12345,
                                      FullyQualifiedName={'x': 1}),
            'unknown type': self.add('Account', dict(base, Name='Hostile type'), AccountType='Spaceship',
                                     Classification=None),
            'long number': self.add('Account', dict(base, Name='Hostile number 200'), AcctNum='7' * 200),
            'type not text': self.add('Account', dict(base, Name='Hostile type list'), AccountType=['Bank']),
        }
        garbage_sub = self.add('Account', dict(base, Name='Hostile subtype'),
                               AccountSubType='x' * 300 + '\x00')
        odd_number = self.add('Account', dict(base, Name='Hostile odd number', AcctNum='9/9'),
                              AcctNum='9/9 #€\u202e\t')
        before = self.odoo_counts()
        run = self.run_sync()

        self.assertEqual(run.state, 'partial', run.message)
        for why, qbo_id in bad.items():
            failure = self.failure(run, 'Account', qbo_id)
            self.assertIn('QuickBooks ID %s' % qbo_id, failure.message, why)
            self.assertNotImported('qbo.account', qbo_id)
        self.assertIn('name', self.failure(run, 'Account', bad['no name']).message)
        self.assertIn('5000 characters', self.failure(run, 'Account', bad['long name']).message)
        self.assertIn('Spaceship', self.failure(run, 'Account', bad['unknown type']).message)
        self.assertIn('account number', self.failure(run, 'Account', bad['long number']).message)
        # An unknown detail type is placed by its account type; odd characters of a number become dots.
        self.assertEqual(self.assertImported('qbo.account', garbage_sub).account_id.account_type, 'expense')
        self.assertEqual(self.assertImported('qbo.account', odd_number).account_id.code, '9.9')
        self.assertOthersImported(run, 'Account', 'qbo.account', set(bad.values()))
        self.assertConsistent(before)

        # Corrected in QuickBooks: the next sync (incremental) brings each one in.
        self.fix('Account', bad['no name'], Name='Fixed no name', FullyQualifiedName='Fixed no name')
        self.fix('Account', bad['long name'], Name='Fixed long', FullyQualifiedName='Fixed long')
        self.fix('Account', bad['name not text'], Name='Fixed number', FullyQualifiedName='Fixed number')
        self.fix('Account', bad['unknown type'], AccountType='Expense', Classification='Expense')
        self.fix('Account', bad['long number'], AcctNum='7777')
        self.fix('Account', bad['type not text'], AccountType='Expense')
        rerun = self.run_sync()
        self.assertEqual(rerun.state, 'done', rerun.failure_ids.mapped('message'))
        for qbo_id in bad.values():
            self.assertImported('qbo.account', qbo_id)
        self.assertEqual(self.mapping('qbo.account', bad['long number']).account_id.code, '7777')
        self.assertConsistent(before)

    def test_parent_missing_or_in_a_loop(self):
        # Classes: Retail (3) is under Commercial (2); make Commercial's parent Retail: a loop.
        self.poke('Class', '2', ParentRef={'value': '3', 'name': 'Retail'}, SubClass=True)
        missing = self.add('Class', {'Name': 'Hostile orphan'}, SubClass=True,
                           ParentRef={'value': '9999', 'name': 'Gone'},
                           FullyQualifiedName='Gone:Hostile orphan')
        # Accounts: one is its own parent.
        # (All made before any loop: the emulator's balance roll-up would follow a loop forever.)
        own = self.add('Account', {'Name': 'Hostile self parent', 'AccountType': 'Expense'})
        loop_a = self.add('Account', {'Name': 'Hostile loop A', 'AccountType': 'Expense'})
        loop_b = self.add('Account', {'Name': 'Hostile loop B', 'AccountType': 'Expense'})
        self.poke('Account', own, SubAccount=True, ParentRef={'value': own})
        # And two that are each other's parent; a location under one QuickBooks does not have.
        self.poke('Account', loop_a, SubAccount=True, ParentRef={'value': loop_b})
        self.poke('Account', loop_b, SubAccount=True, ParentRef={'value': loop_a})
        lost = self.add('Department', {'Name': 'Hostile lost'}, SubDepartment=True, ParentRef={'value': '77'})
        before = self.odoo_counts()
        run = self.run_sync()

        self.assertEqual(run.state, 'partial', run.message)
        self.assertIn('9999', self.failure(run, 'Class', missing).message)
        loop = run.failure_ids.filtered(lambda f: f.entity == 'Class' and f.qbo_id in ('2', '3'))
        self.assertEqual(len(loop), 1, 'one of the loop is refused its parent, once')
        self.assertIn('loop', loop.message)
        self.assertIn('loop', self.failure(run, 'Account', own).message)
        classes = self.mappings('qbo.class')
        for mapping in classes:
            seen, node = set(), mapping
            while node:
                self.assertNotIn(node.id, seen, 'a loop of parents was stored')
                seen.add(node.id)
                node = node.parent_id
        self.assertFalse(self.mapping('qbo.account', own).parent_id)
        pair = run.failure_ids.filtered(lambda f: f.entity == 'Account' and f.qbo_id in (loop_a, loop_b))
        self.assertEqual(len(pair), 1)
        self.assertIn('loop', pair.message)
        self.assertFalse(self.mapping('qbo.account', pair.qbo_id).parent_id)
        self.assertIn('77', self.failure(run, 'Department', lost).message)
        self.assertImported('qbo.location', lost)
        # Kept under their full names: nothing of QuickBooks is lost.
        self.assertImported('qbo.class', missing)
        self.assertImported('qbo.account', own)
        self.assertOthersImported(run, 'Class', 'qbo.class', set())
        self.assertConsistent(before)

        self.fix('Class', '2', ParentRef=DROP, SubClass=False)
        self.fix('Class', missing, ParentRef={'value': '1', 'name': 'Residential'},
                 FullyQualifiedName='Residential:Hostile orphan')
        self.fix('Account', own, SubAccount=False, ParentRef=DROP)
        self.fix('Account', loop_b, SubAccount=False, ParentRef=DROP)
        self.fix('Department', lost, SubDepartment=False, ParentRef=DROP)
        rerun = self.run_sync()
        self.assertEqual(rerun.state, 'done', rerun.failure_ids.mapped('message'))
        self.assertEqual(self.mapping('qbo.class', '3').parent_id, self.mapping('qbo.class', '2'))
        self.assertFalse(self.mapping('qbo.class', '2').parent_id)
        self.assertEqual(self.mapping('qbo.class', missing).parent_id, self.mapping('qbo.class', '1'))
        self.assertEqual(self.mapping('qbo.account', loop_a).parent_id, self.mapping('qbo.account', loop_b))
        self.assertFalse(self.mapping('qbo.account', loop_b).parent_id)

    def test_damaged_tax_rates_and_codes(self):
        agency = {'value': self.qbo('TaxAgency')[0]['Id']}   # QBO's rates always have one
        rates = {
            'abc': self.add('TaxRate', {'Name': 'Hostile abc', 'RateValue': 1, 'AgencyRef': agency},
                            RateValue='abc'),
            'negative': self.add('TaxRate', {'Name': 'Hostile negative', 'RateValue': 1, 'AgencyRef': agency},
                                 RateValue=-5),
            'huge': self.add('TaxRate', {'Name': 'Hostile huge', 'RateValue': 1, 'AgencyRef': agency},
                             RateValue=1e9),
        }
        code = self.add('TaxCode', {'Name': 'Hostile code'}, Taxable=True, SalesTaxRateList={
            'TaxRateDetail': [{'TaxRateRef': {'value': '8888'}, 'TaxOrder': 0}]})
        before = self.odoo_counts()
        run = self.run_sync()

        self.assertEqual(run.state, 'partial', run.message)
        for qbo_id in rates.values():
            self.assertIn('rate', self.failure(run, 'TaxRate', qbo_id).message)
            self.assertNotImported('qbo.tax.rate', qbo_id)
        self.assertIn('8888', self.failure(run, 'TaxCode', code).message)
        self.assertNotImported('qbo.tax.code', code)
        self.assertOthersImported(run, 'TaxRate', 'qbo.tax.rate', set(rates.values()))
        self.assertEqual(self.mapping('qbo.tax.code', '2').tax_id.amount_type, 'group')
        self.assertConsistent(before)

        for qbo_id in rates.values():
            self.fix('TaxRate', qbo_id, RateValue=2.5)
        self.fix('TaxCode', code, SalesTaxRateList={'TaxRateDetail': [
            {'TaxRateRef': {'value': rates['abc']}, 'TaxOrder': 0}]})
        rerun = self.run_sync()
        self.assertEqual(rerun.state, 'done', rerun.failure_ids.mapped('message'))
        for qbo_id in rates.values():
            self.assertEqual(self.assertImported('qbo.tax.rate', qbo_id).tax_id.amount, 2.5)
        self.assertEqual(self.assertImported('qbo.tax.code', code).tax_id,
                         self.mapping('qbo.tax.rate', rates['abc']).tax_id)
        self.assertConsistent(before)

    def test_damaged_terms_and_payment_methods(self):
        terms = {
            'negative days': self.add('Term', {'Name': 'Hostile -5', 'DueDays': 5}, DueDays=-5),
            'days not a number': self.add('Term', {'Name': 'Hostile x', 'DueDays': 5}, DueDays='x'),
            'day 45': self.add('Term', {'Name': 'Hostile 45th', 'DueDays': 5}, DueDays=DROP,
                               Type='DATE_DRIVEN', DayOfMonthDue=45),
        }
        method = self.add('PaymentMethod', {'Name': 'Hostile bitcoin', 'Type': 'NON_CREDIT_CARD'},
                          Type='TELEPATHY')
        before = self.odoo_counts()
        run = self.run_sync()

        self.assertEqual(run.state, 'partial', run.message)
        self.assertIn('-5', self.failure(run, 'Term', terms['negative days']).message)
        self.assertIn('"x"', self.failure(run, 'Term', terms['days not a number']).message)
        self.assertIn('45', self.failure(run, 'Term', terms['day 45']).message)
        self.assertIn('TELEPATHY', self.failure(run, 'PaymentMethod', method).message)
        for qbo_id in terms.values():
            self.assertNotImported('qbo.term', qbo_id)
        self.assertNotImported('qbo.payment.method', method)
        self.assertOthersImported(run, 'Term', 'qbo.term', set(terms.values()))
        self.assertOthersImported(run, 'PaymentMethod', 'qbo.payment.method', {method})
        self.assertConsistent(before)

        self.fix('Term', terms['negative days'], DueDays=5)
        self.fix('Term', terms['days not a number'], DueDays=6)
        self.fix('Term', terms['day 45'], DayOfMonthDue=25)
        self.fix('PaymentMethod', method, Type='CREDIT_CARD')
        rerun = self.run_sync()
        self.assertEqual(rerun.state, 'done', rerun.failure_ids.mapped('message'))
        self.assertEqual(self.assertImported('qbo.term', terms['day 45']).day_of_month_due, 25)
        self.assertEqual(self.assertImported('qbo.term', terms['days not a number']).due_days, 6)
        self.assertImported('qbo.term', terms['negative days'])
        self.assertEqual(self.assertImported('qbo.payment.method', method).method_type, 'CREDIT_CARD')
        self.assertConsistent(before)

    def test_duplicated_ids_objects_without_id_and_odd_metadata(self):
        state = {'broken': True}

        def damage(response):
            rows = response.get('Class') or []
            if not state['broken'] or not rows:
                return response
            rows.append(copy.deepcopy(rows[0]))                       # the same record twice: harmless
            rows.append(dict(copy.deepcopy(rows[4]), Name='Impostor'))  # two versions under one Id
            rows.append({'Name': 'Hostile without Id', 'Active': True})
            rows.append(['not', 'an', 'object'])
            rows[1].pop('MetaData', None)
            rows[2]['MetaData'] = {'LastUpdatedTime': 'yesterday-ish'}
            rows[3]['MetaData'] = 'garbage'
            return response
        self.patch_reply('Class', damage)
        ids = [o['Id'] for o in self.qbo('Class')]
        before = self.odoo_counts()
        run = self.run_sync()

        self.assertEqual(run.state, 'partial', run.message)
        self.assertEqual(ids[4], '5', 'Government, a class without children, is sent twice')
        twice = self.failure(run, 'Class', ids[4])
        self.assertIn('two different versions', twice.message)
        self.assertNotImported('qbo.class', ids[4])
        nameless = self.failure(run, 'Class', name='Hostile without Id')
        self.assertIn('without an Id', nameless.message)
        nameless.action_retry()   # nothing to read it again by: said so, no crash
        self.in_worker(self.env['qbo.connection'], '_cron_run_requested')
        self.assertEqual(nameless.state, 'retried')
        self.assertIn('without an ID', nameless.message)
        self.assertEqual(len(run.failure_ids.filtered(lambda f: f.entity == 'Class')), 3,
                         'and the non-object')
        self.assertOthersImported(run, 'Class', 'qbo.class', {ids[4]})
        self.assertEqual(len(self.mappings('qbo.class').filtered(lambda m: m.qbo_id == ids[0])), 1)
        for qbo_id in ids[1:4]:   # no MetaData, or an unreadable one: imported, without an update time
            self.assertFalse(self.assertImported('qbo.class', qbo_id).qbo_updated_at)
        self.assertConsistent(before)

        state['broken'] = False
        self.fix('Class', ids[4])
        rerun = self.run_sync()
        self.assertEqual(rerun.state, 'done', rerun.failure_ids.mapped('message'))
        self.assertImported('qbo.class', ids[4])
        self.assertConsistent(before)

    def test_a_list_that_is_not_a_list_fails_the_run_in_plain_words(self):
        patcher = self.patch_reply('Account', lambda response: dict(response, Account={}))
        run = self.run_sync()
        self.assertEqual(run.state, 'failed')
        self.assertIn('Chart of Accounts', run.message)
        for word in NOT_PLAIN:
            self.assertNotIn(word, run.message)
        self.assertFalse(self.connection.lists_cursor, 'the lists must be read again next time')

        patcher.stop()
        rerun = self.run_sync()
        self.assertEqual(rerun.state, 'done', rerun.message)
        self.assertOthersImported(run, 'Account', 'qbo.account', set())

    def test_a_later_list_that_is_not_a_list(self):
        self.patch_reply('Term', lambda response: dict(response, Term='nope'))
        run = self.run_sync()
        self.assertEqual(run.state, 'failed')
        self.assertIn('Terms', run.message)
        self.assertFalse(self.connection.lists_cursor)

    def test_an_unreadable_change_feed_fails_the_run_and_keeps_the_cursor(self):
        self.assertEqual(self.run_sync().state, 'done')
        cursor = self.connection.lists_cursor
        self.fix('Class', '1', Name='Residential homes', FullyQualifiedName='Residential homes')

        def cdc(client, entities, changed_since):
            raise BadReply(detail='cdc reply has no CDCResponse list')
        with patch.object(QBOClient, 'cdc', cdc):
            run = self.run_sync()
        self.assertEqual(run.state, 'failed')
        self.assertIn('list of changes', run.message)
        self.assertEqual(self.connection.lists_cursor, cursor, 'the same changes are asked for again')
        rerun = self.run_sync()
        self.assertEqual(rerun.state, 'done', rerun.message)
        self.assertEqual(self.mapping('qbo.class', '1').name, 'Residential homes')

    def test_a_record_damaged_after_import_keeps_what_odoo_has(self):
        self.assertEqual(self.run_sync().state, 'done')
        term = self.mapping('qbo.term', '2')
        account_id = next(a['Id'] for a in self.qbo('Account') if a['Name'] == 'Rent')
        account = self.mapping('qbo.account', account_id)
        kept = (term.due_days, term.payment_term_id, account.account_id, account.account_id.account_type,
                account.account_id.name)
        self.fix('Term', '2', DueDays='x')
        self.fix('Account', account_id, AccountType='Spaceship', Classification='Nebula')
        run = self.run_sync()
        self.assertEqual(run.state, 'partial', run.message)
        self.assertIn('"x"', self.failure(run, 'Term', '2').message)
        self.assertIn('Spaceship', self.failure(run, 'Account', account_id).message)
        self.assertEqual((term.due_days, term.payment_term_id, account.account_id,
                          account.account_id.account_type, account.account_id.name), kept)

        self.fix('Term', '2', DueDays=20)
        self.fix('Account', account_id, AccountType='Expense', Classification='Expense')
        rerun = self.run_sync()
        self.assertEqual(rerun.state, 'done', rerun.failure_ids.mapped('message'))
        self.assertEqual(term.due_days, 20)
        self.assertEqual(account.account_id, kept[2])
