"""The push half of the sync: Odoo records to QuickBooks in batches of 30, through an outbox.

One engine for every entity that syncs both ways (products now; customers, vendors and
documents later). A mapped model that pushes inherits ``qbo.push.mixin`` and declares only
what differs: which Odoo records go (``_qbo_push_work``), the QBO JSON of one
(``_qbo_push_data``), and how a reply binds (``_qbo_push_bind``).

Idempotency: a batch is stored in ``qbo.outbox`` and committed before it is sent, under its
own ``requestid``. A crash between QuickBooks' reply and the local bind leaves the batch
pending; the next run sends it again under the same ``requestid``, QuickBooks replays its
first reply, and the records are bound: never a second QuickBooks record.
"""

import logging
import uuid
from datetime import datetime

from odoo import api, fields, models

from ..qbo import const
from ..qbo.errors import (
    DuplicateName,
    NeedsReconnect,
    QBOError,
    StaleObject,
    TransientError,
    error_from_batch_item,
)
from .qbo_mapped_mixin import SYNC_CONTEXT

_logger = logging.getLogger(__name__)


class QBOOutbox(models.Model):
    """A batch of writes to QuickBooks: stored before it is sent, so it can be sent again as it was."""

    _name = 'qbo.outbox'
    _description = 'QuickBooks Batch to Send'
    _order = 'id'

    connection_id = fields.Many2one('qbo.connection', required=True, index=True, ondelete='cascade',
                                    readonly=True)
    company_id = fields.Many2one(related='connection_id.company_id', store=True)
    realm_id = fields.Char(required=True, readonly=True)
    model = fields.Char('Mapped Model', required=True, readonly=True)
    request_id = fields.Char('Request ID', required=True, readonly=True, copy=False)
    state = fields.Selection([('pending', 'Waiting for QuickBooks'), ('done', 'Done')],
                             required=True, default='pending', index=True, readonly=True)
    # [{'bId', 'operation', 'entity', 'data', 'res_id', 'mapping_id', 'revision'}]
    items = fields.Json(required=True, readonly=True)
    attempts = fields.Integer(readonly=True)
    done_at = fields.Datetime(readonly=True)

    _sql_constraints = [
        ('request_id_unique', 'unique(request_id)', 'A QuickBooks request ID is used once.'),
    ]

    @api.autovacuum
    def _gc_done(self):
        """Done batches are only kept as long as the run log."""
        days = int(self.env['ir.config_parameter'].sudo().get_param('werx_quickbooks.log_retention_days', 90))
        self.search([('state', '=', 'done'),
                     ('done_at', '<', fields.Datetime.subtract(fields.Datetime.now(), days=days))]).unlink()


