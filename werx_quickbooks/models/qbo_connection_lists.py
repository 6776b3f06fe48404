"""The lists part of a QuickBooks connection: initial import, incremental sync, progress."""

import logging
from datetime import timedelta

from markupsafe import Markup, escape
from odoo import api, fields, models

from ..qbo import const
from ..qbo.errors import BadReply, CDCTooManyChanges, CDCWindowExceeded

_logger = logging.getLogger(__name__)

# CDC is asked from a little before the saved cursor: the two clocks may differ, and records
# read twice are skipped (same SyncToken), while a record missed would be lost.
CURSOR_MARGIN = timedelta(minutes=5)

# What waits for the user: the same states as the lists' "To Review" filter, so the counts agree.
REVIEW_STATES = ('unmatched', 'conflict', 'error')

LIST_MODELS = ('qbo.account', 'qbo.term', 'qbo.class', 'qbo.location', 'qbo.payment.method',
               'qbo.tax.agency', 'qbo.tax.rate', 'qbo.tax.code')


def _mappings(model, string):
    """Return the One2many from a connection to one list's mappings, archived ones included."""
    return fields.One2many(model, 'connection_id', string=string, context={'active_test': False})


class QBOConnection(models.Model):
    _inherit = 'qbo.connection'  # pylint: disable=consider-merging-classes-inherited

    lists_cursor = fields.Datetime(
        'Lists Synced Up To', copy=False, readonly=True,
        help='QuickBooks changes to the lists up to this time are in Odoo; the next sync asks for '
             'what changed since then.')
    qbo_account_ids = _mappings('qbo.account', 'Accounts')
    qbo_term_ids = _mappings('qbo.term', 'Terms')
    qbo_class_ids = _mappings('qbo.class', 'Classes')
    qbo_location_ids = _mappings('qbo.location', 'Locations')
    qbo_payment_method_ids = _mappings('qbo.payment.method', 'Payment Methods')
    qbo_tax_agency_ids = _mappings('qbo.tax.agency', 'Tax Agencies')
    qbo_tax_rate_ids = _mappings('qbo.tax.rate', 'Tax Rates')
    qbo_tax_code_ids = _mappings('qbo.tax.code', 'Tax Codes')
    lists_to_review_count = fields.Integer('Records to Review', compute='_compute_lists_to_review_count')
    lists_progress = fields.Html('Import Progress', compute='_compute_lists_progress', sanitize=False)

    # === COMPUTES === #

    def _compute_lists_to_review_count(self):
        for connection in self:
            connection.lists_to_review_count = sum(
                self.env[model].search_count(
                    self.env[model]._qbo_domain(connection)
                    + [('match_state', 'in', REVIEW_STATES)])
                for model in self._qbo_list_models())

    @api.model
    def _qbo_mapped_models(self):
        """Return every mapped model (lists, and the catalog and others that extend this)."""
        return self._qbo_list_models()

    @api.depends('last_sync_run_id', 'initial_import_state')
    def _compute_lists_progress(self):
        for connection in self:
            run = self.env['qbo.sync.run'].search(
                [('connection_id', '=', connection.id)], order='id desc', limit=1)
            connection.lists_progress = connection._qbo_progress_html(run)

    def _qbo_progress_html(self, run):
        """Return a small table: per list, done / total of the latest run."""
        if not run:
            return False
        rows = []
        for stat in run.stat_ids:
            if not stat.total and not stat.done and not stat.failed:
                # Nothing changed in this list since the last sync: no bar to fill.
                rows.append(Markup('<tr><td>%s</td><td class="text-end">—</td><td></td>'
                                   '<td class="text-end text-muted">%s</td></tr>') % (
                    escape(stat.label or stat.entity), escape(self.env._('no changes'))))
                continue
            total = stat.total or stat.done
            percent = int(100 * stat.done / total) if total else 100
            rows.append(Markup(
                '<tr><td>%s</td><td class="text-end">%s / %s</td><td style="width:40%%">'
                '<div class="progress" style="height:0.6rem"><div class="progress-bar" role="progressbar" '
                'style="width:%s%%"></div></div></td><td class="text-end text-muted">%s</td></tr>') % (
                escape(stat.label or stat.entity), stat.done, total, percent,
                escape(self.env._('%(c)s created, %(m)s matched, %(u)s to review, %(f)s failed',
                         c=stat.created, m=stat.matched, u=stat.unmatched, f=stat.failed)
                       if stat.created or stat.matched or stat.unmatched or stat.failed or stat.updated
                       or not stat.skipped else self.env._('%s read, none changed', stat.done))))
        state = dict(run._fields['state']._description_selection(self.env)).get(run.state, run.state)
        trigger = dict(run._fields['trigger']._description_selection(self.env)).get(run.trigger, run.trigger)
        head = Markup('<p class="mb-1"><strong>%s</strong> — %s</p>') % (
            escape(self.env._('Latest run (%s)', trigger)), escape(state))
        return head + Markup('<table class="table table-sm mb-0">%s</table>') % Markup('').join(rows)

    # === BUSINESS METHODS === #

    @api.model
    def _qbo_list_models(self):
        """Return the names of the mapped list models, in import order (other lists extend this)."""
        return sorted(LIST_MODELS, key=lambda name: self.env[name]._qbo_sync_sequence)

    def _sync_qbo2odoo(self, run, client):
        """Import the lists (no cursor yet) or bring in what changed since the saved cursor."""
        res = super()._sync_qbo2odoo(run, client)
        self.ensure_one()
        started = fields.Datetime.now()
        cursor = self.lists_cursor
        cache = {}
        full = not cursor or started - cursor > timedelta(days=const.CDC_MAX_DAYS) - CURSOR_MARGIN
        # QuickBooks owns the lists: the sync keeps the chart, taxes and terms in step for the
        # company whoever pressed Sync (a QuickBooks Administrator, checked by the button), so
        # its Odoo writes do not depend on that user's accounting rights.
        company = self.company_id
        models_ = [self.env[name].sudo().with_company(company) for name in self._qbo_list_models()]
        connection = self.sudo().with_company(company)
        changes = {}
        if not full:
            entities = [m._qbo_entity for m in models_ if m._qbo_in_cdc]
            try:
                changes = client.cdc(entities, cursor - CURSOR_MARGIN)
            except CDCWindowExceeded:
                full = True   # older than QBO's change feed: read the lists whole (nothing is duplicated)
            except BadReply as error:
                _logger.warning('QuickBooks: unreadable change feed: %s', error.detail)
                raise BadReply(message=self.env._(
                    'QuickBooks sent a list of changes that could not be read; nothing was lost: the next '
                    'sync asks for the same changes again.'),
                    code=error.code, detail=error.detail, http_status=error.http_status) from None
        for model in models_:
            if full or not model._qbo_in_cdc:
                # TaxCode / TaxRate are not in CDC: read whole (a few records), write what changed.
                model._qbo_import_all(connection, run, client, cache)
            else:
                objects = changes.get(model._qbo_entity) or []
                if len(objects) >= const.CDC_MAX_OBJECTS:
                    # CDC stops at 1000 per entity: more may have changed; read the list whole.
                    model._qbo_import_all(connection, run, client, cache)
                else:
                    model._qbo_import_changes(connection, run, client, objects, cache)
        # Only now is every change up to ``started`` committed: the cursor may move.
        self._qbo_commit()
        self.sudo().write({'lists_cursor': started})
        self._qbo_commit()
        if full:
            self._qbo_notify_import_done(run)
        return res

    def _qbo_group_shared(self, direction_field):
        """True when another company's connection syncs this group too: records of no company are shared."""
        self.ensure_one()
        others = [('id', '!=', self.id), ('state', '=', 'connected'), (direction_field, '!=', 'off')]
        return bool(self.sudo().search_count(others, limit=1))

    def _qbo_sync_both_ways(self, run, client, model_names, direction, cursor_field):
        """Sync one entity group that goes both ways (the catalog, customers and vendors).

        ``direction`` is the group's setting on the Defaults tab; the group's models that push
        (the push engine's) send what changed in Odoo after the pull brought QuickBooks' changes in.
        """
        if direction == 'off':
            return
        company = self.company_id
        connection = self.sudo().with_company(company)
        pushing = [self.env[name].sudo().with_company(company) for name in model_names
                   if hasattr(self.env[name], '_qbo_push_work')]
        # Batches a crash left unanswered are bound first: the pull must not take their records for new.
        for model in pushing:
            model._qbo_push_pending(connection, run, client)
        if direction in ('both', 'qbo2odoo'):
            self._qbo_pull_changes(connection, run, client, model_names, cursor_field)
        if direction in ('both', 'odoo2qbo'):
            for model in pushing:
                model._qbo_push(connection, run, client)

    def _qbo_pull_changes(self, connection, run, client, model_names, cursor_field):
        """Bring in what changed in QuickBooks since the cursor (all of it the first time), for an
        entity group that syncs both ways (the catalog, customers and vendors).

        The change feed names what changed; when it lists more than it can (1,000), only the
        records changed since the cursor are read, with a query on their update time, never the
        whole list. The cursor moves once every page is committed.
        """
        started = fields.Datetime.now()
        cursor = self[cursor_field]
        full = not cursor or started - cursor > timedelta(days=const.CDC_MAX_DAYS) - CURSOR_MARGIN
        models_ = [self.env[name].sudo().with_company(self.company_id) for name in model_names]
        cache = {}
        changes = {}
        since = None
        if not full:
            entities = list(dict.fromkeys(model._qbo_entity for model in models_))
            try:
                changes = client.cdc(entities, cursor - CURSOR_MARGIN)
                overflow = any(len(changes.get(entity) or []) >= const.CDC_MAX_OBJECTS for entity in entities)
            except CDCTooManyChanges:
                overflow = True
            except CDCWindowExceeded:
                full = overflow = True
            if overflow and not full:
                # More changes than the change feed lists (a large batch sent, say): read the records
                # changed since the cursor with a query, page by page, rather than the whole list.
                full, since = True, cursor - CURSOR_MARGIN
        for model in models_:
            if full:
                model._qbo_import_all(connection, run, client, cache, since=since)
            else:
                mine = [obj for obj in changes.get(model._qbo_entity) or [] if model._qbo_accepts(obj)
                        or (isinstance(obj, dict) and obj.get('status') == 'Deleted')]
                model._qbo_import_changes(connection, run, client, mine, cache)
        self._qbo_commit()
        self.sudo().write({cursor_field: started})
        self._qbo_commit()

    def _qbo_notify_import_done(self, run):
        """Tell the connection's followers what the import brought in."""
        lines = Markup('').join(
            Markup('<li>%s: %s</li>') % (escape(stat.label or stat.entity), escape(self.env._(
                '%(t)s read, %(c)s created, %(m)s matched, %(u)s to review, %(f)s failed',
                t=stat.done, c=stat.created, m=stat.matched, u=stat.unmatched, f=stat.failed)))
            for stat in run.stat_ids)
        review = self.lists_to_review_count
        body = Markup('<p>%s</p><ul>%s</ul>') % (self.env._('The QuickBooks lists were imported.'), lines)
        if review:
            body += Markup('<p>%s</p>') % self.env._(
                '%s records need you to link them or create them in Odoo (Accounts and Lists tabs).', review)
        self.message_post(body=body, partner_ids=self._qbo_admin_partners().ids,
                          subject=self.env._('QuickBooks import finished'))

    def _qbo_archive_mappings(self):
        """Archive the list mappings (never the Odoo records) and forget the cursor."""
        res = super()._qbo_archive_mappings()
        for connection in self:
            for name in self._qbo_list_models():
                self.env[name].with_context(active_test=False).search(
                    [('connection_id', '=', connection.id)]).write({'active': False})
        self.sudo().write({'lists_cursor': False})
        return res

    # === ACTIONS === #

    def _qbo_open_list(self, model, name, domain=None):
        self.ensure_one()
        return {
            'type': 'ir.actions.act_window',
            'name': name,
            'res_model': model,
            'view_mode': 'list,form',
            'domain': self.env[model]._qbo_domain(self) + (domain or []),
            'context': {'default_connection_id': self.id, 'search_default_to_review': 1},
        }

    def action_open_lists_to_review(self):
        """Open the accounts waiting for the user (the other lists are on the Lists tab)."""
        return self._qbo_open_list('qbo.account', self.env._('Accounts to review'))
