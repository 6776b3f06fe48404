"""QBO Customers and Vendors <-> Odoo contacts, both ways.

One Odoo contact can be a QuickBooks customer and a QuickBooks vendor: two mappings, one in
``qbo.customer`` and one in ``qbo.vendor``, each unique on its side. Both share this file's
mixin, which declares for the pull (``qbo.mapped.mixin``) and the push (``qbo.push.mixin``)
only what differs for contacts; the two models add what only a customer (sub-customers, tax
exemption) or only a vendor (1099, tax identifier) has.
"""

import logging

from odoo import api, fields, models
from odoo.tools import html2plaintext, plaintext2html

from ..qbo import matcher, partners
from ..qbo.errors import QBOError
from . import qbo_mapped_mixin, qbo_push  # noqa: F401 - the mixins' models are defined first
from .qbo_mapped_mixin import SYNC_CONTEXT
from .qbo_sync_run import plain_words

_logger = logging.getLogger(__name__)

# What a contact takes from QuickBooks (the followed values) and the Odoo field it goes to;
# the others (state, country, term, notes, delivery address, parent, exemption) are looked up.
PLAIN_FIELDS = {'name': 'name', 'email': 'email', 'phone': 'phone', 'mobile': 'mobile', 'website': 'website',
                'street': 'street', 'street2': 'street2', 'city': 'city', 'zip': 'zip',
                'is_company': 'is_company'}
ADDRESS_KEYS = ('street', 'street2', 'city', 'state_code', 'zip', 'country')
# Odoo contact fields whose change is sent to QuickBooks.
WATCHED_FIELDS = frozenset(PLAIN_FIELDS.values()) | {
    'state_id', 'country_id', 'comment', 'active', 'parent_id', 'type', 'vat',
    'property_payment_term_id', 'property_supplier_payment_term_id',
}
# The Odoo fields that carry each value a contact sends (the keys of a mapping's odoo_snapshot).
SNAPSHOT_FIELDS = {
    'name': {'name'}, 'email': {'email'}, 'phone': {'phone'}, 'mobile': {'mobile'}, 'website': {'website'},
    'notes': {'comment'}, 'active': {'active'},
    'bill_address': {'street', 'street2', 'city', 'zip', 'state_id', 'country_id', 'child_ids'},
    'ship_address': {'child_ids'},
}
# Contact fields whose value is per company: a change made in one company is sent by its connection only.
COMPANY_FIELDS = frozenset({'property_payment_term_id', 'property_supplier_payment_term_id'})
# QuickBooks' countries are free text: the usual ways of writing the United States, as a code.
COUNTRY_ALIASES = {'usa': 'US', 'united states': 'US', 'united states of america': 'US', 'us': 'US'}


