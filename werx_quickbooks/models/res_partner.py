"""Contacts know their QuickBooks customer and vendor, and a change made in Odoo is marked for sending."""

from odoo import api, fields, models

from .qbo_partner import COMPANY_FIELDS, WATCHED_FIELDS


def _mark_changed(contacts, changed=None):
    """Mark the QuickBooks customers and vendors of ``contacts`` to be sent with the next sync.

    An address of a contact (its invoice or delivery address) is part of the contact in
    QuickBooks: changing it marks the contact. A value kept per company (payment terms)
    changed for the current company only: only that company's connection sends it.
    """
    if not contacts:
        return
    env = contacts.env
    addresses = contacts.filtered(lambda c: c.parent_id and c.type in ('invoice', 'delivery'))
    owners = contacts | addresses.parent_id
    domain = [('partner_id', 'in', owners.ids)]
    if changed is not None and changed <= COMPANY_FIELDS:
        domain.append(('company_id', '=', env.company.id))
    now = fields.Datetime.now()
    for name in ('qbo.customer', 'qbo.vendor'):
        mappings = env[name].sudo().with_context(active_test=False).search(domain)
        mappings.with_context(qbo_sync=True).write({'need_push': True, 'odoo_changed_at': now})


class ResPartner(models.Model):
    _inherit = 'res.partner'

    qbo_customer_ids = fields.One2many('qbo.customer', 'partner_id', string='QuickBooks Customers',
                                       context={'active_test': False},
                                       groups='werx_quickbooks.group_qbo_user')
    qbo_vendor_ids = fields.One2many('qbo.vendor', 'partner_id', string='QuickBooks Vendors',
                                     context={'active_test': False}, groups='werx_quickbooks.group_qbo_user')
    qbo_sync = fields.Selection(
        [('auto', 'As the Defaults tab says'), ('customer', 'As a customer'), ('vendor', 'As a vendor'),
         ('both', 'As a customer and a vendor'), ('never', 'Never')],
        string='Send to QuickBooks', default='auto', copy=False,
        help='Which QuickBooks records this contact becomes. "As the Defaults tab says": a customer once it '
             'is on a sale or an invoice, a vendor once it is on a bill (or every contact, if the Defaults '
             'tab says so).')
    qbo_duplicate_of_id = fields.Many2one(
        'res.partner', string='Merged in QuickBooks Into', copy=False, readonly=True, index='btree_not_null',
        help='QuickBooks merged this contact\'s record into the one of this contact: merge the two in Odoo, '
             'or archive this one.')

    @api.model_create_multi
    def create(self, vals_list):
        contacts = super().create(vals_list)
        if not self.env.context.get('qbo_sync'):
            # A new invoice or delivery address changes what the contact sends.
            _mark_changed(contacts.filtered(lambda c: c.parent_id and c.type in ('invoice', 'delivery')))
        return contacts

    def write(self, vals):
        # Read before: Odoo's own write takes some keys out of ``vals`` (is_company, for one).
        watched = set(vals) & WATCHED_FIELDS if not self.env.context.get('qbo_sync') else set()
        res = super().write(vals)
        if watched:
            _mark_changed(self.with_context(active_test=False), watched)
        return res

    def action_qbo_send(self):
        """Send this contact with the next sync, also when a change was not marked (a user's say-so)."""
        self.env['qbo.connection']._qbo_check_admin()
        for contact in self.filtered(lambda c: c.qbo_sync in ('auto', 'never')
                                     and not (c.qbo_customer_ids or c.qbo_vendor_ids)):
            # Asked for by hand: it goes as what it is in Odoo (a vendor if it is only bought from,
            # both if it is both, else a customer), also where a QuickBooks record waiting for
            # review looks like it (the user's say-so).
            if contact.customer_rank and contact.supplier_rank:
                contact.qbo_sync = 'both'
            else:
                contact.qbo_sync = 'vendor' if contact.supplier_rank else 'customer'
        _mark_changed(self)
        pushing = [('state', '=', 'connected'), ('partner_direction', 'in', ('both', 'odoo2qbo'))]
        for connection in self.env['qbo.connection'].search(pushing):
            connection.action_sync()
        return True

    def action_qbo_clear_duplicate(self):
        """The user dealt with the duplicate QuickBooks reported: the flag goes."""
        self.env['qbo.connection']._qbo_check_admin()
        self.sudo().write({'qbo_duplicate_of_id': False})
        return True


class AccountFiscalPosition(models.Model):
    _inherit = 'account.fiscal.position'

    qbo_tax_exempt = fields.Boolean(
        'Tax Exempt in QuickBooks', copy=False, readonly=True,
        help='Given to customers QuickBooks says are tax-exempt: it removes the company\'s sales taxes.')