class QBOPushMixin(models.AbstractModel):
    """What a mapped model needs to send Odoo records to QuickBooks."""

    _name = 'qbo.push.mixin'
    _description = 'QuickBooks push engine'

    _qbo_push_label = None   # e.g. 'Products & Services sent to QuickBooks'

    need_push = fields.Boolean(
        'To Send', readonly=True, copy=False, index=True,
        help='Changed in Odoo since it was last sent to QuickBooks; the next sync sends it.')
    last_direction = fields.Selection(
        [('qbo2odoo', 'From QuickBooks'), ('odoo2qbo', 'To QuickBooks')], string='Last Change',
        readonly=True, help='Which way the last change went.')
    odoo_changed_at = fields.Datetime(
        'Changed in Odoo', readonly=True, copy=False,
        help='When a field QuickBooks keeps last changed in Odoo (for "Newest change wins").')

    # === HOOKS === #

    @api.model
    def _qbo_push_work(self, state):
        """Return [(odoo record, mapping or empty)] to send now: new records and changed mappings."""
        raise NotImplementedError

    @api.model
    def _qbo_push_data(self, record, mapping, state):
        """Return the QBO JSON for ``record`` (an update of ``mapping``'s QBO record when given).

        Raise QBOError (in words) when the record cannot be sent as it is.
        """
        raise NotImplementedError

    @api.model
    def _qbo_push_bind(self, record, mapping, obj, item, state):
        """Store what QBO answered for ``record``: create or update its mapping from ``obj``; return it."""
        values = self._qbo_map(obj, state)
        vals = self._qbo_mapping_values(values, state)
        vals.update(last_synced_at=fields.Datetime.now(), last_direction='odoo2qbo', last_error=False)
        if mapping:
            # need_push was cleared when the batch was stored: a change made since has set it again.
            vals.pop('qbo_id')
            mapping.with_context(**SYNC_CONTEXT).write(vals)
            return mapping
        revision = datetime.fromisoformat(item['revision']) if item.get('revision') else None
        # A new record changed in Odoo while its batch was on its way (or waiting after a crash): again.
        vals['need_push'] = bool(revision and record.write_date and record.write_date > revision)
        existing = self._qbo_push_known(values['qbo_id'], state)
        vals.update({self._qbo_odoo_field: record.id, 'match_state': 'sent',
                     'match_note': self.env._('Created in QuickBooks from Odoo')})
        if existing:   # QuickBooks named a record the pull already brought in (a name clash linked)
            vals.pop('qbo_id')
            existing.with_context(**SYNC_CONTEXT).write(vals)
            return existing
        vals.update(connection_id=state['connection'].id, realm_id=state['connection'].realm_id)
        return self.with_context(**SYNC_CONTEXT).create(vals)

    @api.model
    def _qbo_push_clash(self, record, item, error, state):
        """A create QBO refused for its name (6240): return new data to send, or None when handled."""
        return None

    # === CONFLICTS: changed on both sides === #

    @api.model
    def _qbo_pushing(self, state):
        """True when this entity goes from Odoo to QuickBooks (the Defaults tab's direction)."""
        return state['connection'][self._qbo_direction_field] in ('both', 'odoo2qbo')

    @api.model
    def _qbo_odoo_side_wins(self, mapping, values, state):
        """True when the record changed in Odoo too and the Defaults tab's policy gives Odoo the win."""
        if not (self._qbo_pushing(state) and mapping.need_push and mapping.odoo_changed_at
                and mapping[self._qbo_odoo_field] and not values['deleted']):
            return False
        policy = state['connection'].conflict_policy
        odoo_time, qbo_time = mapping.odoo_changed_at, values['qbo_updated_at']
        newest = policy == 'newest' and qbo_time and odoo_time and odoo_time > qbo_time
        return policy == 'odoo' or bool(newest)

    @api.model
    def _qbo_odoo_wins(self, mapping, values, state):
        """Return True when a record changed on both sides keeps Odoo's values (Defaults tab's policy).

        Then QuickBooks' values are logged as not applied and the push sends Odoo's over them;
        otherwise the pull applies QuickBooks' values as usual (and logs Odoo's it replaces).
        """
        if not self._qbo_odoo_side_wins(mapping, values, state):
            return False
        self._qbo_keep_odoo(mapping, values, state)
        return True

    @api.model
    def _qbo_keep_odoo(self, mapping, values, state):
        """Odoo wins: QuickBooks' values are logged as not applied; the push sends Odoo's over them."""
        followed = self._qbo_followed_values(values, state)
        old = mapping.qbo_followed or {}
        changed = {key: value for key, value in followed.items() if old.get(key) != value}
        record = mapping[self._qbo_odoo_field]
        lost = self._qbo_odoo_update_values(mapping, changed, values, state)
        lost = {fname: value for fname, value in lost.items() if fname in record._fields}
        self._qbo_log_changes(mapping, record, lost, state, applied=False)
        mapping_vals = self._qbo_mapping_values(values, state)
        mapping_vals.pop('qbo_id')
        mapping_vals.update(last_synced_at=fields.Datetime.now(), need_push=True,
                            match_note=self.env._('Changed on both sides: Odoo wins (Defaults tab); '
                                                  "QuickBooks' values are in the run's log."))
        mapping.with_context(**SYNC_CONTEXT).write(mapping_vals)

    # === ENGINE === #

    @api.model
    def _qbo_push_state(self, connection, run, client):
        state = self._qbo_new_state(connection, run, client, {})
        state.update(entity=self._qbo_entity, label=self._qbo_push_label, retried=set())
        self._qbo_prepare(state)
        return state

    @api.model
    def _qbo_push_pending(self, connection, run, client):
        """Send again the batches a crash left unanswered, exactly as stored, and bind their replies.

        Runs before anything is read from QuickBooks, whatever the direction: what QuickBooks
        created for them is bound to its Odoo record before the pull could take it for new.
        """
        pending = self.env['qbo.outbox'].sudo().search([
            ('connection_id', '=', connection.id), ('model', '=', self._name),
            ('realm_id', '=', connection.realm_id), ('state', '=', 'pending')])
        if pending:
            state = self._qbo_push_state(connection, run, client)
            for batch in pending:
                self._qbo_push_send(batch, state)

    @api.model
    def _qbo_push(self, connection, run, client):
        """Send what changed in Odoo to QuickBooks; return the number of records sent."""
        state = self._qbo_push_state(connection, run, client)
        self._qbo_push_pending(connection, run, client)
        work = self._qbo_push_work(state)
        if run:
            run._set_total(self._qbo_push_stat_entity(), len(work), label=self._qbo_push_label)
        items = []
        for record, mapping in work:
            item = self._qbo_push_item(record, mapping, state)
            if item:
                items.append(item)
        sent = self._qbo_push_items(items, state)
        # Stale versions re-read and name clashes resolved go once more, in batches of their own.
        again = state.pop('again', [])
        if again:
            sent += self._qbo_push_items(again, state)
        return sent

    @api.model
    def _qbo_push_stat_entity(self):
        return '%s>QBO' % self._qbo_entity

    @api.model
    def _qbo_push_item(self, record, mapping, state):
        """Return the batch item for one record, or None (a failure says why)."""
        try:
            data = self._qbo_push_data(record, mapping, state)
        except QBOError as error:
            self._qbo_push_fail(record, mapping, error, state)
            return None
        if data is None:
            return None
        return {'operation': 'update' if mapping else 'create', 'entity': self._qbo_entity, 'data': data,
                'res_id': record.id, 'mapping_id': mapping.id if mapping else False,
                # What the entity wants back at the bind (a contact: what Odoo said), also after a crash.
                'snapshot': state.get('snapshots', {}).get(record.id),
                # To the microsecond: a change made after this moment is sent again after the bind.
                'revision': record.write_date.isoformat() if record.write_date else None}

    @api.model
    def _qbo_push_items(self, items, state):
        """Store each batch of 30 in the outbox (committed), send it, bind the replies."""
        connection = state['connection']
        Outbox = self.env['qbo.outbox'].sudo()
        for start in range(0, len(items), const.BATCH_SIZE):
            chunk = items[start:start + const.BATCH_SIZE]
            for number, item in enumerate(chunk, 1):
                item['bId'] = str(number)
            # The mappings sent are no longer "to send": a change made from now on marks them again.
            mapping_ids = [item['mapping_id'] for item in chunk if item['mapping_id']]
            if mapping_ids:
                self.browse(mapping_ids).with_context(qbo_sync=True).write({'need_push': False})
            batch = Outbox.create({
                'connection_id': connection.id, 'realm_id': connection.realm_id, 'model': self._name,
                'request_id': uuid.uuid4().hex, 'items': chunk})
            connection._qbo_commit()
            self._qbo_push_send(batch, state)
        return len(items)

    @api.model
    def _qbo_push_send(self, batch, state):
        """Send one stored batch (again, under its request ID) and bind what QuickBooks answered."""
        connection = state['connection']
        items = batch.items
        request = [{'bId': item['bId'], 'operation': item['operation'], item['entity']: item['data']}
                   for item in items]
        batch.attempts += 1
        Odoo = self.env[self._qbo_push_odoo_model()].with_context(active_test=False)
        try:
            replies = state['client'].batch(request, request_id=batch.request_id)
        except (TransientError, NeedsReconnect):
            # Unanswered as a whole: the batch stays pending and goes first next time (as it was).
            connection._qbo_commit()
            raise
        except QBOError as error:
            # Refused as a whole (never done by QuickBooks): its records go again in new batches.
            for item in items:
                record = Odoo.browse(item['res_id']).exists()
                mapping = self.browse(item['mapping_id']).exists() if item['mapping_id'] else self.browse()
                if record:
                    self._qbo_push_fail(record, mapping, error, state)
            self._qbo_push_done(batch)
            connection._qbo_commit()
            return
        # What still exists in Odoo, and the mappings QuickBooks' Ids already have: one query each.
        records = Odoo.browse([item['res_id'] for item in items]).exists()
        mappings = self.browse([item['mapping_id'] for item in items if item['mapping_id']]).exists()
        replied = [str(obj['Id']) for reply in replies if isinstance(reply, dict)
                   for obj in [reply.get(self._qbo_entity)] if isinstance(obj, dict) and obj.get('Id')]
        state['known'] = dict.fromkeys(replied, self.browse())
        if replied:
            state['known'].update({m.qbo_id: m for m in self.with_context(active_test=False).search(
                self._qbo_domain(connection) + [('qbo_id', 'in', replied)])})
        for position, (item, reply) in enumerate(zip(items, replies, strict=True)):
            record = records.browse(item['res_id']) if item['res_id'] in records.ids else Odoo.browse()
            mapping = mappings.browse(item['mapping_id']) if item['mapping_id'] in mappings.ids \
                else self.browse()
            error = error_from_batch_item(reply, request[position])
            try:
                with self.env.cr.savepoint():
                    if error is None:
                        obj = reply.get(item['entity'])
                        if not isinstance(obj, dict) or not obj.get('Id'):
                            raise QBOError(self.env._('QuickBooks answered without the record it saved.'))
                        if not record:
                            self._qbo_push_orphan(obj, item, state)
                            continue
                        self._qbo_push_bind(record, mapping, obj, item, state)
                        self._qbo_push_count(state, **{'created' if item['operation'] == 'create'
                                                       else 'updated': 1})
                    elif record:
                        self._qbo_push_refused(record, mapping, item, error, state)
            except Exception as bind_error:  # noqa: BLE001 - one record fails alone, never the batch
                if not isinstance(bind_error, QBOError):
                    _logger.exception('QuickBooks: binding %s %s failed', self._name, item.get('res_id'))
                if record:
                    self._qbo_push_fail(record, mapping, bind_error, state)
        self._qbo_push_done(batch)
        connection._qbo_commit()

    @api.model
    def _qbo_push_done(self, batch):
        """Mark a batch answered; what must not be kept (a tax ID) leaves the stored copy."""
        items = [dict(item, data=self._qbo_push_scrub(dict(item['data']))) for item in batch.items]
        batch.write({'state': 'done', 'done_at': fields.Datetime.now(), 'items': items})

    @api.model
    def _qbo_push_scrub(self, data):
        """Return the JSON of one record as kept once QuickBooks answered (default: as it was)."""
        return data

    @api.model
    def _qbo_push_known(self, qbo_id, state):
        """Return the mapping of a QuickBooks Id (archived too): from the batch's lookup, else searched."""
        known = state.get('known') or {}
        if qbo_id in known:
            return known[qbo_id]
        return self.with_context(active_test=False).search(
            self._qbo_domain(state['connection']) + [('qbo_id', '=', qbo_id)], limit=1)

    @api.model
    def _qbo_push_orphan(self, obj, item, state):
        """The Odoo record was deleted after its batch was stored: the QBO record waits for the user."""
        values = self._qbo_map(obj, state)
        vals = self._qbo_mapping_values(values, state)
        vals.update({'connection_id': state['connection'].id, 'realm_id': state['connection'].realm_id,
                     self._qbo_odoo_field: False, 'match_state': 'conflict',
                     'last_synced_at': fields.Datetime.now(),
                     'match_note': self.env._('Created in QuickBooks for an Odoo record deleted since: make '
                                              'it inactive in QuickBooks, or Create in Odoo.')})
        existing = self._qbo_push_known(values['qbo_id'], state)
        if existing:
            vals.pop('qbo_id')
            existing.with_context(**SYNC_CONTEXT).write(vals)
        else:
            self.with_context(**SYNC_CONTEXT).create(vals)

    @api.model
    def _qbo_push_refused(self, record, mapping, item, error, state):
        """QuickBooks refused one item: re-read a stale one, resolve a name clash, else log it."""
        key = (record.id, item['operation'])
        if isinstance(error, StaleObject) and mapping and key not in state['retried']:
            state['retried'].add(key)
            # Re-read: QuickBooks' change comes in as a pull would bring it (the Defaults tab's
            # policy decides what wins, the losing values go to the log), then Odoo's goes again.
            fresh = state['client'].read(self._qbo_entity, mapping.qbo_id)
            mapping.with_context(qbo_sync=True).write({'need_push': True})   # Odoo's change is pending
            self._qbo_import_page([fresh], state)
            mapping.invalidate_recordset()
            if mapping[self._qbo_odoo_field]:
                again = self._qbo_push_item(record, mapping, state)
                if again:
                    state.setdefault('again', []).append(again)
            return
        if isinstance(error, DuplicateName) and not mapping and key not in state['retried']:
            state['retried'].add(key)
            data = self._qbo_push_clash(record, item, error, state)
            if data is not None:
                state.setdefault('again', []).append(dict(item, data=data))
            return
        if isinstance(error, StaleObject):
            error = QBOError(self.env._(
                'QuickBooks changed this record again while Odoo was sending it (twice); it is left as '
                'QuickBooks has it. Change it in Odoo again, or sync to bring QuickBooks\' version in.'),
                code=error.code, detail=error.detail)
        self._qbo_push_fail(record, mapping, error, state)

    @api.model
    def _qbo_push_fail(self, record, mapping, error, state):
        """Log a record that could not be sent; it is tried again with the next sync."""
        if mapping:
            mapping.with_context(qbo_sync=True).write({'need_push': True})
        if state['run']:
            # No mapped model: a push is retried by the next sync, not by reading QuickBooks again.
            state['run']._log_failure(self._qbo_push_stat_entity(), mapping.qbo_id if mapping else None,
                                      record.display_name, error)

    @api.model
    def _qbo_push_count(self, state, **counts):
        if state['run']:
            state['run']._count(self._qbo_push_stat_entity(), label=self._qbo_push_label,
                                done=sum(counts.values()), **{k: v for k, v in counts.items() if v})

    @api.model
    def _qbo_push_odoo_model(self):
        return self._fields[self._qbo_odoo_field].comodel_name
