"""The one way every QuickBooks list is brought into Odoo (OCA binding pattern).

A mapped model (qbo.account, qbo.term …) is one row per QBO record: its Id, SyncToken and
last update time, whether it is active, how it was matched, and the Odoo record it stands
for. The mixin reads pages, matches, creates and updates; each list declares only what
differs: its QBO entity, its Odoo model and field, and the hooks at the end of this file.
"""

import logging

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, LazyTranslate

from ..qbo import const, mappers, matcher
from ..qbo.errors import BadReply, QBOError
from .qbo_sync_run import plain_words

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

# The matcher's reasons (qbo/matcher.py knows no Odoo), listed here so that they are translated.
MATCHER_REASONS = (
    _lt('Same number'),
    _lt('Same type'),
    _lt('Same name'),
    _lt('Not in Odoo yet'),
    _lt('Odoo already has %(record)s with number %(number)s but of another type; link it or change one of '
        'the numbers.'),
    _lt('Several Odoo records have the number %s.'),
    _lt('Same e-mail address'),
    _lt('Several Odoo contacts have the e-mail address %s.'),
    _lt('Several Odoo records fit (%s); pick one.'),
    _lt('Several Odoo records have this name (%s); pick one.'),
    _lt('Several QuickBooks records look like the same Odoo record (%s); link the right one by hand.'),
)

# Odoo writes made by the sync: no chatter noise, no tracking.
SYNC_CONTEXT = {'tracking_disable': True, 'mail_create_nolog': True, 'mail_notrack': True,
                'active_test': False, 'qbo_sync': True}

MATCH_STATES = [
    ('matched', 'Matched'),
    ('created', 'Created in Odoo'),
    ('sent', 'Created in QuickBooks'),
    ('not_needed', 'No Odoo Record Needed'),
    ('unmatched', 'To Review'),
    ('conflict', 'Conflict'),
    ('error', 'Error'),
]


