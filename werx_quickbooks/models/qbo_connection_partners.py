"""The contacts part of a QuickBooks connection: customers and vendors both ways, and their defaults."""

from odoo import api, fields, models

from .qbo_connection_lists import REVIEW_STATES, _mappings

PARTNER_MODELS = ('qbo.customer', 'qbo.vendor')
DIRECTIONS = [('both', 'Both ways'), ('qbo2odoo', 'QuickBooks → Odoo'), ('odoo2qbo', 'Odoo → QuickBooks'),
              ('off', 'Off')]


# One file per entity group (design.md). Customers and vendors sync after the lists and before the
# catalog (qbo_connection_catalog imports this file first): documents will need both.
class QBOConnection(models.Model):
    _inherit = 'qbo.connection'  # pylint: disable=consider-merging-classes-inherited

    # --- Defaults tab --- #
    partner_direction = fields.Selection(
        DIRECTIONS, string='Customers & Vendors', required=True, default='off',
        help='Which way customers and vendors sync. "Import Customers & Vendors" switches it on (both ways).')
    partner_scope = fields.Selection(
        [('ranked', 'Customers and vendors only'), ('all', 'Every company and person')],
        string='Odoo Contacts Sent', required=True, default='ranked',
        help='"Customers and vendors only": contacts on a sale, an invoice or a bill, and those marked on '
             'their form. A contact can always be marked "never" or "as a customer / vendor" on its form.')
    vendor_suffix = fields.Char(
        'Vendor Name Suffix', default='(Vendor)',
        help='QuickBooks names are unique across customers, vendors and employees: an Odoo contact that is '
             'both goes to QuickBooks as a customer under its name and as a vendor with this added.')
    receivable_account_id = fields.Many2one(
        'account.account', check_company=True,
        domain="[('account_type', '=', 'asset_receivable'), ('deprecated', '=', False)]",
        help='Given to contacts created from QuickBooks (Odoo\'s own default otherwise).')
    payable_account_id = fields.Many2one(
        'account.account', check_company=True,
        domain="[('account_type', '=', 'liability_payable'), ('deprecated', '=', False)]",
        help='Given to contacts created from QuickBooks (Odoo\'s own default otherwise).')
    customer_term_id = fields.Many2one(
        'account.payment.term', string='Customer Payment Terms', check_company=True,
        help='For customers created from QuickBooks without terms there.')
    vendor_term_id = fields.Many2one(
        'account.payment.term', string='Vendor Payment Terms', check_company=True,
        help='For vendors created from QuickBooks without terms there.')
    partners_cursor = fields.Datetime(
        'Customers & Vendors Synced Up To', copy=False, readonly=True,
        help='QuickBooks changes to customers and vendors up to this time are in Odoo.')
    qbo_customer_ids = _mappings('qbo.customer', 'Customers')
    qbo_vendor_ids = _mappings('qbo.vendor', 'Vendors')
    qbo_name_clash_ids = fields.One2many('qbo.name.clash', 'connection_id', string='Name Clashes',
                                         domain=[('state', '=', 'open')])
    partners_to_review_count = fields.Integer('Contacts to Review',
                                              compute='_compute_partners_to_review_count')

    def _compute_partners_to_review_count(self):
        for connection in self:
            connection.partners_to_review_count = sum(
                self.env[name].search_count(self.env[name]._qbo_domain(connection)
                                            + [('match_state', 'in', REVIEW_STATES)])
                for name in PARTNER_MODELS) + len(connection.qbo_name_clash_ids)

    # === BUSINESS METHODS === #

    @api.model
    def _qbo_mapped_models(self):
        return super()._qbo_mapped_models() + list(PARTNER_MODELS)

    def _qbo_partners_shared(self):
        """True when another company's connection syncs contacts too: contacts of no company are shared."""
        return self._qbo_group_shared('partner_direction')

    def _sync_qbo2odoo(self, run, client):
        """After the lists: customers and vendors, pulled then pushed, as the Defaults tab says."""
        res = super()._sync_qbo2odoo(run, client)
        self.ensure_one()
        self._qbo_sync_both_ways(run, client, PARTNER_MODELS, self.partner_direction, 'partners_cursor')
        return res

    def _qbo_archive_mappings(self):
        res = super()._qbo_archive_mappings()
        for connection in self:
            for name in PARTNER_MODELS:
                self.env[name].with_context(active_test=False).search(
                    [('connection_id', '=', connection.id)]).write({'active': False})
            self.env['qbo.name.clash'].sudo().search([('connection_id', '=', connection.id)]).unlink()
        self.sudo().write({'partners_cursor': False})
        return res

    # === ACTIONS === #

    def action_import_partners(self):
        """Switch customers and vendors on (both ways) and start a sync that brings them in."""
        self.ensure_one()
        self._qbo_check_admin()
        if self.partner_direction == 'off':
            self.sudo().partner_direction = 'both'
        return self.action_sync()

    def action_open_customers(self):
        return self._qbo_open_list('qbo.customer', self.env._('Customers'))

    def action_open_vendors(self):
        return self._qbo_open_list('qbo.vendor', self.env._('Vendors'))