class QBOPartnerMixin(models.AbstractModel):
    """What QuickBooks customers and vendors share: a contact in Odoo, synced both ways."""

    _name = 'qbo.partner.mixin'
    _inherit = ['qbo.mapped.mixin', 'qbo.push.mixin']
    _description = 'QuickBooks customer or vendor'

    _qbo_odoo_field = 'partner_id'
    _qbo_direction_field = 'partner_direction'
    _qbo_bulk_insert = True     # thousands of contacts: one INSERT a page
    # Contacts are the invoicing users' records (Odoo lets them create and edit contacts).
    _qbo_odoo_rights_group = 'account.group_account_invoice'
    _qbo_key_is = 'email'
    _qbo_rank = None            # the Odoo rank that makes a contact one of these: customer_rank …
    _qbo_term_field = None      # the contact's payment terms for this side
    _qbo_default_term = None    # the connection's default payment terms for this side

    partner_id = fields.Many2one('res.partner', string='Odoo Contact', index=True, ondelete='set null',
                                 check_company=True)
    company_name = fields.Char(readonly=True)
    email = fields.Char('E-mail', readonly=True)
    phone = fields.Char(readonly=True)
    balance = fields.Float('Balance in QuickBooks', readonly=True, digits='Account',
                           help='What QuickBooks says is open on this record, in its currency.')
    currency_code = fields.Char('Currency', readonly=True)
    # Three-way: QuickBooks' values are on the mapping (qbo_followed), Odoo's as last synced here, so a
    # push sends only what changed in Odoo, never a value Odoo does not keep or has left alone.
    odoo_snapshot = fields.Json(
        'Odoo Values Last Synced', readonly=True, copy=False,
        help="The contact's values when it was last sent to QuickBooks (or linked): only what changed "
             'in Odoo since is sent.')

    # === ACTIONS === #

    def action_link(self):
        """Link by hand, and keep what the contact says now: only what changes in Odoo from then on goes."""
        res = super().action_link()
        for connection, mappings in self.filtered(
                lambda m: m.partner_id and not m.odoo_snapshot).grouped('connection_id').items():
            model = self.sudo().with_company(connection.company_id)
            state = model._qbo_prepare(model._qbo_new_state(connection.sudo(), None, None, {}))
            for mapping in mappings.sudo():
                mapping.with_context(**SYNC_CONTEXT).write(
                    {'odoo_snapshot': model._qbo_snapshot(mapping.partner_id, state)})
        return res

    # === PULL: QuickBooks -> Odoo === #

    @api.model
    def _qbo_accepts(self, obj):
        return isinstance(obj, dict)

    @api.model
    def _qbo_prepare(self, state):
        super()._qbo_prepare(state)
        connection = state['connection']
        terms = self.env['qbo.term'].search_read(
            self.env['qbo.term']._qbo_domain(connection) + [('payment_term_id', '!=', False)],
            ['qbo_id', 'payment_term_id'], load=None)
        state['term_of'] = {row['qbo_id']: row['payment_term_id'] for row in terms}
        state['qbo_term_of'] = {row['payment_term_id']: row['qbo_id'] for row in terms}
        countries = self.env['res.country'].search_read([('code', '!=', False)], ['code', 'name'], load=None)
        state['country_of'] = {}
        for row in countries:
            state['country_of'][row['code'].lower()] = row['id']
            state['country_of'][row['name'].lower()] = row['id']
        state['country_code_of'] = {row['id']: row['code'] for row in countries}
        state['state_of'] = {(row['country_id'], row['code'].upper()): row['id'] for row in
                             self.env['res.country.state'].search_read([], ['code', 'country_id'], load=None)}
        state['home_country'] = state['company'].country_id.id
        state['vendor_suffix'] = (connection.vendor_suffix or '').strip()
        state['partners_shared'] = connection._qbo_partners_shared()
        state['home_country_code'] = state['company'].country_id.code
        # Names the user chose for contacts QuickBooks refused (name clashes resolved).
        clashes = self.env['qbo.name.clash'].sudo().search_read([
            ('connection_id', '=', connection.id), ('realm_id', '=', connection.realm_id),
            ('entity', '=', self._qbo_entity), ('state', '=', 'resolved'), ('send_as', '!=', False)],
            ['partner_id', 'send_as'], load=None)
        state['send_as'] = {row['partner_id']: row['send_as'] for row in clashes}
        return state

    @api.model
    def _qbo_map(self, obj, state):
        return partners.map_customer(obj) if self._qbo_entity == 'Customer' else partners.map_vendor(obj)

    @api.model
    def _qbo_mapping_values(self, values, state):
        vals = super()._qbo_mapping_values(values, state)
        vals.update({
            'company_name': values.get('company_name') or False,
            'email': values.get('email') or False,
            'phone': values.get('phone') or False,
            'balance': values.get('balance') or 0.0,
            'currency_code': values.get('currency') or False,
            'last_direction': 'qbo2odoo',
        })
        return vals

    @api.model
    def _qbo_kind_label(self):
        """Return what one record of this side is, in the user's language ('customer', 'vendor')."""
        raise NotImplementedError

    @api.model
    def _qbo_plain_name(self, name, state):
        """Return a QuickBooks name as the Odoo contact's name (without the vendor suffix we add)."""
        return name

    @api.model
    def _qbo_remote(self, values, state):
        names = [self._qbo_plain_name(values['name'], state)]
        if values.get('is_company') and not values.get('parent_qbo_id'):
            # A company is known by its company name too; a person is not (John Smith of Acme is not
            # Acme), nor a job (it carries its parent's company name).
            names.append(values.get('company_name'))
        return {'ref': values['qbo_id'], 'key': (values.get('email') or '').strip().lower() or None,
                'kind': None, 'names': matcher.name_keys(*names)}

    @api.model
    def _qbo_odoo_candidates(self, state):
        """Every contact of the company that may be a customer or vendor (not an address, user, company)."""
        company = state['company']
        internal = self.env['res.users'].with_context(active_test=False).search(
            [('share', '=', False)]).partner_id
        companies = self.env['res.company'].sudo().search([('partner_id', '!=', False)])
        excluded = set(internal.ids) | set(companies.partner_id.ids)
        excluded.add(self.env.ref('base.public_partner').id)
        contacts = self.env['res.partner'].search_fetch(
            [('company_id', 'in', [False, company.id]), ('type', '=', 'contact')],
            ['name', 'email', 'parent_id', 'commercial_partner_id', 'display_name'])
        contacts = contacts.filtered(lambda p: p.id not in excluded)
        # A company and the people in it often share an address: the e-mail then names the company.
        by_email = {}
        for contact in contacts:
            if contact.email:
                by_email.setdefault(contact.email.strip().lower(), []).append(contact)
        keys = {}
        for email, holders in by_email.items():
            tops = [c for c in holders if not c.parent_id]
            if len(holders) > 1 and len(tops) == 1 \
                    and all(c.commercial_partner_id == tops[0] for c in holders):
                keys[tops[0].id] = email
            else:
                keys.update((c.id, email) for c in holders)
        return [{'ref': c.id, 'key': keys.get(c.id), 'kind': None, 'names': matcher.name_keys(c.name),
                 'label': c.display_name} for c in contacts]

    @api.model
    def _qbo_followed_values(self, values, state):
        bill = values.get('bill_address') or {}
        ship = values.get('ship_address')
        followed = {
            'name': values['name'],
            'email': values.get('email') or False,
            'phone': values.get('phone') or False,
            'mobile': values.get('mobile') or False,
            'website': values.get('website') or False,
            'is_company': bool(values.get('is_company')),
            'notes': values.get('notes') or False,
            'term': values.get('term_qbo_id') or False,
            'active': values['active'],
            # A delivery address of its own only where QuickBooks ships elsewhere than it bills.
            'delivery': dict(ship) if ship and ship != values.get('bill_address') else False,
        }
        followed.update({key: bill.get(key) or False for key in ADDRESS_KEYS})
        return followed

    @api.model
    def _qbo_country(self, country, state):
        """Return the Odoo country of QuickBooks' free-text country (a code or a name), or the company's."""
        if not country:
            return state['home_country'] or False
        text = ' '.join(str(country).split()).lower()
        return state['country_of'].get(COUNTRY_ALIASES.get(text, text).lower()) or False

    @api.model
    def _qbo_address_values(self, address, state):
        """Return Odoo address fields for a mapper's address dict (state looked up by its code)."""
        vals = {key: address.get(key) or False for key in ('street', 'street2', 'city', 'zip')}
        country = self._qbo_country(address.get('country'), state)
        vals['country_id'] = country
        code = (address.get('state_code') or '').strip().upper()
        vals['state_id'] = state['state_of'].get((country, code), False) if code else False
        return vals

    @api.model
    def _qbo_partner_values(self, followed, state, partner=None):
        """Return the Odoo contact values for (some of) the followed values (``partner``: the one updated)."""
        vals = {}
        for key, fname in PLAIN_FIELDS.items():
            if key in followed:
                vals[fname] = followed[key]
        if 'name' in vals:
            vals['name'] = self._qbo_plain_name(vals['name'], state)
        if {'country', 'state_code'} & set(followed):
            whole = dict(partner and {
                'country': state['country_code_of'].get(partner.country_id.id),
                'state_code': partner.state_id.code} or {})
            whole.update({key: followed[key] for key in ('country', 'state_code') if key in followed})
            address = self._qbo_address_values(whole, state)
            vals.update(country_id=address['country_id'], state_id=address['state_id'])
        if 'notes' in followed:
            vals['comment'] = plaintext2html(followed['notes']) if followed['notes'] else False
        if 'term' in followed and followed['term']:
            term = state['term_of'].get(followed['term'])
            if term:
                vals[self._qbo_term_field] = term
        invoice = partner and partner.child_ids.filtered(lambda c: c.type == 'invoice' and c.active)[:1]
        if invoice:
            # The contact bills at its invoice address: QuickBooks' billing address is that one.
            moved = {fname: vals.pop(fname) for fname in ('street', 'street2', 'city', 'zip', 'country_id',
                                                         'state_id') if fname in vals}
            if moved:
                vals['child_ids'] = [(1, invoice.id, moved)]
        if followed.get('delivery'):
            address = dict(self._qbo_address_values(followed['delivery'], state), type='delivery',
                           company_id=state['company'].id)
            current = partner.child_ids.filtered(lambda c: c.type == 'delivery')[:1] if partner else None
            command = (1, current.id, address) if current else (0, 0, address)
            vals['child_ids'] = vals.get('child_ids', []) + [command]
        return vals

    @api.model
    def _qbo_odoo_create_values(self, values, state):
        connection = state['connection']
        vals = self._qbo_partner_values(self._qbo_followed_values(values, state), state)
        vals.update({'company_id': state['company'].id, 'active': values['active'], self._qbo_rank: 1})
        # The Defaults tab's terms and accounts for contacts QuickBooks brings in.
        if not vals.get(self._qbo_term_field) and connection[self._qbo_default_term]:
            vals[self._qbo_term_field] = connection[self._qbo_default_term].id
        if connection.receivable_account_id:
            vals['property_account_receivable_id'] = connection.receivable_account_id.id
        if connection.payable_account_id:
            vals['property_account_payable_id'] = connection.payable_account_id.id
        return vals

    @api.model
    def _qbo_odoo_update_values(self, mapping, changed, values, state):
        return self._qbo_partner_values(changed, state, partner=mapping.partner_id)

    @api.model
    def _qbo_odoo_owned(self, record, state):
        if record.company_id:
            return record.company_id == state['company']
        return not state['partners_shared']

    @api.model
    def _qbo_odoo_set_active(self, records, active):
        """Archive a contact only when none of its QuickBooks records (customer or vendor) is active."""
        if not active:
            still = self.env['res.partner']
            for name in ('qbo.customer', 'qbo.vendor'):
                still |= self.env[name].search(
                    [('partner_id', 'in', records.ids), ('active', '=', True)]).partner_id
            records -= still
        return super()._qbo_odoo_set_active(records, active)

    @api.model
    def _qbo_update(self, mapping, values, state):
        if values['deleted']:
            # QuickBooks never deletes a customer or vendor, it merges them: the Odoo contact stays,
            # and the user decides (a merge reported by a webhook re-points the mapping instead).
            if mapping.active and mapping.match_state != 'conflict':
                mapping.with_context(**SYNC_CONTEXT).write({
                    'match_state': 'conflict', 'last_synced_at': fields.Datetime.now(),
                    'match_note': self.env._(
                        'No longer in QuickBooks (merged there into another %s): the Odoo contact is kept; '
                        'link it to the record it was merged into, or archive it.',
                        self._qbo_kind_label())})
            return None
        partner = mapping.partner_id
        before = self._qbo_snapshot(partner, state) if partner else None
        keeps = self._qbo_odoo_keeps(mapping, values, state)
        match_state = mapping.match_state
        state['odoo_keeps'] = keeps or set()
        try:
            res = super()._qbo_update(mapping, values, state)
        finally:
            state.pop('odoo_keeps', None)
        if keeps:
            # Odoo's changed fields won (logged with QuickBooks' values); QuickBooks' other changes came
            # in; the push sends Odoo's over QuickBooks'.
            mapping.with_context(**SYNC_CONTEXT).write({
                'match_state': match_state, 'need_push': True,
                'match_note': self.env._("Changed on both sides: Odoo's changes win (Defaults tab); "
                                         "QuickBooks' values are in the run's log.")})
        if partner and mapping.odoo_snapshot:
            # What the pull wrote is now what Odoo says too: only Odoo's own changes are sent later.
            after = self._qbo_snapshot(partner, state)
            moved = {key: value for key, value in after.items() if before.get(key) != value}
            if moved:
                snapshot = dict(mapping.odoo_snapshot, **moved)
                mapping.with_context(**SYNC_CONTEXT).write({'odoo_snapshot': snapshot})
        return res

    @api.model
    def _qbo_odoo_keeps(self, mapping, values, state):
        """Return the Odoo fields whose change wins over QuickBooks' (the Defaults tab's policy), or None.

        Decided field by field: only what changed in Odoo since the last sync is kept; QuickBooks'
        changes to the rest come in as usual.
        """
        if not (mapping.odoo_snapshot and self._qbo_odoo_side_wins(mapping, values, state)):
            return None
        now = self._qbo_snapshot(mapping.partner_id, state)
        keeps = set()
        for key, value in now.items():
            if mapping.odoo_snapshot.get(key) != value:
                keeps |= {self._qbo_term_field} if key == 'term_qbo_id' else SNAPSHOT_FIELDS.get(key, set())
        return keeps or None

    @api.model
    def _qbo_hold_changes(self, record, odoo_vals, values, state):
        """What Odoo changed too, and wins, is not taken from QuickBooks (logged as not applied)."""
        held = super()._qbo_hold_changes(record, odoo_vals, values, state)
        reason = self.env._('Not applied: changed in Odoo too, and Odoo wins (Defaults tab).')
        held.update({fname: reason for fname in odoo_vals if fname in state.get('odoo_keeps', ())})
        return held

    @api.model
    def _qbo_apply_merges(self, connection, run, merges):
        """Follow merges QuickBooks reported: [(deleted Id, surviving Id)].

        The mapping of the record merged away is re-pointed at the survivor when the survivor
        has no Odoo contact yet; when both have one, the Odoo contact of the record merged away
        is flagged as a duplicate of the survivor's (never deleted) for the user to merge in Odoo.
        """
        Mapping = self.sudo().with_context(active_test=False)
        ids = [qbo_id for pair in merges for qbo_id in pair]
        known = {m.qbo_id: m for m in Mapping.search(self._qbo_domain(connection) + [('qbo_id', 'in', ids)])}
        for deleted_id, surviving_id in merges:
            gone, kept = known.get(deleted_id), known.get(surviving_id)
            if not gone or gone == kept:
                continue
            if not kept:
                # The survivor was never in Odoo: the contact simply follows it (read with the next pull).
                # Every value of the survivor is new to the contact: the next pull writes them all.
                gone.with_context(**SYNC_CONTEXT).write({
                    'qbo_id': surviving_id, 'sync_token': False, 'qbo_followed': {'merged_from': deleted_id},
                    'match_note': self.env._('Merged in QuickBooks into ID %s; follows it now',
                                             surviving_id)})
                known[surviving_id] = gone
                continue
            duplicate, survivor = gone.partner_id, kept.partner_id
            # The record merged away keeps its contact (archived, in conflict: never sent again, so the
            # contact is not sent as a new one either), unless the survivor takes it over.
            gone_vals = {'active': False, 'match_state': 'conflict', 'need_push': False,
                         'match_note': self.env._('Merged in QuickBooks into %s', kept.name)}
            if duplicate and not survivor:
                gone_vals['partner_id'] = False
            gone.with_context(**SYNC_CONTEXT).write(gone_vals)
            if duplicate and not survivor:
                kept.with_context(**SYNC_CONTEXT).write({'partner_id': duplicate.id, 'match_state': 'matched',
                                                         'odoo_snapshot': gone.odoo_snapshot})
            if duplicate and survivor and duplicate != survivor:
                duplicate.with_context(**SYNC_CONTEXT).write({'qbo_duplicate_of_id': survivor.id})
                duplicate.message_post(body=self.env._(
                    'QuickBooks merged %(gone)s into %(kept)s: this contact is a duplicate of %(odoo)s. '
                    'Merge the two contacts in Odoo, or archive this one; nothing was deleted.',
                    gone=gone.name, kept=kept.name, odoo=survivor.display_name))
            if run:
                run._count(self._qbo_entity, label=self._qbo_label, updated=1)

    # === PUSH: Odoo -> QuickBooks === #

    @api.model
    def _qbo_push_scope_sql(self, connection):
        """Return the SQL condition (on contact ``p``) for contacts this side sends unasked."""
        own = {'Customer': ('customer', 'both'), 'Vendor': ('vendor', 'both')}[self._qbo_entity]
        ranked = 'p.%s > 0' % self._qbo_rank
        if connection.partner_scope == 'all' and self._qbo_entity == 'Customer':
            # Every contact is a customer, except one that is only a vendor (bought from, never sold to).
            ranked = '(p.customer_rank > 0 OR COALESCE(p.supplier_rank, 0) = 0)'
        return f"(p.qbo_sync IN %s OR (COALESCE(p.qbo_sync, 'auto') = 'auto' AND {ranked}))", [own]

    @api.model
    def _qbo_push_work(self, state):
        connection = state['connection']
        company = state['company']
        self._qbo_link_requested(state)
        # A record waiting for the user (merged away in QuickBooks, say) is not sent meanwhile.
        changed = self.with_context(active_test=False).search(
            self._qbo_domain(connection) + [('need_push', '=', True), ('partner_id', '!=', False),
                                            ('match_state', '!=', 'conflict')])
        for model in ('res.partner', 'res.users', self._name, 'qbo.name.clash'):
            self.env[model].flush_model()
        scope, params = self._qbo_push_scope_sql(connection)
        # New: top-level contacts of this company or none that this side sends, with no record
        # here, not a user of Odoo or a company, and no name clash waiting for the user.
        self.env.cr.execute("""
            SELECT p.id FROM res_partner p
             WHERE p.active AND p.parent_id IS NULL AND p.type = 'contact'
               AND (p.company_id IS NULL OR p.company_id = %s)
               AND """ + scope + """
               AND NOT EXISTS (SELECT 1 FROM res_users u WHERE u.partner_id = p.id AND u.share IS NOT TRUE)
               AND p.id != %s AND p.qbo_duplicate_of_id IS NULL
               AND NOT EXISTS (SELECT 1 FROM res_company c WHERE c.partner_id = p.id)
               -- NOT IN a list: hashed once, whatever the planner thinks of a table just bulk-filled
               -- (a correlated NOT EXISTS ran as a loop over every mapping: seconds on 10,000 contacts).
               AND p.id NOT IN (SELECT m.partner_id FROM """ + self._table + """ m
                                 WHERE m.partner_id IS NOT NULL AND m.connection_id = %s AND m.realm_id = %s)
               AND p.id NOT IN (SELECT k.partner_id FROM qbo_name_clash k
                                 WHERE k.state = 'open' AND k.connection_id = %s AND k.entity = %s)
             ORDER BY p.id""", [company.id, *params, self.env.ref('base.public_partner').id, connection.id,
                                connection.realm_id, connection.id, self._qbo_entity])
        new_ids = [row[0] for row in self.env.cr.fetchall()]
        if new_ids and connection._qbo_partners_shared():
            # Contacts shared by companies go only with the connection of their own company.
            new_ids = self.env['res.partner'].browse(new_ids).filtered('company_id').ids
        work = [(mapping.partner_id, mapping) for mapping in changed]
        new = self.env['res.partner'].browse(new_ids)
        work += [(partner, self.browse()) for partner in self._qbo_push_not_waiting(new, state)]
        return work

    @api.model
    def _qbo_push_not_waiting(self, contacts, state):
        """Return the new contacts that are not waiting for the user on a QuickBooks record.

        A QuickBooks record waiting for review with the contact's e-mail or name may be that
        contact: the user links it (or creates it in Odoo), or sends the contact on purpose; the
        push never decides that by itself.
        """
        if not contacts:
            return contacts
        waiting = self.search(self._qbo_domain(state['connection']) + [('partner_id', '=', False)])
        emails = {m.email.strip().lower() for m in waiting if m.email}
        names = {key for m in waiting for key in matcher.name_keys(self._qbo_plain_name(m.name, state))}
        # A contact the user sends on purpose (Send to QuickBooks, or marked on its form) goes all the same.
        return contacts.filtered(lambda p: p.qbo_sync != 'auto' or (
            not (p.email and p.email.strip().lower() in emails)
            and not names.intersection(matcher.name_keys(p.name))))

    @api.model
    def _qbo_address_of(self, partner, state):
        """Return a contact's address as the mappers hold it (None when it has none)."""
        address = {'street': partner.street, 'street2': partner.street2, 'city': partner.city,
                   'state_code': partner.state_id.code, 'zip': partner.zip,
                   'country': partner.country_id.code}
        address = {key: value for key, value in address.items() if value}
        return address if set(address) - {'country'} else None

    @api.model
    def _qbo_snapshot(self, partner, state):
        """Return what the contact says to QuickBooks, as plain JSON: compared with the next push's."""
        partner = partner.with_company(state['company'])
        invoice = partner.child_ids.filtered(lambda c: c.type == 'invoice' and c.active)[:1]
        delivery = partner.child_ids.filtered(lambda c: c.type == 'delivery' and c.active)[:1]
        term = partner[self._qbo_term_field]
        return {
            'name': partner.name or '',
            'email': partner.email or False,
            'phone': partner.phone or False,
            'mobile': partner.mobile or False,
            'website': partner.website or False,
            'notes': (html2plaintext(partner.comment).strip() or False) if partner.comment else False,
            'bill_address': self._qbo_address_of(invoice or partner, state),
            'ship_address': self._qbo_address_of(delivery, state) if delivery else None,
            'term_qbo_id': state['qbo_term_of'].get(term.id) if term else None,
            'active': partner.active,
        }

    @api.model
    def _qbo_push_values(self, partner, mapping, state):
        """Return the plain values partners.party_to_qbo needs for ``partner``.

        A new record gets all of them. An update gets only what changed in Odoo since the contact
        was last synced: QuickBooks keeps what Odoo has no say in (a contact person's name, a
        1099 flag) and what only QuickBooks changed.
        """
        now = self._qbo_snapshot(partner, state)
        state.setdefault('snapshots', {})[partner.id] = now
        if not mapping:
            if partner.is_company:
                company_name, given, family = partner.name, False, False
            else:
                company_name = partner.parent_id.commercial_partner_id.name if partner.parent_id else False
                parts = (partner.name or '').split()
                given, family = (' '.join(parts[:-1]), parts[-1]) if len(parts) > 1 else (partner.name, False)
            return dict(now, display_name=self._qbo_push_name(partner, mapping, state),
                        company_name=company_name or False, given_name=given or False,
                        family_name=family or False)
        before = mapping.odoo_snapshot
        if not before:
            # Linked without a record of what Odoo said: Odoo's values go, but nothing is cleared.
            values = {key: value for key, value in now.items() if value and key != 'name'}
        else:
            values = {key: value for key, value in now.items() if key != 'name' and before.get(key) != value}
        if before and before.get('name') != now['name']:
            values['display_name'] = self._qbo_push_name(partner, mapping, state)
        return values

    @api.model
    def _qbo_push_name(self, partner, mapping, state):
        """Return the name a contact goes under: as the user resolved a clash, or its own.

        Renamed in Odoo, it keeps the differentiator it was sent under ("(Vendor)", "(C-77)").
        """
        if not mapping:
            return state['send_as'].get(partner.id) or self._qbo_own_name(partner, state)
        before = partners.clean_display_name((mapping.odoo_snapshot or {}).get('name'))
        sent = mapping.name or ''
        suffix = sent[len(before):] if before and sent.startswith(before) else ''
        if not (suffix.startswith(' (') and suffix.endswith(')')):
            suffix = ''   # only a differentiator it was sent under goes along, never a part of a name
        return partners.clean_display_name(partner.name) + suffix

    @api.model
    def _qbo_own_name(self, partner, state):
        return partner.name

    @api.model
    def _qbo_push_data(self, partner, mapping, state):
        if not (partner.name or '').strip():
            raise QBOError(self.env._('It has no name, and QuickBooks needs one.'))
        values = self._qbo_push_values(partner, mapping, state)
        if mapping and not values:
            # Marked, but nothing QuickBooks keeps changed (a field Odoo alone has): nothing to send.
            mapping.with_context(qbo_sync=True).write({'need_push': False})
            return None
        current = {'Id': mapping.qbo_id, 'SyncToken': mapping.sync_token} if mapping else None
        return partners.party_to_qbo(values, self._qbo_entity, current)

    @api.model
    def _qbo_push_bind(self, record, mapping, obj, item, state):
        """Bind as the engine does, and keep what Odoo said: the next push sends only what changes."""
        bound = super()._qbo_push_bind(record, mapping, obj, item, state)
        snapshot = item.get('snapshot') or state.get('snapshots', {}).get(record.id) \
            or self._qbo_snapshot(record, state)
        bound.with_context(**SYNC_CONTEXT).write({'odoo_snapshot': snapshot})
        return bound

    @api.model
    def _qbo_store_mappings(self, vals_list, state):
        """Mappings made by the pull keep what their contact says now, in the same INSERT."""
        ids = [vals['partner_id'] for vals in vals_list if vals.get('partner_id')]
        contacts = self.env['res.partner'].with_context(active_test=False).browse(ids)
        snapshots = {contact.id: self._qbo_snapshot(contact, state) for contact in contacts}
        for vals in vals_list:
            if vals.get('partner_id'):
                vals['odoo_snapshot'] = snapshots[vals['partner_id']]
        return super()._qbo_store_mappings(vals_list, state)

    @api.model
    def _qbo_link_requested(self, state):
        """Link the contacts whose name clash the user resolved with Link (under the sync's lock)."""
        connection = state['connection']
        clashes = self.env['qbo.name.clash'].sudo().search([
            ('connection_id', '=', connection.id), ('realm_id', '=', connection.realm_id),
            ('entity', '=', self._qbo_entity), ('state', '=', 'open'), ('link_requested', '=', True)])
        if not clashes:
            return
        objects = self._qbo_query_ids(state['client'], clashes.mapped('holder_qbo_id'))
        found = {str(obj.get('Id')): obj for obj in objects if isinstance(obj, dict)}
        linked = {m.partner_id.id for m in self.search(self._qbo_domain(connection)
                                                       + [('partner_id', 'in', clashes.partner_id.ids)])}
        for clash in clashes:
            obj = found.get(clash.holder_qbo_id)
            taken = self._qbo_push_known(clash.holder_qbo_id, state)
            if clash.partner_id.id in linked or (taken and taken.partner_id == clash.partner_id):
                clash.write({'state': 'resolved', 'link_requested': False, 'message': False})
                continue
            if not obj or (taken and taken.partner_id):
                clash.write({
                    'link_requested': False, 'holder_partner_id': taken.partner_id.id if taken else False,
                    'message': self.env._(
                        'Not linked: QuickBooks no longer has %(name)s, or another Odoo contact is linked '
                        'to it now. Send this contact under another name.', name=clash.holder_name)})
                continue
            try:
                with self.env.cr.savepoint():
                    mapping = self._qbo_push_bind(clash.partner_id, self.browse(), obj, {}, state)
                    mapping.with_context(qbo_sync=True).write({
                        'match_state': 'matched',
                        'match_note': self.env._('Linked to the record holding its name')})
                    clash.write({'state': 'resolved', 'link_requested': False, 'message': False})
            except Exception as error:  # noqa: BLE001 - one clash fails alone, in words; the push goes on
                clash.write({'link_requested': False, 'message': plain_words(self.env, error)})

    @api.model
    def _qbo_name_holders(self, name, state):
        """Return [(entity, QBO object)] of the customers, vendors and employees named ``name``."""
        quoted = name.replace('\\', '\\\\').replace("'", "\\'")
        found = []
        for entity in ('Customer', 'Vendor', 'Employee'):
            objects = state['client'].query(
                "SELECT * FROM %s WHERE DisplayName = '%s' AND Active IN (true, false)" % (entity, quoted))
            found += [(entity, obj) for obj in objects.get(entity) or [] if isinstance(obj, dict)]
        return found

    @api.model
    def _qbo_push_clash(self, partner, item, error, state):
        """QuickBooks already uses this name (a customer, a vendor or an employee): as the Defaults tab says.

        Link to a record of the same kind that no other contact has; or send with a differentiator;
        otherwise the clash waits for the user, with the record that holds the name (Resolve).
        """
        connection = state['connection']
        name = item['data']['DisplayName']
        holders = self._qbo_name_holders(name, state)
        same = [obj for entity, obj in holders if entity == self._qbo_entity and obj.get('Id')]
        # Only an active record is linked by itself: an inactive one may be a past namesake.
        same = [obj for obj in same if obj.get('Active', True) is not False]
        if connection.name_clash == 'link' and same:
            taken = self._qbo_push_known(str(same[0]['Id']), state)
            if not (taken and taken.partner_id):
                with self.env.cr.savepoint():
                    # QuickBooks' record keeps its values; what changes in Odoo from now on goes to it.
                    linked = self._qbo_push_bind(partner, self.browse(), same[0], item, state)
                    linked.with_context(qbo_sync=True).write({
                        'match_state': 'matched',
                        'match_note': self.env._(
                            'Linked to the QuickBooks %s of the same name (Defaults tab)',
                            self._qbo_kind_label())})
                return None
        if connection.name_clash == 'suffix':
            return dict(item['data'], DisplayName=self._qbo_differentiated(partner, name, state))
        self.env['qbo.name.clash'].sudo()._qbo_open(connection, partner, self._qbo_entity, name, holders)
        return None

    @api.model
    def _qbo_differentiated(self, partner, name, state):
        """Return ``name`` made unique by the contact's reference (or its number in Odoo)."""
        return partners.unique_display_name(name, '(%s)' % (partner.ref or partner.id))


