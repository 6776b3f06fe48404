"""The catalog part of a QuickBooks connection: Products & Services both ways, and its defaults."""

import logging

from odoo import api, fields, models

from .qbo_connection_lists import REVIEW_STATES, _mappings

# Imported first on purpose: its sync (customers and vendors) runs before the catalog's.
from .qbo_connection_partners import DIRECTIONS
from .qbo_item import ITEM_TYPES

_logger = logging.getLogger(__name__)

CATALOG_MODELS = ('qbo.item.category', 'qbo.item')


# One file per entity group (design.md): the catalog's part of the connection stays apart from the lists'.
class QBOConnection(models.Model):
    _inherit = 'qbo.connection'  # pylint: disable=consider-merging-classes-inherited

    # --- Defaults tab --- #
    item_direction = fields.Selection(
        DIRECTIONS, string='Products & Services', required=True, default='off',
        help='Which way products and services sync. "Import catalog" switches it on (both ways).')
    conflict_policy = fields.Selection(
        [('qbo', 'QuickBooks wins'), ('odoo', 'Odoo wins'), ('newest', 'Newest change wins')],
        string='Changed on Both Sides', required=True, default='qbo',
        help='A record changed in Odoo and in QuickBooks since the last sync keeps this side\'s values; '
             'the other side\'s are kept in the run\'s log.')
    name_clash = fields.Selection(
        [('link', 'Link to the QuickBooks record'), ('suffix', 'Add a differentiator to the name')],
        string='Name Already in QuickBooks', required=True, default='link',
        help='A record sent from Odoo whose name QuickBooks already uses is linked to that record, or '
             'sent under its name with its reference (or number) added, e.g. "Filter (FLT-20)".')
    income_account_id = fields.Many2one(
        'qbo.account', string='Default Income Account', check_company=True,
        domain="[('connection_id', '=', id), ('qbo_account_type', 'in', ('Income', 'Other Income'))]",
        help='For products sent to QuickBooks whose own (or category\'s) income account QuickBooks '
             'does not know.')
    expense_account_id = fields.Many2one(
        'qbo.account', string='Default Expense Account', check_company=True,
        domain="[('connection_id', '=', id), ('qbo_account_type', 'in', ('Expense', 'Cost of Goods Sold', "
               "'Other Expense'))]",
        help='The purchase (or cost of goods sold) account of products sent to QuickBooks.')
    asset_account_id = fields.Many2one(
        'qbo.account', string='Inventory Asset Account', check_company=True,
        domain="[('connection_id', '=', id), ('qbo_account_type', '=', 'Other Current Asset')]",
        help='Needed to send storable products as QuickBooks inventory items (with Odoo Inventory).')
    item_type_default = fields.Selection(
        [('auto', 'From the Odoo product type')] + ITEM_TYPES, string='QuickBooks Type of New Products',
        required=True, default='auto',
        help='Services become Service items, goods Non-inventory items (storable ones Inventory items '
             'when Odoo Inventory is installed and an inventory asset account is set).')
    catalog_cursor = fields.Datetime(
        'Catalog Synced Up To', copy=False, readonly=True,
        help='QuickBooks changes to products and categories up to this time are in Odoo.')
    qbo_item_ids = _mappings('qbo.item', 'Products & Services')
    qbo_item_category_ids = _mappings('qbo.item.category', 'Product Categories')
    catalog_to_review_count = fields.Integer('Products to Review', compute='_compute_catalog_to_review_count')
    has_stock = fields.Boolean(compute='_compute_has_stock')

    def _compute_catalog_to_review_count(self):
        for connection in self:
            connection.catalog_to_review_count = self.env['qbo.item'].search_count(
                self.env['qbo.item']._qbo_domain(connection) + [('match_state', 'in', REVIEW_STATES)])

    def _compute_has_stock(self):
        storable = 'is_storable' in self.env['product.product']._fields
        for connection in self:
            connection.has_stock = storable

    # === BUSINESS METHODS === #

    @api.model
    def _qbo_mapped_models(self):
        return super()._qbo_mapped_models() + list(CATALOG_MODELS)

    def _qbo_catalog_shared(self):
        """True when another company's connection syncs a catalog too: products of no company are shared."""
        return self._qbo_group_shared('item_direction')

    def _sync_qbo2odoo(self, run, client):
        """After the lists and the contacts: products and categories, as the Defaults tab says."""
        res = super()._sync_qbo2odoo(run, client)
        self.ensure_one()
        self._qbo_sync_both_ways(run, client, CATALOG_MODELS, self.item_direction, 'catalog_cursor')
        return res

    def _qbo_archive_mappings(self):
        res = super()._qbo_archive_mappings()
        for connection in self:
            for name in CATALOG_MODELS:
                self.env[name].with_context(active_test=False).search(
                    [('connection_id', '=', connection.id)]).write({'active': False})
            self.env['qbo.outbox'].sudo().search([('connection_id', '=', connection.id),
                                                  ('state', '=', 'pending')]).unlink()
        self.sudo().write({'catalog_cursor': False})
        return res

    # === ACTIONS === #

    def action_import_catalog(self):
        """Switch the catalog on (both ways) and start a sync that brings it in, in the background."""
        self.ensure_one()
        self._qbo_check_admin()
        if self.item_direction == 'off':
            self.sudo().item_direction = 'both'
        return self.action_sync()

    def action_open_items(self):
        return self._qbo_open_list('qbo.item', self.env._('Products & Services'))
