# Part of werx_quickbooks. License LGPL-3.
"""Test bases that put a real QBO emulator (HTTP on 127.0.0.1) behind a qbo.connection."""

import os
import sys
from unittest.mock import patch

from odoo.models import BaseModel
from odoo.tests import HttpCase, TransactionCase
from odoo.tests.common import TEST_CURSOR_COOKIE_NAME, Opener

from ..qbo import auth as qbo_auth

# The emulator lives at the repository root, beside the add-on, outside its runtime code. The tests
# find it there by themselves, so `odoo-bin -i werx_quickbooks --test-enable` run the plain way (as
# OCA's CI runs it) executes every test; without it they fail, they never skip.
_REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if os.path.isdir(os.path.join(_REPOSITORY, 'qbo_emulator')) and _REPOSITORY not in sys.path:
    sys.path.append(_REPOSITORY)
try:
    from qbo_emulator import Emulator
except ImportError as error:  # pragma: no cover - depends on where the add-on was copied
    Emulator = None
    _EMULATOR_MISSING = str(error)

CLIENT_ID = 'werx-test-client'
CLIENT_SECRET = 'werx-test-secret'


class QBOEmulatorMixin:
    """Starts a demo Emulator for the class; helpers to make connections against it."""

    emulator_seed = 'demo'

    @classmethod
    def _start_emulator(cls, test_mode=True):
        """Start the class's emulator; in ``test_mode`` (as HttpCase) the code's cursors are the test's."""
        if Emulator is None:
            raise ImportError('The QuickBooks emulator (qbo_emulator, beside the add-on in its repository) '
                              'cannot be imported (%s): run the tests from a checkout of the repository, '
                              'or put the folder that holds qbo_emulator on PYTHONPATH.' % _EMULATOR_MISSING)
        cls.emulator = Emulator(seed=cls.emulator_seed, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                                rate_limits=False).start()
        cls.addClassCleanup(cls.emulator.stop)
        if test_mode:
            cls.registry.enter_test_mode(cls.cr)
            cls.addClassCleanup(cls.registry.leave_test_mode)

    def in_worker(self, records, method, *args, **kwargs):
        """Call ``records.method(*args, **kwargs)`` as a cron worker does, and return its result.

        On a cursor of its own, so the code's commits and rollbacks are the real calls. The
        registry is in test mode: that cursor is a savepoint of the test's transaction, so what
        the work committed is visible to the test and the test's rollback still removes it.
        """
        # Outside test mode the cursor would be a real one, committing for good.
        assert self.registry.test_cr is not None, 'in_worker needs the registry in test mode'
        self.env.flush_all()
        try:
            with self.registry.cursor() as cr:
                # Held until the cursor commits, as a cron worker holds its env: a transaction only
                # flushes through the environments still alive (it keeps them in a weak set).
                env = records.env(cr=cr)
                result = getattr(records.with_env(env), method)(*args, **kwargs)
        finally:
            # What the test's environment had read may have changed under it.
            self.env.invalidate_all()
        if isinstance(result, BaseModel):
            result = result.with_env(records.env)
        return result

    @classmethod
    def _make_connection(cls, company=None, connected=True, realm_id=None):
        """Return a qbo.connection of ``company`` pointing at the emulator, connected with fresh tokens."""
        company = company or cls.env.company
        connection = cls.env['qbo.connection'].sudo().with_context(active_test=False).search(
            [('company_id', '=', company.id)])
        values = {
            'company_id': company.id,
            'environment': 'custom',
            'base_url': cls.emulator.base_url,
            'client_id': CLIENT_ID,
            'client_secret': CLIENT_SECRET,
        }
        if connection:
            connection.write(values)
        else:
            connection = cls.env['qbo.connection'].sudo().create(values)
        if connected:
            realm_id = realm_id or cls.emulator.realm_id
            tokens = qbo_auth.Tokens.from_reply(cls.emulator.issue_tokens(realm_id))
            connection._qbo_store_tokens(tokens)
            connection.write({
                'realm_id': realm_id,
                'qbo_company_name': 'Emulated Company',
                'state': 'connected',
                'connected_at': '2026-01-01 00:00:00',
            })
        return connection.sudo(False)


class QBOEmulatorCase(QBOEmulatorMixin, TransactionCase):
    """A TransactionCase with ``cls.emulator`` (demo company) and ``cls.connection`` (env.company, connected).

    The registry is in test mode, as in HttpCase, so code that opens its own cursor (the
    locked token refresh) sees the test's data.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._start_emulator()
        cls.connection = cls._make_connection()

    def setUp(self):
        super().setUp()
        # The emulator outlives each test's rollback: give every test a sign-in no other test spent.
        self.connection._qbo_store_tokens(qbo_auth.Tokens.from_reply(self.emulator.issue_tokens()))


class QBOSyncCase(QBOEmulatorCase):
    """A QBOEmulatorCase that runs syncs as the cron worker does and reads what was written to QuickBooks."""

    def setUp(self):
        super().setUp()
        self.store, self.realm = self.emulator.store, self.emulator.realm_id

    def sync(self, trigger='manual'):
        run = self.in_worker(self.connection, '_sync', trigger)
        self.assertIn(run.state, ('done', 'partial'), run.message)
        return run

    def writes(self):
        """The requests that wrote to QuickBooks since the emulator's log was reset."""
        return [r for r in self.emulator.request_log
                if r['method'] == 'POST' and r['entity'] not in (None, 'query') and 'query' not in r['path']]


class QBOEmulatorHttpCase(QBOEmulatorMixin, TransactionCase):
    """Requests through Odoo's real HTTP server (HttpCase's url_open and authenticate) and ``cls.emulator``.

    It borrows HttpCase's HTTP helpers instead of inheriting HttpCase: an HttpCase in the
    suite makes Odoo pregenerate the web client's asset bundles first, which needs no
    browser here and fails on an Odoo installed without its static libraries. Tests make
    the connections they need.
    """

    base_url = HttpCase.__dict__['base_url']
    http_port = HttpCase.__dict__['http_port']
    url_open = HttpCase.url_open
    authenticate = HttpCase.authenticate

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # As HttpCase: one test cursor serves the test and the requests it makes.
        cls._start_emulator()
        cls.env['ir.config_parameter'].set_param('web.base.url', cls.base_url())
        cls.env.flush_all()

    def setUp(self):
        super().setUp()
        self.opener = Opener(self.cr)
        self.opener.cookies[TEST_CURSOR_COOKIE_NAME] = self.http_request_key


def failing_to_map(model, qbo_ids):
    """Return a patch under which the QBO records of ``qbo_ids`` fail in ``model``'s mapper.

    As a record that Odoo cannot read would: an unexpected error, the rest of the list goes on.
    """
    cls = type(model)
    original = cls._qbo_map

    def broken(self, obj, state):
        if obj.get('Id') in qbo_ids:
            raise ValueError('this record is broken')
        return original(self, obj, state)
    return patch.object(cls, '_qbo_map', broken)