class QBOCustomer(models.Model):
    """A QuickBooks customer or sub-customer: an Odoo contact (under its parent's when billed with it)."""

    _name = 'qbo.customer'
    _inherit = 'qbo.partner.mixin'
    _description = 'QuickBooks customer'

    _qbo_entity = 'Customer'
    _qbo_label = 'Customers'
    _qbo_push_label = 'Customers sent to QuickBooks'
    _qbo_sync_sequence = 150
    _qbo_rank = 'customer_rank'
    _qbo_term_field = 'property_payment_term_id'
    _qbo_default_term = 'customer_term_id'

    parent_id = fields.Many2one('qbo.customer', string='Parent Customer', readonly=True, ondelete='set null')
    bill_with_parent = fields.Boolean('Billed with Parent', readonly=True)
    taxable = fields.Boolean(readonly=True)
    tax_exemption_reason = fields.Char(readonly=True)
    resale_number = fields.Char(readonly=True)

    _sql_constraints = [
        ('partner_unique', 'unique(connection_id, realm_id, partner_id)',
         'This contact is already linked to another QuickBooks customer.'),
    ]

    @api.model
    def _qbo_kind_label(self):
        return self.env._('customer')

    @api.model
    def _qbo_prepare(self, state):
        super()._qbo_prepare(state)
        # An exemption made earlier also covers the sales taxes the company has gained since.
        position = self.env['account.fiscal.position'].with_company(state['company']).search(
            [('company_id', '=', state['company'].id), ('qbo_tax_exempt', '=', True)], limit=1)
        state['exempt_position'] = self._qbo_exempt_position(state, position) if position else position
        return state

    @api.model
    def _qbo_mapping_values(self, values, state):
        vals = super()._qbo_mapping_values(values, state)
        vals.update({'bill_with_parent': values.get('bill_with_parent') or False,
                     'taxable': values.get('taxable', True),
                     'tax_exemption_reason': values.get('tax_exemption_reason') or False,
                     'resale_number': values.get('resale_number') or False})
        return vals

    @api.model
    def _qbo_followed_values(self, values, state):
        followed = super()._qbo_followed_values(values, state)
        followed.update({
            'parent': values.get('parent_qbo_id') or False,
            'bill_with_parent': bool(values.get('bill_with_parent')),
            # Only an exemption QuickBooks states (a reason) makes a customer tax-exempt in Odoo:
            # "not taxable" alone only means no default tax code there.
            'exempt': bool(values.get('tax_exemption_reason')),
        })
        if followed['parent'] and followed['bill_with_parent']:
            # A job billed with its parent is a person-like contact under it, so that its invoices
            # go to the parent's receivable (Odoo's commercial partner).
            followed['is_company'] = False
        return followed

    @api.model
    def _qbo_partner_values(self, followed, state, partner=None):
        vals = super()._qbo_partner_values(followed, state, partner)
        if 'exempt' in followed:
            current = partner.with_company(state['company']).property_account_position_id if partner else None
            if followed['exempt']:
                vals['property_account_position_id'] = self._qbo_exempt_position(state).id
            elif current and current.qbo_tax_exempt:
                vals['property_account_position_id'] = False   # a position the user chose stays
        if ('parent' in followed or 'bill_with_parent' in followed) and partner \
                and self._qbo_mapping_of(partner, state).match_state == 'created':
            # Only a contact QuickBooks brought in moves: a contact the user had is left where it is.
            parent = self._qbo_parent_contact(partner, followed, state)
            if parent is not None and partner.parent_id != parent:
                vals['parent_id'] = parent.id or False
        return vals

    @api.model
    def _qbo_mapping_of(self, partner, state):
        return self.search(self._qbo_domain(state['connection']) + [('partner_id', '=', partner.id)], limit=1)

    @api.model
    def _qbo_parent_contact(self, partner, followed, state):
        """Return the contact a sub-customer billed with its parent belongs under (None: leave it)."""
        domain = self._qbo_domain(state['connection'])
        mapping = self._qbo_mapping_of(partner, state)
        with_parent = followed.get('bill_with_parent', mapping.bill_with_parent)
        parent_qbo_id = followed.get('parent', mapping.parent_qbo_id)
        if not with_parent or not parent_qbo_id:
            # Billed on its own: its own contact, out from under the parent it was billed with.
            return self.env['res.partner'] if partner.parent_id and mapping.match_state == 'created' else None
        parent = self.search(domain + [('qbo_id', '=', parent_qbo_id)], limit=1)
        return parent.partner_id if parent.partner_id and parent.partner_id != partner else None

    @api.model
    def _qbo_link_parents(self, values_list, state):
        """Link parents, then put the contacts of sub-customers billed with their parent under it."""
        res = super()._qbo_link_parents(values_list, state)
        jobs = self.with_context(active_test=False).search(
            self._qbo_domain(state['connection'])
            + [('qbo_id', 'in', [v['qbo_id'] for v in values_list if v.get('parent_qbo_id')]),
               ('match_state', '=', 'created'), ('bill_with_parent', '=', True), ('partner_id', '!=', False),
               ('parent_id.partner_id', '!=', False)])
        for job in jobs:
            parent = job.parent_id.partner_id
            if parent not in (job.partner_id.parent_id, job.partner_id):
                job.partner_id.with_context(**SYNC_CONTEXT).write({'parent_id': parent.id, 'type': 'contact',
                                                                   'is_company': False})
        return res

    @api.model
    def _qbo_exempt_position(self, state, position=None):
        """Return the company's fiscal position for customers QuickBooks says are tax-exempt.

        It removes every sales tax the company uses (its own and its parent company's): made once,
        it is completed with the taxes the company gained since at each sync, so an exempt
        customer's Odoo invoices carry no sales tax, as in QuickBooks.
        """
        if state.get('exempt_position'):
            return state['exempt_position']
        company = state['company']
        Position = self.env['account.fiscal.position'].with_company(company)
        if not position:
            position = Position.create({'name': self.env._('Tax Exempt (QuickBooks)'),
                                        'company_id': company.id, 'qbo_tax_exempt': True,
                                        'auto_apply': False})
        Tax = self.env['account.tax']
        sales_taxes = Tax.search([*Tax._check_company_domain(company), ('type_tax_use', '=', 'sale')])
        missing = sales_taxes - position.tax_ids.tax_src_id
        if missing:
            position.write({'tax_ids': [(0, 0, {'tax_src_id': tax.id, 'tax_dest_id': False})
                                        for tax in missing]})
        state['exempt_position'] = position
        return position

    @api.model
    def _qbo_push_values(self, partner, mapping, state):
        values = super()._qbo_push_values(partner, mapping, state)
        if mapping and mapping.parent_qbo_id and partner.parent_id:
            # A sub-customer billed with its parent takes its parent's address and terms in Odoo (the
            # commercial partner's); QuickBooks keeps the job's own.
            for key in ('bill_address', 'ship_address', 'term_qbo_id'):
                values.pop(key, None)
        return values


