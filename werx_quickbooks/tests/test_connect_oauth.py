# Part of werx_quickbooks. License LGPL-3.
import datetime
from unittest.mock import patch
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from odoo import fields
from odoo.tests import new_test_user, tagged

from ..models.qbo_oauth_state import hash_state
from .common import CLIENT_SECRET, QBOEmulatorHttpCase


@tagged('post_install', '-at_install')
class TestConnectOAuth(QBOEmulatorHttpCase):
    """The OAuth round trip through the real controller: wizard → Intuit (emulator) → callback."""

    def setUp(self):
        super().setUp()
        self.admin = self.env.ref('base.user_admin')
        self.connection = self._make_connection(connected=False)
        self.emulator.deny_consent = False
        self.emulator.consent_realm = None

    # --- helpers ---

    def _authorize(self, connection=None, user=None):
        """Start the sign-in as ``user`` and return the callback URL the emulator redirects to."""
        connection = (connection or self.connection).with_user(user or self.admin)
        action = connection.action_connect()
        self.assertEqual(action['type'], 'ir.actions.act_url')
        reply = requests.get(action['url'], allow_redirects=False, timeout=10)
        self.assertEqual(reply.status_code, 302, reply.text)
        return reply.headers['Location']

    def _callback(self, url, login='admin'):
        self.authenticate(login, login)
        self.env.flush_all()
        response = self.url_open(url, allow_redirects=False)
        self.env.invalidate_all()
        return response

    def _connect(self, connection=None):
        response = self._callback(self._authorize(connection))
        self.assertEqual(response.status_code, 303, response.text)
        return response

    def _state_of(self, url):
        return parse_qs(urlsplit(url).query)['state'][0]

    # --- tests ---

    def test_a_quickbooks_company_in_another_currency_is_refused_in_words(self):
        store = self.emulator.store
        with store.lock:
            prefs = next(iter(store.company(self.emulator.realm_id).objects['Preferences'].values()))
            saved = dict(prefs['CurrencyPrefs'])
            prefs['CurrencyPrefs']['HomeCurrency'] = {'value': 'EUR'}

        def restore():
            with store.lock:
                prefs['CurrencyPrefs'] = saved
        self.addCleanup(restore)
        self._connect()
        self.assertEqual(self.connection.state, 'draft', 'not connected')
        self.assertFalse(self.connection.realm_id)
        self.assertIn('EUR', self.connection.connect_message)
        self.assertIn('USD', self.connection.connect_message)
        self.assertIn('wrong currency', self.connection.connect_message)
        self.assertEqual(self.connection.initial_import_state, 'none', 'nothing imported')

    def test_wizard_to_connected_through_the_real_callback(self):
        wizard = self.env['qbo.connect.wizard'].with_user(self.admin).create({
            'connection_id': self.connection.id,
            'environment': 'custom',
            'base_url': self.emulator.base_url,
            'client_id': self.connection.client_id,
            'client_secret': CLIENT_SECRET,
        })
        self.assertEqual(wizard.redirect_uri, self.base_url() + '/werx_quickbooks/oauth/callback')
        action = wizard.action_connect()
        consent = urlsplit(action['url'])
        self.assertTrue(action['url'].startswith(self.emulator.base_url + '/oauth2/authorize'))
        params = parse_qs(consent.query)
        self.assertEqual(params['redirect_uri'], [wizard.redirect_uri])
        self.assertEqual(params['scope'], ['com.intuit.quickbooks.accounting'])
        self.assertNotIn(CLIENT_SECRET, action['url'])
        state = self.env['qbo.oauth.state'].search([('state_hash', '=', hash_state(params['state'][0]))])
        self.assertEqual((state.connection_id, state.user_id, state.used),
                         (self.connection, self.admin, False))

        reply = requests.get(action['url'], allow_redirects=False, timeout=10)
        response = self._callback(reply.headers['Location'])

        self.assertEqual(response.status_code, 303)
        self.assertIn('/odoo/action-', response.headers['Location'])
        self.assertTrue(response.headers['Location'].endswith('/%d' % self.connection.id))
        connection = self.connection
        self.assertEqual(connection.state, 'connected')
        self.assertEqual(connection.realm_id, self.emulator.realm_id)
        self.assertEqual(connection.qbo_company_name, 'Werx Demo Field Services')
        self.assertTrue(connection.connected_at)
        self.assertTrue(connection._qbo_tokens().refresh_token)
        self.assertGreater(connection.refresh_token_expires_at,
                           fields.Datetime.now() + datetime.timedelta(days=90))
        self.assertEqual(connection.initial_import_state, 'pending')
        cron = self.env.ref('werx_quickbooks.ir_cron_qbo_initial_import')
        self.assertTrue(self.env['ir.cron.trigger'].search([('cron_id', '=', cron.id)]))
        self.assertTrue(state.used)
        # The tokens work: the connection's client reads the company.
        self.assertEqual(connection._qbo_client().company_info()['CompanyName'], 'Werx Demo Field Services')

    def test_tampered_state_is_rejected(self):
        url = self._authorize()
        state = self._state_of(url)
        forged = state[:-2] + ('AA' if state[-2:] != 'AA' else 'BB')
        tampered = url.replace('state=' + state, 'state=' + forged)
        response = self._callback(tampered)
        self.assertEqual(response.status_code, 400)
        self.assertIn('not recognised', response.text)
        self.assertNotIn('Traceback', response.text)
        self.assertEqual(self.connection.state, 'draft')
        self.assertFalse(self.connection._qbo_tokens())

    def test_missing_state_is_rejected(self):
        url = self._authorize()
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items() if k != 'state'}
        response = self._callback('%s?%s' % (parts.path, urlencode(query)))
        self.assertEqual(response.status_code, 400)
        self.assertIn('security check', response.text)
        self.assertEqual(self.connection.state, 'draft')

    def test_reused_state_is_rejected(self):
        url = self._authorize()
        self.assertEqual(self._callback(url).status_code, 303)
        self.assertEqual(self.connection.state, 'connected')
        self.connection.action_disconnect()
        response = self._callback(url)
        self.assertEqual(response.status_code, 400)
        self.assertIn('already used', response.text)
        self.assertEqual(self.connection.state, 'disconnected')

    def test_expired_state_is_rejected(self):
        url = self._authorize()
        state = self.env['qbo.oauth.state'].search([('state_hash', '=', hash_state(self._state_of(url)))])
        state.expires_at = fields.Datetime.now() - datetime.timedelta(seconds=1)
        response = self._callback(url)
        self.assertEqual(response.status_code, 400)
        self.assertIn('expired', response.text)
        self.assertEqual(self.connection.state, 'draft')

    def test_state_of_another_user_is_rejected(self):
        other = new_test_user(self.env, login='other_admin', password='other_admin',
                              groups='werx_quickbooks.group_qbo_admin,base.group_user')
        url = self._authorize(user=other)
        response = self._callback(url, login='admin')
        self.assertEqual(response.status_code, 400)
        self.assertIn('another user', response.text)
        self.assertEqual(self.connection.state, 'draft')

    def test_refusal_at_consent_is_explained_on_the_connection(self):
        self.emulator.deny_consent = True
        response = self._callback(self._authorize())
        self.assertEqual(response.status_code, 303)
        self.assertEqual(self.connection.state, 'draft')
        self.assertIn('declined', self.connection.connect_message)
        self.assertTrue(self.connection.message_ids.filtered(lambda m: 'declined' in (m.body or '')))

    def test_callback_needs_a_logged_in_user(self):
        url = self._authorize()
        self.authenticate(None, None)
        response = self.url_open(url, allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn('/web/login', response.headers['Location'])
        self.env.invalidate_all()
        self.assertEqual(self.connection.state, 'draft')

    def test_reconnect_to_the_same_company_resumes(self):
        self._connect()
        self.connection.initial_import_state = 'done'
        realm = self.connection.realm_id
        self.connection.action_disconnect()
        self.assertEqual(self.connection.realm_id, realm)
        with patch.object(type(self.connection), '_qbo_archive_mappings') as archive:
            self._connect()
        archive.assert_not_called()
        self.assertEqual(self.connection.state, 'connected')
        self.assertEqual(self.connection.realm_id, realm)
        self.assertEqual(self.connection.initial_import_state, 'done', 'a reconnect resumes, not restarts')
        self.assertTrue(self.connection.message_ids.filtered(lambda m: 'Reconnected' in (m.body or '')))

    def test_signing_in_to_another_quickbooks_company_asks_before_switching(self):
        self._connect()
        old_realm = self.connection.realm_id
        other_realm = self.emulator.add_company(seed='empty', name='Other Books')
        self.emulator.consent_realm = other_realm
        self._connect()
        self.assertEqual(self.connection.realm_id, old_realm, 'no silent switch')
        self.assertEqual(self.connection.pending_realm_id, other_realm)
        self.assertEqual(self.connection.pending_company_name, 'Other Books')
        self.assertIn('Other Books', self.connection.status_message)
        with patch.object(type(self.connection), '_qbo_archive_mappings', autospec=True) as archive:
            self.connection.with_user(self.admin).action_confirm_switch_company()
        archive.assert_called_once()
        self.assertEqual(self.connection.realm_id, other_realm)
        self.assertEqual(self.connection.qbo_company_name, 'Other Books')
        self.assertFalse(self.connection.pending_realm_id)
        self.assertEqual(self.connection.initial_import_state, 'pending')
        self.assertEqual(self.connection._qbo_client().company_info()['CompanyName'], 'Other Books')

    def test_keeping_the_current_company_drops_the_other_sign_in(self):
        self._connect()
        old_realm = self.connection.realm_id
        old_tokens = self.connection._qbo_tokens()
        self.emulator.consent_realm = self.emulator.add_company(seed='empty', name='Wrong Books')
        self._connect()
        self.emulator.reset_log()
        self.connection.with_user(self.admin).action_cancel_switch_company()
        self.assertEqual(self.emulator.counters['POST revoke'], 1)
        self.assertFalse(self.connection.pending_realm_id)
        self.assertEqual(self.connection.realm_id, old_realm)
        self.assertEqual(self.connection._qbo_tokens().refresh_token, old_tokens.refresh_token)

    def test_a_quickbooks_company_connected_elsewhere_is_refused(self):
        company_b = self.env['res.company'].create({'name': 'Company B'})
        self.admin.company_ids = [(4, company_b.id)]
        self._make_connection(company_b, connected=True)     # company B holds the emulator's company
        response = self._connect()
        self.assertEqual(response.status_code, 303)
        self.assertEqual(self.connection.state, 'draft')
        self.assertIn('already connected to the Odoo company Company B', self.connection.connect_message)
        self.assertFalse(self.connection._qbo_tokens())
