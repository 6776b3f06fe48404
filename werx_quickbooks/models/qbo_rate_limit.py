# Part of werx_quickbooks. License LGPL-3.
"""QBO's request limits, shared by every Odoo worker and cron thread of a database.

QBO counts requests per QuickBooks company, whichever process sends them: 10 per second,
500 per minute, 40 batch requests per minute. An in-process limiter lets N workers send N
times that; this one keeps the requests sent in the last minute in PostgreSQL, so all of
them together stay under the limits. It has the interface qbo/ expects of a limiter
(``acquire``, ``waits``, ``waited_seconds``), so the client does not know where it lives.
"""

import logging
import time
import zlib

import psycopg2
from odoo import api, fields, models, sql_db

from ..qbo import const
from ..qbo.ratelimit import limiter_for

_logger = logging.getLogger(__name__)

# Key space of the transaction-level advisory lock that serialises one company's requests.
RATE_LOCK_SPACE = 0x51B1
WINDOWS = ((1.0, const.RATE_PER_SECOND, False), (60.0, const.RATE_PER_MINUTE, False),
           (60.0, const.BATCH_RATE_PER_MINUTE, True))


class QBORequestSlot(models.Model):
    """One request sent to QuickBooks in the last minute (what the shared limiter counts)."""

    _name = 'qbo.request.slot'
    _description = 'QuickBooks Request Sent'
    _log_access = False

    realm_id = fields.Char(required=True)
    sent_at = fields.Float(required=True, help="PostgreSQL's clock, in seconds: one clock for every worker.")
    batch = fields.Boolean()

    def init(self):
        self.env.cr.execute('CREATE INDEX IF NOT EXISTS qbo_request_slot_realm_sent_at_idx '
                            'ON qbo_request_slot (realm_id, sent_at)')

    @api.autovacuum
    def _gc_old_slots(self):
        """Remove what left every window, for companies that stopped sending too."""
        self.env.cr.execute('DELETE FROM qbo_request_slot '
                            'WHERE sent_at < extract(epoch FROM clock_timestamp()) - 3600')


class SharedRateLimiter:
    """Waits until one more request to a QBO company fits QBO's windows, counted across all workers.

    Each acquire is one short transaction on a cursor of its own (never the sync's): lock the
    company's key, drop what left the minute, count the windows, and either take a slot or
    learn how long to wait, then sleep outside the transaction.
    """

    def __init__(self, dbname, realm_id, windows=WINDOWS, sleep=time.sleep):
        self.dbname = dbname
        self.realm_id = realm_id
        self.windows = [w for w in windows if w[1]]
        self.sleep = sleep
        self.waits = 0
        self.waited_seconds = 0.0
        self._key = zlib.crc32(realm_id.encode()) & 0x7FFFFFFF

    def acquire(self, batch=False):
        while True:
            try:
                delay = self._try_acquire(batch)
            except psycopg2.Error as error:
                # The database cannot count for now: this worker keeps to the limits on its own
                # rather than failing the run for a bookkeeping table.
                _logger.warning('QuickBooks: shared request limit unavailable (%s); limiting locally', error)
                limiter_for(self.realm_id).acquire(batch=batch)
                return
            if delay <= 0:
                return
            self.waits += 1
            self.waited_seconds += delay
            self.sleep(delay)

    def _try_acquire(self, batch):
        """Take a slot and return 0, or return the seconds to wait before trying again."""
        windows = [w for w in self.windows if batch or not w[2]]
        longest = max(period for period, _limit, _batch in windows)
        with sql_db.db_connect(self.dbname).cursor() as cr:
            # Read what the worker that held the lock just wrote (Odoo's cursors read a snapshot).
            cr.execute('SET TRANSACTION ISOLATION LEVEL READ COMMITTED')
            cr.execute('SELECT pg_advisory_xact_lock(%s, %s)', [RATE_LOCK_SPACE, self._key])
            cr.execute('SELECT extract(epoch FROM clock_timestamp())::float')
            now = cr.fetchone()[0]
            cr.execute('DELETE FROM qbo_request_slot WHERE realm_id = %s AND sent_at <= %s',
                       [self.realm_id, now - longest])
            delay = 0.0
            for period, limit, batch_only in windows:
                cr.execute("""
                    SELECT sent_at FROM qbo_request_slot
                     WHERE realm_id = %s AND sent_at > %s AND (batch OR NOT %s)
                     ORDER BY sent_at DESC OFFSET %s LIMIT 1
                """, [self.realm_id, now - period, batch_only, limit - 1])
                row = cr.fetchone()
                if row:   # the window already holds ``limit`` requests: wait until its oldest leaves
                    delay = max(delay, row[0] + period - now)
            if delay <= 0:
                cr.execute('INSERT INTO qbo_request_slot (realm_id, sent_at, batch) VALUES (%s, %s, %s)',
                           [self.realm_id, now, bool(batch)])
            # The cursor's context manager commits: the slot is seen by every worker at once.
        return delay
