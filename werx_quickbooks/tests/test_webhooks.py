# Part of werx_quickbooks. License LGPL-3.
"""Tier 2: QuickBooks' change notifications reach Odoo over real HTTP and are fetched in a cron worker."""

import json
import re
import threading
import time
from unittest.mock import patch

from odoo import fields
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from ..models import qbo_webhook as webhook_model
from ..models.qbo_webhook import MAX_TRIES, WEBHOOK_PATH
from ..qbo import auth as qbo_auth
from ..qbo.errors import TransientError
from ..qbo.webhook import sign
from .common import QBOEmulatorHttpCase

VERIFIER = 'werx-test-verifier'
LOGGER = 'odoo.addons.werx_quickbooks.models.qbo_webhook'


@tagged('post_install', '-at_install')
class TestWebhooks(QBOEmulatorHttpCase):
    """A change in QuickBooks reaches Odoo in seconds; what is not Intuit's, or not new, changes nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connection = cls._make_connection()
        cls.connection.sudo().write({'webhook_verifier_token': VERIFIER, 'initial_import_state': 'done'})
        cls._import_lists(cls.connection)
        cls.cron = cls.env.ref('werx_quickbooks.ir_cron_qbo_webhook')

    @classmethod
    def _import_lists(cls, connection):
        """Bring the company's lists in once, as the initial import would (a worker's cursor)."""
        cls.env.flush_all()
        with cls.registry.cursor() as cr:
            connection.with_env(connection.env(cr=cr))._sync('initial')
        cls.env.invalidate_all()

    def setUp(self):
        super().setUp()
        # The emulator outlives each test's rollback: give every test a sign-in no other test spent.
        self.connection._qbo_store_tokens(qbo_auth.Tokens.from_reply(self.emulator.issue_tokens()))
        self.addCleanup(self.emulator.webhooks.realms.clear)
        self.addCleanup(self.emulator.set_webhook, None)
        # Run first: no delivery of this test may reach Odoo during the next one.
        self.addCleanup(self.emulator.flush_webhooks, 10)

    # --- helpers --- #

    def webhooks_on(self, fmt='classic', realm=None):
        """Let the emulator post its notifications to Odoo from now on.

        Only right before the change: a delivery served while the test itself works in the
        database would share its cursor.
        """
        self.env.flush_all()
        self.emulator.set_webhook(self.base_url() + WEBHOOK_PATH, fmt, VERIFIER, realm=realm)

    def events(self, connection=None):
        return self.env['qbo.webhook.event'].sudo().search(
            [('connection_id', '=', (connection or self.connection).id)], order='id')

    def triggers(self):
        return self.env['ir.cron.trigger'].sudo().search_count([('cron_id', '=', self.cron.id)])

    def post(self, body, token=VERIFIER, signature=None):
        """Post ``body`` to the webhook route as Intuit would, signed with ``token`` (or ``signature``)."""
        body = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {'Content-Type': 'application/json'}
        if signature is None and token:
            signature = sign(body, token)
        if signature is not None:
            headers['intuit-signature'] = signature
        self.env.flush_all()
        reply = self.url_open(WEBHOOK_PATH, data=body, headers=headers)
        self.env.invalidate_all()   # the request wrote through a cursor of its own
        return reply

    def classic(self, *entities, realm=None):
        return {'eventNotifications': [{'realmId': realm or self.emulator.realm_id,
                                        'dataChangeEvent': {'entities': list(entities)}}]}

    def fetch_in_worker(self):
        """Run the scheduled action "QuickBooks: webhooks" as the trigger makes a cron worker run it."""
        self.in_worker(self.env['qbo.connection'], '_cron_webhooks')

    def class_mapping(self, name, connection=None):
        return self.env['qbo.class'].search([('connection_id', '=', (connection or self.connection).id),
                                             ('name', '=', name)])

    def wait_for_requests(self, timeout=10):
        """Wait for Odoo to finish the requests still under way (the emulator gave up waiting on them)."""
        deadline = time.monotonic() + timeout
        for thread in threading.enumerate():
            if thread.name.startswith('odoo.service.http.request.'):
                thread.join(max(deadline - time.monotonic(), 0))

    def assert_delivered(self, count=1):
        self.assertTrue(self.emulator.flush_webhooks(10), 'the emulator delivered its notifications')
        self.env.invalidate_all()
        deliveries = self.emulator.webhooks.deliveries[-count:]
        self.assertEqual([d['status'] for d in deliveries], [200] * count, deliveries)
        return deliveries

    # --- the path a change takes --- #

    def test_a_rename_in_quickbooks_reaches_odoo_within_seconds_without_sync(self):
        mapping = self.class_mapping('Residential')
        account = mapping.analytic_account_id
        self.assertTrue(account)
        cursor, runs = self.connection.lists_cursor, self.connection.sync_run_ids
        triggers = self.triggers()

        self.webhooks_on()
        started = time.monotonic()
        self.emulator.store.update(self.emulator.realm_id, 'Class', mapping.qbo_id, {'Name': 'Households'})
        self.assert_delivered()
        event = self.events()
        self.assertEqual((event.entity, event.qbo_id, event.operation, event.state),
                         ('Class', mapping.qbo_id, 'Update', 'pending'), 'stored, not synced in the request')
        self.assertEqual(self.triggers(), triggers + 1, 'the worker was triggered at once')
        self.assertTrue(self.connection.last_webhook_at)
        self.fetch_in_worker()
        elapsed = time.monotonic() - started

        self.assertEqual(account.name, 'Households')
        self.assertEqual(mapping.name, 'Households')
        self.assertLess(elapsed, 10, 'from the change in QuickBooks to the Odoo record')
        self.assertEqual(event.state, 'done')
        run = self.connection.sync_run_ids - runs
        self.assertEqual((run.trigger, run.state), ('webhook', 'done'))
        self.assertEqual(event.run_id, run)
        self.assertEqual(self.connection.lists_cursor, cursor, 'a webhook never moves the change feed cursor')
        self.assertFalse(self.connection.sync_requested_at, 'no Sync was asked for')

    def test_cloudevents_delivery_mixing_two_companies_updates_each(self):
        emulator = self.emulator
        realm2 = emulator.add_company('empty', name='Second Books')
        emulator.store.create(realm2, 'Class', {'Name': 'Warehouse'})
        company2 = self.env['res.company'].create({'name': 'Second Odoo Company',
                                                   'currency_id': self.env.company.currency_id.id})
        connection2 = self._make_connection(company=company2, realm_id=realm2)
        connection2.sudo().write({'webhook_verifier_token': VERIFIER, 'initial_import_state': 'done'})
        self._import_lists(connection2)
        for realm in (emulator.realm_id, realm2):
            self.webhooks_on('cloudevents', realm=realm)
        # A class without sub-classes: a rename then notifies that one record.
        first, second = self.class_mapping('Residential'), self.class_mapping('Warehouse', connection2)
        self.assertTrue(first and second)

        sent = len(emulator.webhooks.deliveries)
        with emulator.holding_webhooks():
            emulator.store.update(emulator.realm_id, 'Class', first.qbo_id, {'Name': 'Businesses'})
            emulator.store.update(realm2, 'Class', second.qbo_id, {'Name': 'Depot'})
        delivery, = self.assert_delivered()
        self.assertEqual(len(emulator.webhooks.deliveries), sent + 1)
        body = json.loads(delivery['body'])
        self.assertEqual({event['intuitaccountid'] for event in body}, {emulator.realm_id, realm2},
                         'one CloudEvents delivery names both companies')
        self.assertEqual(len(self.events()), 1)
        self.assertEqual(len(self.events(connection2)), 1)
        self.fetch_in_worker()

        self.assertEqual(first.analytic_account_id.name, 'Businesses')
        self.assertEqual(second.analytic_account_id.name, 'Depot')
        self.assertEqual(second.analytic_account_id.company_id, company2)
        self.assertEqual((self.events() | self.events(connection2)).mapped('state'), ['done', 'done'])

    # --- what changes nothing --- #

    def test_a_forged_or_unsigned_delivery_is_refused_and_nothing_stored(self):
        mapping = self.class_mapping('Residential')
        body = self.classic({'name': 'Class', 'id': mapping.qbo_id, 'operation': 'Update',
                             'lastUpdated': '2026-12-01T10:00:00Z'})
        triggers = self.triggers()
        logger = webhook_model._logger
        with patch.object(logger, 'warning') as warning, patch.object(logger, 'info') as info:
            forged = self.post(body, token='not-the-verifier')
            unsigned = self.post(body, token=None)
            garbled = self.post(body, signature='%%% not base64')
        self.assertEqual([forged.status_code, unsigned.status_code, garbled.status_code], [401, 401, 401])
        self.assertEqual((info.call_count, warning.call_count), (3, 0),
                         'anyone can post: a refused signature must not fill the log with warnings')
        self.assertFalse(self.events())
        self.assertEqual(self.triggers(), triggers)
        self.assertFalse(self.connection.last_webhook_at)

    def test_a_replayed_delivery_changes_nothing(self):
        mapping = self.class_mapping('Residential')
        self.emulator.store.update(self.emulator.realm_id, 'Class', mapping.qbo_id, {'Name': 'Homes'})
        body = self.classic({'name': 'Class', 'id': mapping.qbo_id, 'operation': 'Update',
                             'lastUpdated': '2026-12-01T10:00:00Z'})
        self.assertEqual(self.post(body).status_code, 200)
        event = self.events()
        self.assertEqual(len(event), 1)
        received, triggers = self.connection.last_webhook_at, self.triggers()

        again = self.post(body)
        self.assertEqual(again.status_code, 200, 'acknowledged, so Intuit stops sending it')
        self.assertEqual(self.events(), event)
        self.assertEqual(self.triggers(), triggers, 'nothing new: no worker woken')
        self.assertEqual(self.connection.last_webhook_at, received)

        self.fetch_in_worker()
        self.assertEqual(mapping.analytic_account_id.name, 'Homes')
        runs = self.connection.sync_run_ids
        self.post(body)
        self.fetch_in_worker()
        self.assertEqual(self.events(), event)
        self.assertEqual(event.state, 'done')
        self.assertEqual(self.connection.sync_run_ids, runs, 'a replay after the fetch runs nothing')

    def test_a_late_reply_sent_again_by_quickbooks_is_stored_once(self):
        mapping = self.class_mapping('Residential')
        webhooks = self.emulator.webhooks
        self.addCleanup(setattr, webhooks, 'timeout', webhooks.timeout)
        self.addCleanup(setattr, webhooks, 'retry_delays', webhooks.retry_delays)
        webhooks.timeout, webhooks.retry_delays = 0.2, (0.05,)
        Event = type(self.env['qbo.webhook.event'])
        original = Event._qbo_receive

        def slow(model, body, signature):
            time.sleep(0.4)   # past the emulator's patience: it sends the same delivery again
            return original(model, body, signature)
        self.webhooks_on()
        with patch.object(Event, '_qbo_receive', slow):
            self.emulator.store.update(self.emulator.realm_id, 'Class', mapping.qbo_id, {'Name': 'Dwellings'})
            self.assertTrue(self.emulator.flush_webhooks(10))
            self.wait_for_requests()
        tries = webhooks.deliveries[-2:]
        self.assertEqual([(d['attempt'], d['retried']) for d in tries], [(1, True), (2, False)])
        self.assertEqual(tries[0]['body'], tries[1]['body'])
        event = self.events()
        self.assertEqual(len(event), 1, 'the second try found the event stored: kept once')
        self.fetch_in_worker()
        self.assertEqual(mapping.analytic_account_id.name, 'Dwellings')

    def test_a_body_that_is_no_notification_gets_400_with_the_reason_and_nothing_stored(self):
        with self.assertLogs(LOGGER, 'WARNING'):
            reply = self.post(b'{"eventNotifications": {"realmId": "1"}}')
            not_json = self.post(b'this is not json')
        self.assertEqual(reply.status_code, 400)
        self.assertIn('eventNotifications is not a list', reply.text)
        self.assertEqual(not_json.status_code, 400)
        self.assertIn('not JSON', not_json.text)
        self.assertFalse(self.events())

    def test_one_odd_event_is_skipped_and_the_rest_of_the_delivery_kept(self):
        mapping = self.class_mapping('Residential')
        body = self.classic(self.classic_update("1' OR Id > '0"), {'name': 'Class', 'operation': 'Update'},
                            self.classic_update(mapping.qbo_id))
        with self.assertLogs(LOGGER, 'WARNING') as logs:
            reply = self.post(body)
        self.assertEqual((reply.status_code, reply.text), (200, 'ok: 1 new of 3 events'))
        self.assertEqual(len(logs.records), 2, logs.output)
        self.assertEqual(self.events().mapped('qbo_id'), [mapping.qbo_id])

    def test_a_body_over_a_mebibyte_is_refused(self):
        body = b'[' + b' ' * (1024 * 1024) + b']'
        self.assertEqual(self.post(body).status_code, 413)
        self.assertFalse(self.events())

    def test_an_unknown_company_is_acknowledged_logged_and_not_kept(self):
        body = self.classic({'name': 'Class', 'id': '1', 'operation': 'Update',
                             'lastUpdated': '2026-12-01T10:00:00Z'}, realm='4620816365000000000')
        triggers = self.triggers()
        with self.assertLogs(LOGGER, 'WARNING') as logs:
            reply = self.post(body)
        self.assertEqual((reply.status_code, reply.text), (200, 'ok: 0 new of 1 events'))
        self.assertIn('4620816365000000000', '\n'.join(logs.output))
        self.assertFalse(self.env['qbo.webhook.event'].sudo().search([]))
        self.assertEqual(self.triggers(), triggers)

    def test_events_of_a_company_with_another_verifier_token_are_dropped(self):
        realm2 = self.emulator.add_company('empty', name='Other App Books')
        company2 = self.env['res.company'].create({'name': 'Other App Company',
                                                   'currency_id': self.env.company.currency_id.id})
        connection2 = self._make_connection(company=company2, realm_id=realm2)
        connection2.sudo().webhook_verifier_token = 'another-apps-token'
        mapping = self.class_mapping('Residential')
        body = {'eventNotifications': [
            {'realmId': realm2, 'dataChangeEvent': {'entities': [
                {'name': 'Class', 'id': '1', 'operation': 'Update', 'lastUpdated': '2026-12-01T10:00:00Z'}]}},
            {'realmId': self.emulator.realm_id, 'dataChangeEvent': {'entities': [
                {'name': 'Class', 'id': mapping.qbo_id, 'operation': 'Update',
                 'lastUpdated': '2026-12-01T10:00:00Z'}]}},
        ]}
        with self.assertLogs(LOGGER, 'WARNING') as logs:
            reply = self.post(body)
        self.assertEqual(reply.status_code, 200)
        self.assertIn(realm2, '\n'.join(logs.output))
        self.assertFalse(self.events(connection2), 'not signed with its token: not kept')
        self.assertEqual(self.events().mapped('qbo_id'), [mapping.qbo_id])

    # --- what the worker does --- #

    def test_a_hundred_events_in_one_delivery_cost_one_query_per_entity(self):
        self.connection.sudo().item_direction = 'qbo2odoo'
        realm, store = self.emulator.realm_id, self.emulator.store
        self.webhooks_on()
        with self.emulator.holding_webhooks():
            for number in range(60):
                store.create(realm, 'Class', {'Name': 'Webhook class %02d' % number})
            for number in range(40):
                store.create(realm, 'Item', {'Name': 'Webhook category %02d' % number, 'Type': 'Category'})
        delivery, = self.assert_delivered()
        self.assertEqual(delivery['events'], 100)
        self.assertEqual(len(self.events()), 100)
        self.emulator.reset_log()
        self.fetch_in_worker()

        queries = [re.search(r'FROM (\w+)', entry['query']).group(1) for entry in self.emulator.request_log
                   if entry['query']]
        self.assertEqual(sorted(queries), ['Class', 'Item'], 'one query per entity, the item split after')
        self.assertEqual(set(self.events().mapped('state')), {'done'})
        classes = self.env['qbo.class'].search_count([('connection_id', '=', self.connection.id),
                                                      ('name', '=like', 'Webhook class %')])
        categories = self.env['qbo.item.category'].search([('connection_id', '=', self.connection.id),
                                                           ('name', '=like', 'Webhook category %')])
        self.assertEqual((classes, len(categories)), (60, 40))
        self.assertTrue(all(categories.mapped('category_id')))

    def test_delete_merge_and_unsynced_entities_follow_their_rules(self):
        realm, store = self.emulator.realm_id, self.emulator.store
        self.webhooks_on()
        with self.emulator.holding_webhooks():
            keep = store.create(realm, 'Class', {'Name': 'Webhook survivor'})
            lost = store.create(realm, 'Class', {'Name': 'Webhook merged away'})
        self.assert_delivered()
        self.fetch_in_worker()
        survivor, gone = self.class_mapping('Webhook survivor'), self.class_mapping('Webhook merged away')
        self.assertEqual((survivor.qbo_id, gone.qbo_id), (keep['Id'], lost['Id']),
                         'created from the notification')

        self.emulator.set_webhook(None)
        store.delete(realm, 'Class', lost['Id'])
        item = store.all(realm, 'Item')[0]
        body = self.classic(
            {'name': 'Class', 'id': keep['Id'], 'operation': 'Merge', 'deletedId': lost['Id'],
             'lastUpdated': '2026-12-01T10:00:00Z'},
            {'name': 'Item', 'id': item['Id'], 'operation': 'Update', 'lastUpdated': '2026-12-01T10:00:00Z'},
            {'name': 'Invoice', 'id': '1', 'operation': 'Void', 'lastUpdated': '2026-12-01T10:00:00Z'},
        )
        done = self.events()
        reply = self.post(body)
        self.assertEqual((reply.status_code, reply.text), (200, 'ok: 2 new of 3 events'),
                         'invoices are not synced: acknowledged, not stored')
        merges = []
        Class = type(self.env['qbo.class'])
        original = Class._qbo_apply_merges

        def recording(model, connection, run, pairs):
            merges.append((list(pairs), model.search_count([('id', '=', gone.id)])))
            return original(model, connection, run, pairs)
        self.emulator.reset_log()
        with patch.object(Class, '_qbo_apply_merges', recording):
            self.fetch_in_worker()

        self.assertEqual(merges, [([(lost['Id'], keep['Id'])], 1)],
                         'the merge is handed over before the merged-away record is archived')
        self.assertFalse(gone.active, 'no longer in QuickBooks: archived, as the change feed does')
        self.assertFalse(gone.analytic_account_id.active)
        self.assertTrue(survivor.active and survivor.analytic_account_id.active)
        states = {event.entity: (event.state, bool(event.note)) for event in self.events() - done}
        self.assertEqual(states, {'Class': ('done', False), 'Item': ('ignored', True)},
                         'the catalog is off: noted, not fetched')
        queries = [entry['query'] for entry in self.emulator.request_log if entry['query']]
        self.assertEqual(len(queries), 1, queries)
        self.assertIn('FROM Class', queries[0])

    def merge_customers_in_quickbooks(self, gone_name, kept_name, direction='both'):
        """Sync contacts both ways, set ``direction``, merge two customers in QuickBooks and fetch the
        notification; return the two mappings and their Odoo contacts as they were before the merge.

        Each test merges its own pair: QuickBooks (the emulator) outlives a test's rollback.
        """
        self.connection.partner_direction = 'both'
        self.env.flush_all()
        with self.registry.cursor() as cr:
            self.connection.with_env(self.connection.env(cr=cr))._sync('manual')
        self.env.invalidate_all()
        self.connection.sudo().partner_direction = direction
        mine = [('connection_id', '=', self.connection.id)]
        gone = self.env['qbo.customer'].search(mine + [('name', '=', gone_name)])
        kept = self.env['qbo.customer'].search(mine + [('name', '=', kept_name)])
        duplicate, survivor = gone.partner_id, kept.partner_id
        self.assertTrue(duplicate and survivor)
        self.webhooks_on()
        self.emulator.store.merge(self.emulator.realm_id, 'Customer', gone.qbo_id, kept.qbo_id)
        self.assert_delivered()
        self.fetch_in_worker()
        return gone, kept, duplicate, survivor

    def test_a_customer_merge_notified_by_quickbooks_flags_the_odoo_duplicate(self):
        gone, kept, duplicate, survivor = self.merge_customers_in_quickbooks('Video Games by Dan',
                                                                             'Kookies by Kathy')
        self.assertEqual(kept.partner_id, survivor)
        # The record merged away stays on its contact, archived and waiting: never sent again.
        self.assertEqual((gone.active, gone.partner_id, gone.match_state), (False, duplicate, 'conflict'))
        self.assertEqual(duplicate.qbo_duplicate_of_id, survivor,
                         'the Odoo duplicate is flagged for the user')
        self.assertTrue(duplicate.exists(), 'never deleted')

    def test_a_busy_connection_keeps_its_events_for_later(self):
        mapping = self.class_mapping('Residential')
        body = self.classic({'name': 'Class', 'id': mapping.qbo_id, 'operation': 'Update',
                             'lastUpdated': '2026-12-01T10:00:00Z'})
        self.post(body)
        lock = self.connection._qbo_acquire_sync_lock()   # a sync runs in another worker
        try:
            triggers = self.triggers()
            self.fetch_in_worker()
            self.assertEqual(self.events().state, 'pending')
            self.assertEqual(self.triggers(), triggers + 1, 'looked at again shortly')
        finally:
            self.connection._qbo_release_sync_lock(lock)
        self.fetch_in_worker()
        self.assertEqual(self.events().state, 'done')

    def test_the_connection_screen_shows_the_url_to_register_and_the_token_to_administrators_only(self):
        self.assertEqual(self.connection.webhook_url, self.base_url() + WEBHOOK_PATH)

        def form(user):
            views = self.env['qbo.connection'].with_user(user).get_views([(False, 'form')])
            return views['views']['form']['arch']
        qbo_admin = new_test_user(self.env, login='qbo-webhook-admin',
                                  groups='base.group_user,werx_quickbooks.group_qbo_admin')
        system = new_test_user(self.env, login='qbo-webhook-system',
                               groups='base.group_system,werx_quickbooks.group_qbo_admin')
        for user, sees_token in ((qbo_admin, False), (system, True)):
            arch = form(user)
            self.assertIn('name="webhook_url"', arch)
            self.assertIn('name="last_webhook_at"', arch)
            self.assertEqual('name="webhook_verifier_token"' in arch, sees_token, user.login)

    def test_handled_notifications_are_removed_after_the_log_retention(self):
        Event = self.env['qbo.webhook.event'].sudo()
        values = {'connection_id': self.connection.id, 'realm_id': self.emulator.realm_id, 'entity': 'Class',
                  'qbo_id': '1', 'operation': 'Update', 'received_at': '2020-01-01 00:00:00'}
        old_done = Event.create(dict(values, event_id='old-done', state='done'))
        old_pending = Event.create(dict(values, event_id='old-pending'))
        recent = Event.create(dict(values, event_id='recent', state='done',
                                   received_at=fields.Datetime.now()))
        Event._gc_old_events()
        self.assertEqual(self.events(), old_pending | recent, 'what waits for the worker is never removed')
        self.assertFalse(old_done.exists())

    # --- what the review of the first version found --- #

    def classic_update(self, qbo_id, entity='Class', when='2026-12-01T10:00:00Z'):
        return {'name': entity, 'id': qbo_id, 'operation': 'Update', 'lastUpdated': when}

    def test_a_delivery_odoo_runs_again_after_a_serialization_failure_is_kept(self):
        mapping = self.class_mapping('Residential')
        written = self.connection.write_date
        Event = type(self.env['qbo.webhook.event'])
        original = Event._qbo_store
        calls = []

        def colliding(model, rows):
            calls.append(len(rows))
            if len(calls) == 1:
                # What a second delivery writing at the same moment makes PostgreSQL say.
                model.env.cr.execute("DO $$ BEGIN RAISE EXCEPTION 'concurrent update' "
                                     "USING ERRCODE = 'serialization_failure'; END $$")
            return original(model, rows)
        # odoo.sql_db logs the refused statement as an error: expected here.
        with patch.object(Event, '_qbo_store', colliding), mute_logger('odoo.sql_db'), \
                patch('odoo.service.model.random.uniform', return_value=0):
            reply = self.post(self.classic(self.classic_update(mapping.qbo_id)))
        self.assertEqual((reply.status_code, calls), (200, [1, 1]),
                         'Odoo ran the request again, and the second run read the same body')
        event = self.events()
        self.assertEqual(len(event), 1)
        self.assertEqual(self.connection.last_webhook_at, event.received_at)
        self.assertEqual(self.connection.write_date, written, 'the request only inserts events')

    def test_quickbooks_not_answering_leaves_the_events_waiting_then_gives_up_in_words(self):
        mapping = self.class_mapping('Residential')
        self.post(self.classic(self.classic_update(mapping.qbo_id)))
        event = self.events()
        Class = type(self.env['qbo.class'])

        def down(model, client, qbo_ids):
            raise TransientError()
        with patch.object(Class, '_qbo_query_ids', down):
            triggers = self.triggers()
            self.fetch_in_worker()
            self.assertEqual((event.state, event.tries), ('pending', 1))
            self.assertIn('not answering', event.note)
            self.assertGreater(event.next_try_at, fields.Datetime.now())
            self.assertEqual(self.triggers(), triggers + 1, 'the worker comes back at the next try')
            self.fetch_in_worker()
            self.assertEqual(event.tries, 1, 'not tried again before its time')
            for _try in range(MAX_TRIES - 1):
                event.sudo().next_try_at = fields.Datetime.now()
                self.fetch_in_worker()
        self.assertEqual((event.state, event.tries), ('failed', MAX_TRIES))
        self.assertIn('Given up after %d tries' % MAX_TRIES, event.note)

    def test_a_merge_waits_for_the_reconnect_while_other_changes_count_their_tries(self):
        realm, store = self.emulator.realm_id, self.emulator.store
        keep = store.create(realm, 'Class', {'Name': 'Webhook kept'})
        lost = store.create(realm, 'Class', {'Name': 'Webhook lost'})
        store.delete(realm, 'Class', lost['Id'])
        mapping = self.class_mapping('Residential')
        self.post(self.classic(
            {'name': 'Class', 'id': keep['Id'], 'operation': 'Merge', 'deletedId': lost['Id'],
             'lastUpdated': '2026-12-01T10:00:00Z'},
            self.classic_update(mapping.qbo_id)))
        merge, update = self.events()
        self.connection.sudo().state = 'needs_reconnect'
        self.fetch_in_worker()
        self.assertEqual((merge.state, merge.tries), ('pending', 0), 'a merge is told nowhere else')
        self.assertEqual((update.state, update.tries), ('pending', 1))
        self.assertIn('not connected', update.note)

        triggers = self.triggers()
        tokens = qbo_auth.Tokens.from_reply(self.emulator.issue_tokens())
        self.connection._qbo_set_connected(self.emulator.realm_id, tokens, False)
        self.assertEqual(self.triggers(), triggers + 1, 'the reconnect wakes the worker for the merge')
        update.sudo().next_try_at = fields.Datetime.now()
        self.fetch_in_worker()
        self.assertEqual((merge.state, update.state), ('done', 'done'))

    def test_unanswered_batches_are_bound_before_notified_customers_are_imported(self):
        self.connection.sudo().partner_direction = 'both'
        customer = self.emulator.store.all(self.emulator.realm_id, 'Customer')[0]
        self.post(self.classic(self.classic_update(customer['Id'], 'Customer')))
        Customer = type(self.env['qbo.customer'])
        pending, read = Customer._qbo_push_pending, Customer._qbo_query_ids
        calls = []

        def push_pending(model, connection, run, client):
            calls.append('bind unanswered batches')
            return pending(model, connection, run, client)

        def query_ids(model, client, qbo_ids):
            calls.append('read the notified customers')
            return read(model, client, qbo_ids)
        with patch.object(Customer, '_qbo_push_pending', push_pending), \
                patch.object(Customer, '_qbo_query_ids', query_ids):
            self.fetch_in_worker()
        self.assertEqual(calls[:2], ['bind unanswered batches', 'read the notified customers'])
        self.assertEqual(self.events().state, 'done')

    def test_a_merge_quickbooks_does_not_confirm_or_an_old_replay_changes_nothing(self):
        residential, other = self.class_mapping('Residential'), self.env['qbo.class'].search(
            [('connection_id', '=', self.connection.id), ('name', '!=', 'Residential')], limit=1)
        self.assertTrue(residential and other)
        old = self.post(self.classic(self.classic_update(residential.qbo_id, when='2020-01-01T00:00:00Z')))
        self.assertEqual((old.status_code, old.text), (200, 'ok: 0 new of 1 events'),
                         'older than the log retention: a replay, acknowledged and not kept')
        self.post(self.classic({'name': 'Class', 'id': other.qbo_id, 'operation': 'Merge',
                                'deletedId': residential.qbo_id, 'lastUpdated': '2026-12-01T10:00:00Z'}))
        merges = []
        Class = type(self.env['qbo.class'])
        with patch.object(Class, '_qbo_apply_merges',
                          lambda model, connection, run, pairs: merges.append(pairs)):
            self.fetch_in_worker()
        self.assertEqual(merges, [], 'QuickBooks still returns the record said to be merged away')
        event = self.events()
        self.assertEqual(event.state, 'ignored')
        self.assertIn('still has', event.note)
        self.assertTrue(residential.active and residential.analytic_account_id.active)

    def test_a_customer_merge_is_followed_when_contacts_only_go_to_quickbooks(self):
        _gone, kept, duplicate, survivor = self.merge_customers_in_quickbooks(
            'Cool Cars', "Jeff's Jalopies", direction='odoo2qbo')
        self.assertEqual(duplicate.qbo_duplicate_of_id, survivor, 'the links are kept right')
        merge = self.events()
        self.assertEqual((merge.operation, merge.state, merge.note), ('Merge', 'done', False))
        self.post(self.classic(self.classic_update(kept.qbo_id, 'Customer')))
        self.fetch_in_worker()
        update = self.events() - merge
        self.assertEqual(update.state, 'ignored', 'contacts only go to QuickBooks: not imported')
        self.assertIn('only sends', update.note)

    def test_notified_entities_come_in_in_the_order_of_a_sync(self):
        self.connection.sudo().item_direction = 'qbo2odoo'
        item = self.emulator.store.all(self.emulator.realm_id, 'Item')[0]
        mapping = self.class_mapping('Residential')
        self.post(self.classic(self.classic_update(item['Id'], 'Item'), self.classic_update(mapping.qbo_id)))
        self.emulator.reset_log()
        self.fetch_in_worker()
        queries = [re.search(r'FROM (\w+)', entry['query']).group(1) for entry in self.emulator.request_log
                   if entry['query']]
        self.assertEqual(queries, ['Class', 'Item'], 'lists before the catalog, whatever the arrival order')

    def test_an_administrator_reads_why_a_notification_was_not_fetched(self):
        self.post(self.classic(self.classic_update('1', 'Vendor')))   # contacts are off: not fetched
        self.fetch_in_worker()
        qbo_admin = new_test_user(self.env, login='qbo-webhook-reader',
                                  groups='base.group_user,werx_quickbooks.group_qbo_admin')
        action = self.connection.with_user(qbo_admin).action_open_webhook_events()
        Event = self.env[action['res_model']].with_user(qbo_admin)
        self.assertIn('<list', Event.get_views([(False, 'list')])['views']['list']['arch'])
        event, = Event.search_read(action['domain'], ['state', 'note'])
        self.assertEqual(event['state'], 'ignored')
        self.assertTrue(event['note'])

    def test_one_pass_takes_a_bounded_number_of_events_and_comes_back_for_the_rest(self):
        Event = self.env['qbo.webhook.event'].sudo()
        values = {'connection_id': self.connection.id, 'realm_id': '4620816365000000001', 'entity': 'Class',
                  'qbo_id': '1', 'operation': 'Update'}
        events = Event.create([dict(values, event_id='old-company-%d' % number) for number in range(3)])
        triggers = self.triggers()
        with patch.object(webhook_model, 'EVENTS_PER_PASS', 2):
            self.fetch_in_worker()
            self.assertEqual(sorted(events.mapped('state')), ['ignored', 'ignored', 'pending'],
                             'notifications of the QuickBooks company used before: two per pass')
            self.assertEqual(self.triggers(), triggers + 1, 'the worker comes back for the rest at once')
            self.fetch_in_worker()
        self.assertEqual(set(events.mapped('state')), {'ignored'})