class QBOMappedMixin(models.AbstractModel):
    _name = 'qbo.mapped.mixin'
    _description = 'QuickBooks mapped record'
    _rec_name = 'full_name'
    _order = 'full_name, id'

    # --- what each list declares --- #
    _qbo_entity = None            # QBO entity name, e.g. 'Account'
    _qbo_label = None             # the list in the user's words, e.g. 'Chart of Accounts'
    _qbo_odoo_field = None        # Many2one on the mapping to the Odoo record
    _qbo_sync_sequence = 100      # import order (lower first)
    _qbo_in_cdc = True            # False for TaxCode / TaxRate: polled with a query
    _qbo_where = ''               # a part of the entity only (Items: categories, or products)
    _qbo_bulk_insert = False      # True: mappings stored with one INSERT a page (_qbo_store_mappings)
    # True when the matcher's kind says what the record is (a term's due rule, a tax's rate and
    # use): only the same kind may match, and one Odoo record of that kind is the match.
    _qbo_kind_exact = False
    _qbo_key_is = 'number'        # what the matcher's strong key is, for its reasons ('email' for contacts)
    # A group that syncs both ways: the connection's field that says which way (e.g. 'item_direction').
    # None: QuickBooks owns the list, it always comes in.
    _qbo_direction_field = None
    # Who may link or create the Odoo records of this list by hand (the chart, taxes, terms and
    # journals are the accountants'); the sync itself writes them for the company.
    _qbo_odoo_rights_group = 'account.group_account_manager'
    _check_company_auto = True

    connection_id = fields.Many2one('qbo.connection', required=True, index=True,
                                    ondelete='cascade', readonly=True)
    company_id = fields.Many2one(related='connection_id.company_id', store=True, index=True)
    # QBO Ids are per company: a connection switched to another QuickBooks company keeps the old
    # (archived) mappings under the old realm, and the new ones never collide with them.
    realm_id = fields.Char(string='QuickBooks Company ID', required=True, readonly=True, index=True)
    qbo_id = fields.Char(string='QuickBooks ID', required=True, readonly=True, index=True)
    name = fields.Char(string='Name in QuickBooks', readonly=True)
    full_name = fields.Char(readonly=True,
                            help='Name with its parents, as QuickBooks shows it (Parent:Child).')
    parent_qbo_id = fields.Char(string='Parent QuickBooks ID', readonly=True)
    sync_token = fields.Char('QuickBooks Version', readonly=True, copy=False,
                             help="QuickBooks' SyncToken: it changes each time the record changes there.")
    qbo_updated_at = fields.Datetime(string='Updated in QuickBooks', readonly=True)
    last_synced_at = fields.Datetime(string='Last Synced', readonly=True)
    active = fields.Boolean(default=True, readonly=True, help='Inactive in QuickBooks: archived in Odoo too.')
    match_state = fields.Selection(MATCH_STATES, string='Match', required=True, default='unmatched',
                                   index=True, readonly=True)
    match_note = fields.Char(string='Why', readonly=True)
    last_error = fields.Text(readonly=True)
    create_requested = fields.Boolean(readonly=True, copy=False,
                                      help='Create in Odoo was asked for; a background worker does it.')
    qbo_can_link = fields.Boolean(compute='_compute_qbo_can_link',
                                  help='The user may link or create the Odoo records of this list by hand.')
    qbo_followed = fields.Json(
        'Values Taken from QuickBooks', readonly=True, copy=False,
        help='What the Odoo record took from QuickBooks at the last sync; only a change there is '
             'written again.')

    _sql_constraints = [
        ('qbo_id_unique', 'unique(connection_id, realm_id, qbo_id)',
         'This QuickBooks record is already mapped for this connection.'),
    ]

    # === COMPUTE METHODS === #

    @api.depends_context('uid')
    def _compute_qbo_can_link(self):
        allowed = self.env.su or self.env.user.has_group(self._qbo_odoo_rights_group)
        for mapping in self:
            mapping.qbo_can_link = allowed

    # === CRUD METHODS === #

    def write(self, vals):
        if self._qbo_odoo_field in vals:
            self._qbo_check_odoo_rights()
        if 'create_requested' in vals and not self.env.su:
            raise AccessError(self.env._('Use Create in Odoo to ask for Odoo records.'))
        return super().write(vals)

    def _qbo_check_odoo_rights(self):
        """Raise unless the user may link or create this list's Odoo records by hand.

        Only the system is trusted without asking (the sync runs as it): a context key sent
        by a caller proves nothing.
        """
        if self.env.su:
            return
        if self.env.user.has_group(self._qbo_odoo_rights_group):
            return
        group = self.env.ref(self._qbo_odoo_rights_group)
        raise AccessError(self.env._(
            'Linking or creating %(list)s in Odoo is for %(group)s users: ask your accountant.',
            list=self._qbo_label, group=group.full_name))

    # === ACTIONS (buttons on unmatched rows) === #

    def action_link(self):
        """Link the mapping to the Odoo record the user picked."""
        self._qbo_check_odoo_rights()
        for mapping in self:
            if not mapping[self._qbo_odoo_field]:
                raise UserError(self.env._('Pick the Odoo record to link "%s" to first.',
                                           mapping.display_name))
            mapping.write({'match_state': 'matched', 'last_error': False,
                           'match_note': self.env._('Linked by %s', self.env.user.name)})
        # Pressed in the "Link to…" dialog: close it, the list behind shows the link.
        return {'type': 'ir.actions.act_window_close'}

    def action_open_link(self):
        """Open this mapping in a small dialog where the Odoo record can be picked."""
        self.ensure_one()
        return {
            'type': 'ir.actions.act_window',
            'name': self.env._('Link to…'),
            'res_model': self._name,
            'res_id': self.id,
            'view_mode': 'form',
            'views': [(False, 'form')],
            'target': 'new',
        }

    def action_create_in_odoo(self):
        """Create the Odoo record for unmatched mappings from QBO's current data (many: in the background)."""
        self._qbo_check_odoo_rights()
        if len(self) > 1:
            for connection in self.connection_id:
                connection._qbo_check_admin()
            # Asked for by an accountant (checked above); the background worker runs as the system.
            self.sudo().write({'create_requested': True})
            self.env.ref('werx_quickbooks.ir_cron_qbo_requested').sudo()._trigger()
            return self.env['qbo.connection']._qbo_notification(self.env._(
                '%s records will be created in Odoo in the background; this list shows them when done.',
                len(self)))
        return self._qbo_create_in_odoo_now()

    def _qbo_create_requested(self):
        """Create, in a background worker, the Odoo records users asked for on many mappings."""
        self.sudo().write({'create_requested': False})
        self._qbo_create_in_odoo_now()

    def _qbo_request_failed(self, message):
        """Hand a queued Create in Odoo back to the user with the reason it could not run."""
        self.sudo().write({'create_requested': False, 'last_error': message})

    def _qbo_create_in_odoo_now(self):
        for connection, mappings in self.grouped('connection_id').items():
            connection._qbo_check_admin()
            client, objects = self._qbo_read_now(connection, mappings.mapped('qbo_id'))
            found = {str(obj.get('Id')) for obj in objects}
            gone = mappings.filtered(lambda m, found=found: m.qbo_id not in found)
            if gone:
                raise UserError(self.env._('QuickBooks no longer has %s; the next sync archives it.',
                                           ', '.join(gone.mapped('display_name'))))
            # As the sync does: the QuickBooks Administrator's say-so, the system's rights.
            model = self.sudo().with_company(connection.company_id)
            state = model._qbo_new_state(connection.sudo(), None, client, {}, force_create=True)
            model._qbo_prepare(state)
            model._qbo_import_page(objects, state)
            if state['errors']:
                raise UserError('\n'.join(state['errors']))
        return True

    @api.model
    def _qbo_retry(self, failures):
        """Read the failed records from QBO again (one query), import them; return the failures resolved."""
        connection = failures.connection_id
        connection.ensure_one()
        connection._qbo_check_admin()
        nameless = failures.filtered(lambda f: not f.qbo_id)
        nameless.write({'state': 'retried', 'message': self.env._(
            'QuickBooks sent this record without an ID, so it cannot be read again on its own; it comes '
            'in with the next sync once QuickBooks sends it correctly.')})
        failures -= nameless
        if not failures:
            return failures
        client, objects = self._qbo_read_now(connection, failures.mapped('qbo_id'))
        model = self.sudo().with_company(connection.company_id)
        state = model._qbo_new_state(connection.sudo(), None, client, {})
        model._qbo_prepare(state)
        model._qbo_import_page(objects, state)
        model._qbo_link_orphans(state)
        found = {str(obj.get('Id')) for obj in objects if isinstance(obj, dict)}
        resolved = failures.browse()
        for failure in failures:
            if failure.qbo_id not in found:
                failure.write({'state': 'retried', 'message': self.env._(
                    'QuickBooks no longer has this record; the next sync archives it.')})
            elif failure.qbo_id in state['failed_ids']:
                failure.write({'state': 'retried', 'message': state['failed_ids'][failure.qbo_id]})
            else:
                resolved |= failure
        resolved.write({'state': 'resolved'})
        return resolved

    @api.model
    def _qbo_read_now(self, connection, qbo_ids):
        """Return (client, QBO's current objects for these Ids); a QBO fault becomes a message."""
        try:
            client = connection._qbo_client()
            return client, self._qbo_query_ids(client, qbo_ids)
        except QBOError as error:
            raise UserError(plain_words(self.env, error)) from None

    @api.model
    def _qbo_query_ids(self, client, qbo_ids):
        """Return the QBO objects of these Ids, inactive included (a query per 1000 Ids, none for none)."""
        ids = list(qbo_ids)
        objects = []
        for start in range(0, len(ids), const.PAGE_SIZE):
            where = 'Id IN (%s)' % ', '.join(
                "'%s'" % i.replace("'", "\\'") for i in ids[start:start + const.PAGE_SIZE])
            for page in client.query_pages(self._qbo_entity, where=where, include_inactive=True,
                                           page_size=const.PAGE_SIZE):
                objects.extend(page)
        return objects

    # === SYNC: the one way every list is imported === #

    @api.model
    def _qbo_domain(self, connection):
        """Return the domain of this list's mappings for the connection's current QuickBooks company."""
        return [('connection_id', '=', connection.id), ('realm_id', '=', connection.realm_id)]

    @api.model
    def _qbo_new_state(self, connection, run, client, cache, force_create=False):
        """Return the working state of one list in one run (what is loaded once, counts, errors)."""
        return {'connection': connection, 'company': connection.company_id, 'run': run, 'client': client,
                'cache': cache, 'force_create': force_create, 'errors': [], 'failed_ids': {}}

    @api.model
    def _qbo_fetch_pages(self, state):
        """Return an iterator over pages of this list from QBO, inactive records included."""
        return state['client'].query_pages(self._qbo_entity, where=self._qbo_fetch_where(state),
                                           include_inactive=True, page_size=const.PAGE_SIZE)

    @api.model
    def _qbo_fetch_where(self, state):
        """The query's condition: this list's part of the entity, and only what changed since ``since``."""
        parts = [self._qbo_where] if self._qbo_where else []
        if state.get('since'):
            parts.append("MetaData.LastUpdatedTime >= '%s'" % state['since'].strftime('%Y-%m-%dT%H:%M:%SZ'))
        return ' AND '.join(parts)

    @api.model
    def _qbo_import_all(self, connection, run, client, cache, since=None):
        """Read the whole list from QBO (or what changed since ``since``), committing page by page."""
        state = self._qbo_new_state(connection, run, client, cache)
        state['since'] = since
        try:
            return self._qbo_import_all_pages(connection, run, state)
        except BadReply as error:
            _logger.warning('QuickBooks: unreadable reply for %s: %s', self._qbo_entity, error.detail)
            raise BadReply(message=self.env._(
                'QuickBooks sent a reply that could not be read while reading the %s; nothing was '
                'lost: the next sync reads the list again.', self._qbo_label),
                code=error.code, detail=error.detail, http_status=error.http_status) from None

    @api.model
    def _qbo_import_all_pages(self, connection, run, state):
        self._qbo_prepare(state)
        seen = 0
        for number, page in enumerate(self._qbo_fetch_pages(state)):
            if number == 0 and run:
                # A short first page is the whole list: no count call needed.
                total = len(page) if len(page) < const.PAGE_SIZE else state['client'].count(
                    self._qbo_entity, where=self._qbo_fetch_where(state), include_inactive=True)
                run._set_total(self._qbo_entity, total, label=self._qbo_label)
            seen += len(page)
            self._qbo_import_page(page, state)
            connection._qbo_commit()
        if not seen and run:
            run._set_total(self._qbo_entity, 0, label=self._qbo_label)
        self._qbo_link_orphans(state)
        connection._qbo_commit()
        return state

    @api.model
    def _qbo_link_orphans(self, state):
        """Link children whose parent came in a later page than they did (one query when none).

        A child whose parent is still not in Odoo then (QBO did not send it, or it failed) stays
        imported under its full name, without a parent, and is reported on the run.
        """
        if 'parent_id' not in self._fields:
            return
        domain = self._qbo_domain(state['connection']) + [('parent_qbo_id', '!=', False),
                                                          ('parent_id', '=', False)]
        orphans = self.with_context(active_test=False).search_fetch(domain, ['qbo_id', 'parent_qbo_id'])
        if not orphans:
            return
        self._qbo_link_parents([{'qbo_id': o.qbo_id, 'parent_qbo_id': o.parent_qbo_id} for o in orphans],
                               state)
        # A parent that failed in this run has its own failure line; its children follow it in.
        skip = state.setdefault('looped_ids', set()) | set(state['failed_ids'])
        for orphan in orphans.filtered(lambda o: not o.parent_id and o.qbo_id not in skip
                                       and o.parent_qbo_id not in skip):
            self._qbo_fail(state, orphan.qbo_id, orphan.full_name or orphan.name, BadReply(
                message=self.env._(
                    'Its parent in QuickBooks (ID %s) is not in Odoo: QuickBooks did not send it, or it '
                    'could not be imported. It is kept under its full name, without a parent, until then.',
                    orphan.parent_qbo_id)))

    @api.model
    def _qbo_import_changes(self, connection, run, client, objects, cache):
        """Bring in the records CDC reported as changed, committing page by page."""
        state = self._qbo_new_state(connection, run, client, cache)
        objects = objects + self._qbo_fetch_failed(state, {str(obj.get('Id')) for obj in objects})
        if run:
            run._set_total(self._qbo_entity, len(objects), label=self._qbo_label)
        if not objects:
            return state
        self._qbo_prepare(state)
        for start in range(0, len(objects), const.PAGE_SIZE):
            self._qbo_import_page(objects[start:start + const.PAGE_SIZE], state)
            connection._qbo_commit()
        self._qbo_link_orphans(state)
        connection._qbo_commit()
        return state

    @api.model
    def _qbo_fetch_failed(self, state, known_ids):
        """Return the QBO objects of mappings left in error, read again (nothing to read: no call).

        CDC only reports what changed in QBO; a record Odoo refused last time is tried again on
        every sync until it goes through.
        """
        failed = self.with_context(active_test=False).search(
            self._qbo_domain(state['connection']) + [('match_state', '=', 'error')]).mapped('qbo_id')
        # A record that could not even be read into a mapping is known by its open failure.
        failed += self.env['qbo.sync.failure'].sudo().search(
            [('connection_id', '=', state['connection'].id), ('mapped_model', '=', self._name),
             ('state', '=', 'open'), ('qbo_id', '!=', False)]).mapped('qbo_id')
        failed = list(dict.fromkeys(failed))
        return self._qbo_query_ids(state['client'], [qbo_id for qbo_id in failed if qbo_id not in known_ids])

    @api.model
    def _qbo_import_page(self, objects, state):
        """Import one page of QBO objects: update the known ones, match or create the new ones."""
        counts = dict.fromkeys(('created', 'updated', 'matched', 'unmatched', 'skipped', 'failed'), 0)
        state['counts'] = counts
        values_list = []
        for obj in objects:
            try:
                values_list.append(self._qbo_map(obj, state))
            except Exception as error:  # noqa: BLE001 - a malformed record fails alone
                qbo_id = obj.get('Id') if isinstance(obj, dict) else None
                self._qbo_fail(state, qbo_id if isinstance(qbo_id, (str, int)) else None,
                               mappers.record_name(obj), error)
        values_list = self._qbo_drop_duplicates(objects, values_list, state)
        # Parents before children, so a child can refer to a parent created in the same page.
        values_list.sort(key=lambda v: (v.get('full_name') or v['name']).count(':'))

        existing = self.with_context(active_test=False).search(
            self._qbo_domain(state['connection']) + [('qbo_id', 'in', [v['qbo_id'] for v in values_list])])
        by_qbo_id = {m.qbo_id: m for m in existing}
        new = []
        for values in values_list:
            mapping = by_qbo_id.get(values['qbo_id'])
            if not mapping:
                if not values['deleted']:
                    new.append(values)
                continue
            if (mapping.match_state != 'error' and mapping.sync_token == values['sync_token']
                    and mapping.qbo_updated_at == values['qbo_updated_at']
                    and not state['force_create'] and (values['deleted'] or (
                        mapping.qbo_followed or {}) == self._qbo_followed_values(values, state))):
                # Unchanged in QBO, and nothing it depends on in Odoo changed either (a tax
                # agency's account, say): nothing to write.
                counts['skipped'] += 1
                continue
            unlinked = not mapping[self._qbo_odoo_field]
            if mapping.match_state == 'error' or (unlinked and (
                    state['force_create'] or mapping.match_state == 'unmatched')):
                # A record that failed before, waits for review, or that the user wants created
                # goes through matching again, as if new.
                mapping.unlink()
                new.append(values)
                continue
            try:
                with self.env.cr.savepoint():
                    self._qbo_update(mapping, values, state)
                counts['updated'] += 1
            except Exception as error:  # noqa: BLE001
                self._qbo_fail(state, values['qbo_id'], values['name'], error)
        if new:
            self._qbo_add(new, state)
        self._qbo_link_parents(values_list, state)
        self._qbo_after_page(values_list, state)
        self._qbo_close_failures([v['qbo_id'] for v in values_list if v['qbo_id'] not in state['failed_ids']],
                                 state)
        if state['run']:
            # Failures are counted by run._log_failure as they are logged.
            state['run']._count(self._qbo_entity, label=self._qbo_label, done=len(objects),
                                **{k: v for k, v in counts.items() if v and k != 'failed'})
        return counts

    @api.model
    def _qbo_drop_duplicates(self, objects, values_list, state):
        """Return ``values_list`` with each QBO Id once; an Id sent twice, differently, fails.

        QBO never sends one record twice in a page; two different versions under one Id leave
        no way to tell which is right, so neither is imported (the next sync reads it again).
        """
        copies = {}
        for obj in objects:
            if isinstance(obj, dict) and isinstance(obj.get('Id'), (str, int)):
                copies.setdefault(str(obj['Id']).strip(), []).append(obj)
        kept, seen = [], set()
        for values in values_list:
            qbo_id = values['qbo_id']
            if qbo_id in seen:
                continue
            seen.add(qbo_id)
            versions = copies.get(qbo_id, [])
            if any(version != versions[0] for version in versions[1:]):
                self._qbo_fail(state, qbo_id, values['name'], BadReply(message=self.env._(
                    'QuickBooks sent two different versions of this record (ID %s) in one reply; it is '
                    'left as it was until QuickBooks sends one (Retry, or its next change there).', qbo_id)))
                continue
            kept.append(values)
        return kept

    @api.model
    def _qbo_add(self, values_list, state):
        """Match new QBO records against Odoo, create what is missing, and store the mappings."""
        counts = state['counts']
        decisions = {}
        remotes = []
        for values in values_list:
            direct = self._qbo_direct_link(values, state)
            if direct is not None:
                decisions[values['qbo_id']] = direct
            else:
                remotes.append(self._qbo_remote(values, state))
        if remotes:
            candidates = [c for c in self._qbo_candidates(state) if c['ref'] not in state['claimed']]
            decisions.update(matcher.match(
                remotes, candidates, compatible=self._qbo_compatible,
                kind_is_enough=self._qbo_kind_is_enough, describe=lambda c: c.get('label') or str(c['ref']),
                key_is=self._qbo_key_is))

        for values in values_list:
            decision = decisions[values['qbo_id']]
            if decision.action == matcher.MATCH and decision.local:
                problem = self._qbo_match_problem(values, decision.local, state)
                if problem:
                    decisions[values['qbo_id']] = decision = matcher.Decision(matcher.CONFLICT, None, problem)
            if decision.action == matcher.CREATE and not state['force_create']:
                reason = self._qbo_cannot_create(values, state)
                if reason:
                    decisions[values['qbo_id']] = matcher.Decision(matcher.UNMATCHED, None, reason)

        to_create = [v for v in values_list
                     if decisions[v['qbo_id']].action == matcher.CREATE
                     or (state['force_create'] and decisions[v['qbo_id']].action != matcher.MATCH)]
        created, create_errors = self._qbo_create_odoo(to_create, state)

        mapping_vals = []
        for values in values_list:
            qbo_id = values['qbo_id']
            decision = decisions[qbo_id]
            vals = self._qbo_mapping_values(values, state)
            vals.update(connection_id=state['connection'].id, realm_id=state['connection'].realm_id,
                        last_synced_at=fields.Datetime.now())
            if qbo_id in created:
                vals.update({self._qbo_odoo_field: created[qbo_id], 'match_state': 'created',
                             'match_note': self.env._('Created from QuickBooks')})
                counts['created'] += 1
            elif qbo_id in create_errors:
                vals.update(match_state='error', match_note=self.env._('Could not be created in Odoo'),
                            last_error=create_errors[qbo_id])
            elif decision.action == matcher.NOT_NEEDED:
                vals.update({self._qbo_odoo_field: False, 'match_state': 'not_needed',
                             'match_note': self._qbo_reason(decision)})
                counts['matched'] += 1   # decided: nothing for the user to do
            elif decision.action == matcher.MATCH:
                vals.update({self._qbo_odoo_field: decision.local, 'match_state': 'matched',
                             'match_note': self._qbo_reason(decision)})
                counts['matched'] += 1
            else:
                vals.update(match_state='conflict' if decision.action == matcher.CONFLICT else 'unmatched',
                            match_note=self._qbo_reason(decision))
                counts['unmatched'] += 1
            mapping_vals.append(vals)
            if vals.get(self._qbo_odoo_field) and self._qbo_odoo_field_claims:
                state['claimed'].add(vals[self._qbo_odoo_field])
        results = self._qbo_store_mappings(mapping_vals, state)
        for vals, (_mapping, error) in zip(mapping_vals, results, strict=True):
            if error:
                self._qbo_fail(state, vals['qbo_id'], vals.get('name'), error)
                if vals['qbo_id'] in created:
                    # No Odoo record without its mapping: the next sync creates both.
                    self._qbo_drop_created(created[vals['qbo_id']], state)
        return results

    @api.model
    def _qbo_store_mappings(self, vals_list, state):
        """Create the mappings of a page; return [(mapping, None) or (None, error)], one per vals.

        A list that may be large (``_qbo_bulk_insert``) stores them in one INSERT: they are the
        add-on's own rows, and the ORM's create costs, per row, about as much as the Odoo record
        they stand for. Any row the database refuses sends the page through the ORM instead,
        where a bad row fails alone.
        """
        if self._qbo_bulk_insert and vals_list:
            try:
                with self.env.cr.savepoint():
                    return [(mapping, None) for mapping in self._qbo_insert(vals_list, state)]
            except Exception:  # noqa: BLE001 - the ORM below finds and reports the culprit
                _logger.info('QuickBooks: bulk insert of %s failed, creating through the ORM', self._name)
        return self._qbo_create_each(self.with_context(**SYNC_CONTEXT), vals_list)

    @api.model
    def _qbo_insert(self, vals_list, state):
        """INSERT the mappings as the ORM would store them: defaults, company, who and when."""
        fields_ = self._fields
        columns = [name for name, field in fields_.items()
                   if field.store and field.column_type and name != 'id']
        # The defaults of every column some row leaves out, computed once (the ORM would, per row).
        defaults = self.default_get([name for name in columns if not all(name in v for v in vals_list)])
        fixed = {'company_id': state['connection'].company_id.id, 'create_uid': self.env.uid,
                 'write_uid': self.env.uid, 'create_date': self.env.cr.now(), 'write_date': self.env.cr.now()}
        placeholders = '(%s)' % ', '.join(['%s'] * len(columns))   # no value in the text: all are parameters
        rows = []
        for vals in vals_list:
            row = {**defaults, **vals, **fixed}
            rows.append(SQL(placeholders, *(
                fields_[name].convert_to_column_insert(row.get(name, False), self, row) for name in columns)))
        self.env.cr.execute(SQL('INSERT INTO %s (%s) VALUES %s RETURNING id', SQL.identifier(self._table),
                                SQL(', ').join(SQL.identifier(name) for name in columns),
                                SQL(', ').join(rows)))
        mappings = self.browse([row[0] for row in self.env.cr.fetchall()])
        # What the ORM would have kept in step: the lists of mappings on the connection and on the
        # Odoo records (product.qbo_item_ids) changed.
        for model_name in ('qbo.connection', fields_[self._qbo_odoo_field].comodel_name):
            model = self.env[model_name]
            names = [name for name, field in model._fields.items()
                     if field.type == 'one2many' and field.comodel_name == self._name]
            if names:
                model.invalidate_model(names)
        return mappings

    @api.model
    def _qbo_drop_created(self, record_id, state):
        """Delete an Odoo record this run just created whose mapping could not be stored."""
        state['claimed'].discard(record_id)
        model = self.env[self._fields[self._qbo_odoo_field].comodel_name].with_context(**SYNC_CONTEXT)
        try:
            with self.env.cr.savepoint():
                model.browse(record_id).unlink()
        except Exception:  # noqa: BLE001 - kept; the next sync matches it instead of creating another
            _logger.warning('QuickBooks: could not remove %s %s left without a mapping',
                            model._name, record_id, exc_info=True)

    @api.model
    def _qbo_create_odoo(self, values_list, state):
        """Create the Odoo records for these QBO records in one batch.

        Returns ({qbo_id: odoo id}, {qbo_id: error in words}).
        """
        if not values_list:
            return {}, {}
        created, errors = {}, {}
        ready, vals_list = [], []
        for values in values_list:
            try:
                vals_list.append(self._qbo_odoo_create_values(values, state))
                ready.append(values)
            except Exception as error:  # noqa: BLE001 - this record cannot be created; the rest can
                errors[values['qbo_id']] = plain_words(self.env, error)
                self._qbo_fail(state, values['qbo_id'], values['name'], error)
        model = self.env[self._fields[self._qbo_odoo_field].comodel_name].with_context(**SYNC_CONTEXT)
        for values, (record, error) in zip(ready, self._qbo_create_each(model, vals_list), strict=True):
            if record:
                created[values['qbo_id']] = record.id
            else:
                errors[values['qbo_id']] = plain_words(self.env, error)
                self._qbo_fail(state, values['qbo_id'], values['name'], error)
        return created, errors

    @api.model
    def _qbo_create_each(self, model, vals_list):
        """Create records in one batch; if it fails, one by one so a bad record fails alone.

        Returns [(record, None) or (None, error)], one per vals, in order.
        """
        if not vals_list:
            return []
        try:
            with self.env.cr.savepoint():
                records = model.create(vals_list)
            return [(record, None) for record in records]
        except Exception:  # noqa: BLE001 - find the culprit below
            _logger.info('QuickBooks: batch create of %s failed, retrying one by one', model._name)
        results = []
        for vals in vals_list:
            try:
                with self.env.cr.savepoint():
                    results.append((model.create(vals), None))
            except Exception as error:  # noqa: BLE001
                results.append((None, error))
        return results

    @api.model
    def _qbo_update(self, mapping, values, state):
        """Apply a change QBO made to a known record: the mapping, then the Odoo record it stands for.

        QuickBooks owns the lists: what changed there since the last sync (a name, a number, a
        rate …, see ``_qbo_followed_values``) is written to the Odoo record, matched or created,
        and the Odoo value it replaces is kept in the run's log of changes. What Odoo must not
        take silently (``_qbo_hold_changes``) waits for review instead. A record Odoo shares
        with other companies is never changed for them: a rename is logged as not applied, and
        an inactivation unlinks it and asks the user.
        """
        record = mapping[self._qbo_odoo_field].with_context(**SYNC_CONTEXT).with_company(state['company'])
        vals = self._qbo_mapping_values(values, state) if not values['deleted'] else {
            'active': False, 'qbo_followed': mapping.qbo_followed}
        vals.pop('qbo_id', None)
        vals.update(last_synced_at=fields.Datetime.now(), last_error=False)
        was_active = mapping.active
        old, new = mapping.qbo_followed, vals.get('qbo_followed') or {}
        # A mapping made before the add-on kept these values knows no change yet: it starts now.
        changed = {key: value for key, value in new.items() if old.get(key) != value} if old else {}
        odoo_vals, held = {}, {}
        if record and changed:
            odoo_vals = self._qbo_odoo_update_values(mapping, changed, values, state)
            odoo_vals = {k: v for k, v in odoo_vals.items() if _differs(record, k, v)}
            held = self._qbo_hold_changes(record, odoo_vals, values, state)
        held_vals = {fname: odoo_vals.pop(fname) for fname in held}
        shared = bool(record) and not self._qbo_odoo_owned(record, state)
        if shared and not vals['active']:
            if 'active' in record._fields and record.active:
                held_vals['active'] = False
            vals.update({self._qbo_odoo_field: False, 'match_state': 'unmatched',
                         'match_note': self.env._(
                             'Inactive in QuickBooks, but the Odoo record "%s" is shared with other '
                             'companies, so it was not archived for them: it is unlinked; link or create '
                             'the record this company uses.', record.display_name)})
        elif held:
            vals.update(match_state='conflict', match_note='; '.join(dict.fromkeys(held.values())))
        mapping.with_context(**SYNC_CONTEXT).write(vals)
        if not record:
            return
        self._qbo_log_changes(mapping, record, odoo_vals, state, applied=not shared)
        self._qbo_log_changes(mapping, record, held_vals, state, applied=False)
        if shared:
            return
        if odoo_vals:
            record.write(odoo_vals)
        # QuickBooks owns the lists: they follow its active state. A record that syncs both ways is
        # archived or restored only when QuickBooks changed that, never undoing what Odoo did.
        if self._qbo_direction_field is None or was_active != vals['active']:
            self._qbo_odoo_set_active(record, vals['active'])

    @api.model
    def _qbo_log_changes(self, mapping, record, odoo_vals, state, applied=True):
        """Keep, in the run's log, the Odoo values a QuickBooks change replaced (or would have)."""
        run = state['run']
        if not run or not odoo_vals:
            return
        rows = []
        for fname, value in odoo_vals.items():
            field = record._fields[fname]
            if field.type in ('one2many', 'many2many'):
                before, after = self.env._('(previous rule)'), self.env._('(QuickBooks rule)')
            else:
                before = _shown(record, fname, record[fname])
                after = _shown(record, fname, value)
            rows.append({'run_id': run.id, 'connection_id': state['connection'].id,
                         'entity': self._qbo_entity, 'qbo_id': mapping.qbo_id,
                         'record_name': mapping.full_name or mapping.name,
                         'odoo_record': '%s,%s' % (record._name, record.id),
                         'field_label': field.string, 'old_value': before, 'new_value': after,
                         'applied': applied})
        self.env['qbo.sync.change'].sudo().create(rows)

    @api.model
    def _qbo_close_failures(self, qbo_ids, state):
        """Close the open failures of records that came in this time (one query for the page)."""
        if not qbo_ids:
            return
        self.env['qbo.sync.failure'].sudo().search([
            ('connection_id', '=', state['connection'].id), ('mapped_model', '=', self._name),
            ('qbo_id', 'in', qbo_ids), ('state', 'in', ('open', 'queued'))]).write({'state': 'resolved'})

    @api.model
    def _qbo_fail(self, state, qbo_id, name, error):
        """Record that one QBO record could not be brought in; the rest carries on."""
        _logger.info('QuickBooks: %s %s failed: %s', self._qbo_entity, qbo_id, error)
        name = ' '.join(name.split())[:200] if isinstance(name, str) else None
        qbo_id = str(qbo_id)[:mappers.ID_MAX] if qbo_id not in (None, '') else None
        state.setdefault('counts', {}).setdefault('failed', 0)
        state['counts']['failed'] += 1
        state['errors'].append('%s: %s' % (name or qbo_id or '?', plain_words(self.env, error)))
        state['failed_ids'][str(qbo_id)] = plain_words(self.env, error)
        if state['run']:
            state['run']._log_failure(self._qbo_entity, qbo_id and str(qbo_id), name, error, self._name)

    @api.model
    def _qbo_candidates(self, state):
        """Return the Odoo records this list may match, once per list and run (with claimed ones noted)."""
        if 'candidates' not in state:
            linked = self.with_context(active_test=False).search_read(
                self._qbo_domain(state['connection']) + [(self._qbo_odoo_field, '!=', False)],
                [self._qbo_odoo_field], load=None)
            claims = self._qbo_odoo_field_claims
            state['claimed'] = {row[self._qbo_odoo_field] for row in linked} if claims else set()
            state['candidates'] = self._qbo_odoo_candidates(state)
        return state['candidates']

    @api.model
    def _qbo_link_parents(self, values_list, state):
        """Point child mappings at their parent mapping (one query, one write per parent)."""
        if 'parent_id' not in self._fields:
            return
        wanted = {v['qbo_id']: v.get('parent_qbo_id') for v in values_list if 'parent_qbo_id' in v}
        if not wanted:
            return
        ids = set(wanted) | {p for p in wanted.values() if p}
        mappings = self.with_context(active_test=False).search(
            self._qbo_domain(state['connection']) + [('qbo_id', 'in', list(ids))])
        by_qbo_id = {m.qbo_id: m for m in mappings}
        by_parent = {}
        for qbo_id, parent_qbo_id in wanted.items():
            child = by_qbo_id.get(qbo_id)
            parent = by_qbo_id.get(parent_qbo_id) if parent_qbo_id else self.browse()
            if parent is None:
                continue  # the parent comes in a later page: _qbo_link_orphans links it then
            if child and child.parent_id != parent:
                by_parent.setdefault(parent, self.browse())
                by_parent[parent] |= child
        by_parent = self._qbo_break_loops(by_parent, state)
        for parent, children in by_parent.items():
            children.with_context(**SYNC_CONTEXT).write({'parent_id': parent.id or False})

    @api.model
    def _qbo_break_loops(self, by_parent, state):
        """Return ``by_parent`` without the links that would make a record its own ancestor.

        QBO data where A's parent is B and B's parent is A (or A its own parent) cannot be a
        hierarchy: such a record is kept without a parent and reported on the run.
        """
        pending = {child.id: parent.id for parent, children in by_parent.items() if parent
                   for child in children}
        if not pending:
            return by_parent
        rows = self.with_context(active_test=False).search_read(
            self._qbo_domain(state['connection']) + [('parent_id', '!=', False)], ['parent_id'], load=None)
        graph = {row['id']: row['parent_id'] for row in rows}
        for parent, children in by_parent.items():
            for child in children:
                graph[child.id] = parent.id or None
        refused = self.browse()
        for child_id in pending:
            node, steps = graph.get(child_id), 0
            while node and node != child_id and steps <= len(graph):
                node, steps = graph.get(node), steps + 1
            if node == child_id:
                graph[child_id] = None
                refused |= self.browse(child_id)
        if not refused:
            return by_parent
        result = {}
        for parent, children in by_parent.items():
            kept = children - refused if parent else children
            if kept:
                result[parent] = kept
        if refused.filtered('parent_id'):
            result[self.browse()] = result.get(self.browse(), self.browse()) | refused.filtered('parent_id')
        looped = state.setdefault('looped_ids', set())
        for child in refused.filtered(lambda c: c.qbo_id not in looped):
            looped.add(child.qbo_id)
            self._qbo_fail(state, child.qbo_id, child.full_name or child.name, BadReply(message=self.env._(
                'Its parent in QuickBooks (ID %s) is also below it (a loop of parents); it is kept without '
                'a parent until the parents are corrected in QuickBooks.', child.parent_qbo_id)))
        return result

    # === HOOKS each list may override === #

    _qbo_odoo_field_claims = True   # False when several mappings may share one Odoo record

    @api.model
    def _qbo_prepare(self, state):
        """Load what the whole list needs before its first page (default: nothing)."""
        state.setdefault('claimed', set())

    @api.model
    def _qbo_apply_merges(self, connection, run, merges):
        """Take in records QuickBooks merged, before the notified records of the entity are imported.

        ``merges`` is a list of (deleted QBO Id, surviving QBO Id) strings. The merged-away record
        then comes in as deleted; a list whose Odoo records others point at (customers, vendors)
        moves those links to the survivor here. Default: nothing.
        """
        return

    @api.model
    def _qbo_map(self, obj, state):
        """Return the plain values of one QBO object (a mapper in qbo/mappers.py)."""
        raise NotImplementedError

    @api.model
    def _qbo_mapping_values(self, values, state):
        """Return the mapping's own field values from the mapped QBO values."""
        return {
            'qbo_id': values['qbo_id'],
            'name': values['name'],
            'full_name': values.get('full_name') or values['name'],
            'parent_qbo_id': values.get('parent_qbo_id') or False,
            'sync_token': values['sync_token'],
            'qbo_updated_at': values['qbo_updated_at'],
            'active': values['active'] and not values['deleted'],
            'qbo_followed': self._qbo_followed_values(values, state),
        }

    @api.model
    def _qbo_direct_link(self, values, state):
        """Return a matcher.Decision when the list knows the answer without matching, else None."""
        return None

    @api.model
    def _qbo_reason(self, decision):
        """Return a matcher's reason in the user's language (the templates are listed in MATCHER_REASONS)."""
        if isinstance(decision.args, dict):
            return self.env._(decision.reason, **decision.args)
        return self.env._(decision.reason, *decision.args) if decision.args else self.env._(decision.reason)

    @api.model
    def _qbo_match_problem(self, values, local_id, state):
        """Return why the Odoo record matched may not be linked as it is (the user decides), or None."""
        return None

    @api.model
    def _qbo_cannot_create(self, values, state):
        """Return why the sync may not create the Odoo record by itself (it waits for review), or None."""
        return None

    @api.model
    def _qbo_after_page(self, values_list, state):
        """Finish a page once its mappings are stored (default: nothing)."""
        return

    @api.model
    def _qbo_remote(self, values, state):
        """Return the QBO record as the matcher sees it: ref, key, names, kind."""
        return {'ref': values['qbo_id'], 'key': None,
                'names': matcher.name_keys(values.get('full_name') or values['name']), 'kind': None}

    @api.model
    def _qbo_odoo_candidates(self, state):
        """Return the Odoo records of the company this list may match, as matcher dicts."""
        return []

    def _qbo_compatible(self, remote_kind, local_kind):
        if self._qbo_kind_exact:
            return remote_kind == local_kind
        return matcher.same_kind(remote_kind, local_kind)

    def _qbo_kind_is_enough(self, kind):
        return self._qbo_kind_exact

    @api.model
    def _qbo_odoo_create_values(self, values, state):
        """Return the values of the Odoo record to create for a QBO record."""
        raise NotImplementedError

    @api.model
    def _qbo_followed_values(self, values, state):
        """Return what the Odoo record takes from QBO, as plain JSON (stored on the mapping).

        The next sync writes to Odoo only the entries that changed in QBO since then, so an
        Odoo record keeps what the user set on it until QuickBooks changes that very thing.
        """
        return {'name': values.get('full_name') or values['name']}

    @api.model
    def _qbo_odoo_update_values(self, mapping, changed, values, state):
        """Return the Odoo values to write for the ``changed`` followed values (default: as they are)."""
        return dict(changed)

    @api.model
    def _qbo_hold_changes(self, record, odoo_vals, values, state):
        """Return {field: reason} for the changes Odoo must not take without the user (default: none)."""
        return {}

    @api.model
    def _qbo_odoo_owned(self, record, state):
        """Return True if the Odoo record belongs to this connection's company alone (may be changed).

        A record of no company, of several, or of the parent of a branch is shared: QuickBooks'
        changes are not written to it for the others.
        """
        company = state['company']
        if 'company_ids' in record._fields:
            return record.company_ids == company
        if 'company_id' in record._fields:
            return record.company_id == company
        return True


    @api.model
    def _qbo_odoo_set_active(self, records, active):
        """Archive or restore the Odoo records (inactive in QBO = archived, never deleted)."""
        if 'active' in records._fields:
            records.filtered(lambda r: r.active != active).write({'active': active})


def _shown(record, fname, value):
    """Return a value as a user reads it in the log (a selection's label, a record's name)."""
    field = record._fields[fname]
    if field.type == 'selection':
        return dict(field._description_selection(record.env)).get(value, value or '')
    if field.type == 'many2one':
        value = record.env[field.comodel_name].browse(value) if isinstance(value, int) else value
        return value.display_name or ''
    if field.type == 'boolean':
        return record.env._('Yes') if value else record.env._('No')
    return '' if value is False or value is None else str(value)


def _differs(record, fname, value):
    """Return True if writing ``value`` into ``record[fname]`` would change it (plain fields only)."""
    field = record._fields.get(fname)
    if field is None or field.type in ('one2many', 'many2many'):
        return True
    current = record[fname]
    if field.type == 'many2one':
        current = current.id
    return current != value