class QBOVendor(models.Model):
    """A QuickBooks vendor: an Odoo contact (the one that may also be a customer)."""

    _name = 'qbo.vendor'
    _inherit = 'qbo.partner.mixin'
    _description = 'QuickBooks vendor'

    _qbo_entity = 'Vendor'
    _qbo_label = 'Vendors'
    _qbo_push_label = 'Vendors sent to QuickBooks'
    _qbo_sync_sequence = 160
    _qbo_rank = 'supplier_rank'
    _qbo_term_field = 'property_supplier_payment_term_id'
    _qbo_default_term = 'vendor_term_id'

    vendor_1099 = fields.Boolean('Reports on 1099', readonly=True)
    # Never the identifier itself: QuickBooks shows only its last four characters, and so do we.
    tax_id_masked = fields.Char('Tax ID', readonly=True)
    account_number = fields.Char(readonly=True,
                                 help='The account number the company holds with this vendor.')

    _sql_constraints = [
        ('partner_unique', 'unique(connection_id, realm_id, partner_id)',
         'This contact is already linked to another QuickBooks vendor.'),
    ]

    @api.model
    def _qbo_mapping_values(self, values, state):
        vals = super()._qbo_mapping_values(values, state)
        vals.update({'vendor_1099': values.get('vendor_1099') or False,
                     'tax_id_masked': values.get('tax_id_masked') or False,
                     'account_number': values.get('account_number') or False})
        return vals

    @api.model
    def _qbo_kind_label(self):
        return self.env._('vendor')

    @api.model
    def _qbo_plain_name(self, name, state):
        suffix = state.get('vendor_suffix')
        if suffix and name and name.endswith(' ' + suffix) and len(name) > len(suffix) + 1:
            return name[:-len(suffix) - 1].rstrip()
        return name

    @api.model
    def _qbo_own_name(self, partner, state):
        """A contact that is also a customer goes with the vendor suffix: QuickBooks' names are unique."""
        suffix = state['vendor_suffix']
        if suffix and (partner.customer_rank > 0 or partner.qbo_customer_ids.filtered(
                lambda m: m.connection_id == state['connection'] and m.active)):
            return partners.unique_display_name(partner.name, suffix)
        return partner.name

    @api.model
    def _qbo_differentiated(self, partner, name, state):
        suffix = state['vendor_suffix']
        if suffix and not name.endswith(' ' + suffix):
            return partners.unique_display_name(name, suffix)
        return super()._qbo_differentiated(partner, name, state)

    @api.model
    def _qbo_snapshot(self, partner, state):
        snapshot = super()._qbo_snapshot(partner, state)
        # Only ever masked (what QuickBooks shows): the identifier itself stays on the contact.
        snapshot['tax_id'] = partners.mask_tax_id(self._qbo_tax_id(partner, state)) or False
        return snapshot

    @api.model
    def _qbo_tax_id(self, partner, state):
        """Return the contact's tax ID when it is a US one (QuickBooks' TaxIdentifier is the EIN or SSN)."""
        country = partner.country_id.code or state['home_country_code']
        return ''.join((partner.vat or '').split()) if country == 'US' else ''

    @api.model
    def _qbo_push_values(self, partner, mapping, state):
        values = super()._qbo_push_values(partner, mapping, state)
        # The identifier goes only when new or changed, and never into the snapshot or the log.
        values.pop('tax_id', None)
        before = (mapping.odoo_snapshot or {}).get('tax_id') if mapping else False
        tax_id = self._qbo_tax_id(partner, state)
        if tax_id and partners.mask_tax_id(tax_id) != before:
            values['tax_id'] = tax_id
        return values

    @api.model
    def _qbo_push_scrub(self, data):
        """A vendor's tax ID is not kept in the stored batch once QuickBooks has answered."""
        data.pop('TaxIdentifier', None)
        return data
