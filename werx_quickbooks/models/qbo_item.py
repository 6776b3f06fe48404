"""QBO Items <-> Odoo products (both ways) and QBO categories <-> product categories."""

from odoo import api, fields, models

from ..qbo import catalog, matcher
from ..qbo.errors import QBOError
from . import qbo_mapped_mixin, qbo_push  # noqa: F401 - the mixins' models are defined first
from .qbo_mapped_mixin import SYNC_CONTEXT

# What a product takes from QuickBooks (the followed values) and the Odoo field it goes to.
PRODUCT_FIELDS = {
    'name': 'name', 'sku': 'default_code', 'unit_price': 'list_price', 'purchase_cost': 'standard_price',
    'description': 'description_sale', 'purchase_description': 'description_purchase',
}
# Odoo product fields whose change is sent to QuickBooks.
WATCHED_FIELDS = frozenset(PRODUCT_FIELDS.values()) | {
    'active', 'type', 'categ_id', 'sale_ok', 'purchase_ok', 'property_account_income_id',
    'property_account_expense_id', 'qbo_item_type', 'qbo_income_account_id', 'qbo_expense_account_id',
    'product_template_attribute_value_ids', 'taxes_id',
}
ITEM_TYPES = [('Service', 'Service'), ('NonInventory', 'Non-inventory'), ('Inventory', 'Inventory')]
# Product fields a variant shares with its template (and so with its sibling variants).
TEMPLATE_FIELDS = frozenset({'name', 'list_price', 'description_sale', 'description_purchase', 'type',
                             'is_storable', 'categ_id', 'taxes_id', 'property_account_income_id',
                             'property_account_expense_id'})
# Product fields whose value is per company: a change made in one company is sent by its connection only.
COMPANY_FIELDS = frozenset({'standard_price', 'property_account_income_id', 'property_account_expense_id',
                            'qbo_item_type', 'qbo_income_account_id', 'qbo_expense_account_id'})


class QBOItemCategory(models.Model):
    """A QuickBooks category (an Item of type Category): a product category in Odoo, hierarchy kept."""

    _name = 'qbo.item.category'
    _inherit = 'qbo.mapped.mixin'
    _description = 'QuickBooks product category'

    _qbo_entity = 'Item'
    _qbo_label = 'Product Categories'
    _qbo_odoo_field = 'category_id'
    _qbo_sync_sequence = 200
    _qbo_where = "Type = 'Category'"
    _qbo_direction_field = 'item_direction'
    _qbo_odoo_rights_group = 'product.group_product_manager'

    category_id = fields.Many2one('product.category', string='Odoo Category', index=True, ondelete='set null')
    parent_id = fields.Many2one('qbo.item.category', string='Parent Category', readonly=True,
                                ondelete='set null')

    _sql_constraints = [
        ('category_unique', 'unique(connection_id, realm_id, category_id)',
         'This product category is already linked to another QuickBooks category.'),
    ]

    @api.model
    def _qbo_accepts(self, obj):
        return isinstance(obj, dict) and obj.get('Type') == catalog.CATEGORY

    @api.model
    def _qbo_map(self, obj, state):
        return catalog.map_category(obj)

    @api.model
    def _qbo_odoo_candidates(self, state):
        categories = self.env['product.category'].search_fetch([], ['name', 'complete_name'])
        return [{'ref': c.id, 'key': None, 'kind': None, 'label': c.complete_name,
                 'names': list(dict.fromkeys(matcher.name_keys(c.complete_name.replace(' / ', ':'))
                                             + matcher.name_keys(c.name)))} for c in categories]

    @api.model
    def _qbo_odoo_create_values(self, values, state):
        parent = self.search(self._qbo_domain(state['connection'])
                             + [('qbo_id', '=', values.get('parent_qbo_id') or '-')], limit=1)
        return {'name': values['name'], 'parent_id': parent.category_id.id or False}

    @api.model
    def _qbo_link_parents(self, values_list, state):
        """Link parents, then give the categories Odoo created the same hierarchy as in QuickBooks."""
        res = super()._qbo_link_parents(values_list, state)
        children = self.with_context(active_test=False).search(
            self._qbo_domain(state['connection'])
            + [('qbo_id', 'in', [v['qbo_id'] for v in values_list if v.get('parent_qbo_id')]),
               ('match_state', '=', 'created'), ('category_id', '!=', False), ('parent_id', '!=', False)])
        for child in children:
            parent = child.parent_id.category_id
            if parent and child.category_id.parent_id != parent:
                child.category_id.with_context(**SYNC_CONTEXT).parent_id = parent
        return res

    @api.model
    def _qbo_odoo_owned(self, record, state):
        # Product categories belong to no company in Odoo: the connection that made or linked one
        # keeps its name in step, unless another company's connection syncs a catalog too.
        return not state['connection']._qbo_catalog_shared()

    @api.model
    def _qbo_odoo_set_active(self, records, active):
        return  # QuickBooks categories are always active; Odoo categories have no archive


class QBOItem(models.Model):
    """A QuickBooks product or service (Item of type Service, NonInventory or Inventory)."""

    _name = 'qbo.item'
    _inherit = ['qbo.mapped.mixin', 'qbo.push.mixin']
    _description = 'QuickBooks product or service'

    _qbo_entity = 'Item'
    _qbo_label = 'Products & Services'
    _qbo_push_label = 'Products & Services sent to QuickBooks'
    _qbo_direction_field = 'item_direction'
    _qbo_odoo_field = 'product_id'
    _qbo_sync_sequence = 210
    _qbo_where = "Type IN ('Service', 'NonInventory', 'Inventory')"
    _qbo_bulk_insert = True     # tens of thousands of items: one INSERT a page
    _qbo_odoo_rights_group = 'product.group_product_manager'

    product_id = fields.Many2one('product.product', string='Odoo Product', index=True, ondelete='set null',
                                 check_company=True)
    item_type = fields.Selection(ITEM_TYPES, string='QuickBooks Type', readonly=True)
    sku = fields.Char('SKU', readonly=True)
    unit_price = fields.Float('Sales Price', readonly=True, digits='Product Price')
    purchase_cost = fields.Float('Cost', readonly=True, digits='Product Price')
    qty_on_hand = fields.Float('Quantity on Hand', readonly=True)
    category_mapping_id = fields.Many2one('qbo.item.category', string='Category', readonly=True,
                                          ondelete='set null')
    income_account_qbo_id = fields.Char('Income Account QuickBooks ID', readonly=True)
    expense_account_qbo_id = fields.Char('Expense Account QuickBooks ID', readonly=True)
    asset_account_qbo_id = fields.Char('Asset Account QuickBooks ID', readonly=True)
    _sql_constraints = [
        ('product_unique', 'unique(connection_id, realm_id, product_id)',
         'This product is already linked to another QuickBooks item.'),
    ]

    # === PULL: QuickBooks -> Odoo === #

    @api.model
    def _qbo_accepts(self, obj):
        # Group items (bundles) are not synced: they are not in the pull's query either.
        return isinstance(obj, dict) and obj.get('Type') in catalog.ITEM_TYPES

    @api.model
    def _qbo_map(self, obj, state):
        return catalog.map_item(obj)

    @api.model
    def _qbo_prepare(self, state):
        super()._qbo_prepare(state)
        connection = state['connection']
        accounts = self.env['qbo.account'].search_read(
            self.env['qbo.account']._qbo_domain(connection) + [('account_id', '!=', False)],
            ['qbo_id', 'account_id'], load=None)
        state['account_of'] = {row['qbo_id']: row['account_id'] for row in accounts}
        # Odoo account -> its (active) QuickBooks account mapping, for what a product sends.
        state['qbo_account_of'] = {row['account_id']: row['id'] for row in accounts}
        categories = self.env['qbo.item.category'].with_context(active_test=False).search_read(
            self.env['qbo.item.category']._qbo_domain(connection), ['qbo_id', 'category_id', 'active'],
            load=None)
        state['category_mapping_of'] = {row['qbo_id']: row['id'] for row in categories}
        state['category_of'] = {row['qbo_id']: row['category_id'] for row in categories}
        # Odoo category -> its QuickBooks category, for what a product sends.
        state['qbo_category_of'] = {row['category_id']: row['qbo_id'] for row in categories
                                    if row['active'] and row['category_id']}
        state['storable'] = 'is_storable' in self.env['product.product']._fields
        codes = self.env['qbo.tax.code'].search_read(
            self.env['qbo.tax.code']._qbo_domain(connection) + [('tax_id', '!=', False)],
            ['qbo_id', 'name', 'tax_id'], load=None)
        state['tax_of_code'] = {row['qbo_id']: row['tax_id'] for row in codes}
        # US companies mark items Taxable and let the code TAX carry the rate.
        state['taxable_tax'] = next((row['tax_id'] for row in codes if row['name'] == 'TAX'), None)
        return state

    @api.model
    def _qbo_mapping_values(self, values, state):
        vals = super()._qbo_mapping_values(values, state)
        vals.update({
            'item_type': values['item_type'], 'sku': values['sku'], 'unit_price': values['unit_price'],
            'purchase_cost': values['purchase_cost'], 'qty_on_hand': values['qty_on_hand'],
            'category_mapping_id': state['category_mapping_of'].get(values.get('parent_qbo_id')) or False,
            'income_account_qbo_id': values['income_account_qbo_id'] or False,
            'expense_account_qbo_id': values['expense_account_qbo_id'] or False,
            'asset_account_qbo_id': values['asset_account_qbo_id'] or False,
            'last_direction': 'qbo2odoo',
        })
        return vals

    @api.model
    def _qbo_kind(self, item_type):
        return 'service' if item_type == 'Service' else 'goods'

    @api.model
    def _qbo_remote(self, values, state):
        return {'ref': values['qbo_id'], 'key': values['sku'] or None,
                'kind': self._qbo_kind(values['item_type']), 'names': matcher.name_keys(values['name'])}

    @api.model
    def _qbo_odoo_candidates(self, state):
        company = state['company']
        products = self.env['product.product'].with_context(active_test=False).search_fetch(
            [('company_id', 'in', [False, company.id]), ('type', 'in', ('service', 'consu'))],
            ['default_code', 'type', 'display_name'])
        plain = products.with_context(display_default_code=False)
        return [{'ref': p.id, 'key': p.default_code or None,
                 'kind': 'service' if p.type == 'service' else 'goods',
                 'names': matcher.name_keys(plain.browse(p.id).display_name), 'label': p.display_name}
                for p in products]

    def _qbo_compatible(self, remote_kind, local_kind):
        return remote_kind == local_kind

    @api.model
    def _qbo_followed_values(self, values, state):
        followed = {key: values[key] for key in PRODUCT_FIELDS}
        followed.update({
            'item_type': values['item_type'],
            'category': values.get('parent_qbo_id') or False,
            'income_account': values['income_account_qbo_id'] or False,
            'expense_account': values['expense_account_qbo_id'] or False,
            'active': values['active'],
            'sales_tax': values['sales_tax_code_qbo_id'] or ('TAX' if values['taxable'] else 'NON'),
        })
        return followed

    @api.model
    def _qbo_type_values(self, item_type, state):
        vals = {'type': 'service' if item_type == 'Service' else 'consu'}
        if state['storable']:
            vals['is_storable'] = item_type == 'Inventory'
        return vals

    @api.model
    def _qbo_odoo_values(self, followed, state, only=None, product=None):
        """Return the Odoo product values for (some of) the followed values (``product``: the one updated)."""
        vals = {}
        for key, fname in PRODUCT_FIELDS.items():
            if key in followed and (only is None or key in only):
                vals[fname] = followed[key] if followed[key] is not False else (
                    0.0 if fname in ('list_price', 'standard_price') else False)
        if 'sku' in vals:
            vals['default_code'] = vals['default_code'] or False
        if 'item_type' in followed and (only is None or 'item_type' in only):
            vals.update(self._qbo_type_values(followed['item_type'], state))
        if 'category' in followed and (only is None or 'category' in only) and followed['category']:
            category = state['category_of'].get(followed['category'])
            if category:
                vals['categ_id'] = category
        if 'sales_tax' in followed and (only is None or 'sales_tax' in only):
            code = followed['sales_tax']
            tax = state['taxable_tax'] if code == 'TAX' else state['tax_of_code'].get(code)
            # Only this company's sales tax changes: the taxes other companies set on a shared
            # product stay (Odoo puts every allowed company's default tax on a new product).
            others = product.taxes_id.filtered(
                lambda t: t.company_id.root_id != state['company'].root_id).ids if product else []
            if code == 'NON':
                vals['taxes_id'] = [(6, 0, others)]     # not taxable in QuickBooks: no sales tax here
            elif tax:
                vals['taxes_id'] = [(6, 0, others + [tax])]
            # A code not linked to an Odoo tax yet leaves the product's taxes as they are.
        for key, fname in (('income_account', 'property_account_income_id'),
                           ('expense_account', 'property_account_expense_id')):
            if key in followed and (only is None or key in only) and followed[key]:
                account = state['account_of'].get(followed[key])
                if account:
                    vals[fname] = account
        return vals

    @api.model
    def _qbo_odoo_create_values(self, values, state):
        vals = self._qbo_odoo_values(self._qbo_followed_values(values, state), state)
        vals.update(company_id=state['company'].id, sale_ok=True, purchase_ok=values['item_type'] != 'Service'
                    or bool(values['expense_account_qbo_id']), active=values['active'])
        return vals

    @api.model
    def _qbo_odoo_update_values(self, mapping, changed, values, state):
        product = mapping.product_id
        return self._qbo_odoo_values(self._qbo_followed_values(values, state), state, only=changed,
                                     product=product)

    @api.model
    def _qbo_hold_changes(self, record, odoo_vals, values, state):
        """Changes the product must not take from QuickBooks by itself: they are logged, not applied."""
        held = {}
        if len(record.product_tmpl_id.product_variant_ids) > 1:
            # A variant shares its template's name, price, descriptions, type, category and accounts
            # with its siblings: QuickBooks' value for one item would change them all.
            reason = self.env._('Not applied: it is shared by the variants of "%s" in Odoo.',
                                record.product_tmpl_id.name)
            held.update({fname: reason for fname in odoo_vals if fname in TEMPLATE_FIELDS})
        if state['storable'] and record.is_storable:
            # With Odoo Inventory, a new cost or category revalues the stock in the books; QuickBooks'
            # purchase cost is a default price, not Odoo's valuation.
            reason = self.env._('Not applied: the product is stored in Odoo Inventory, where a new cost or '
                                'category revalues the stock. Change it in Odoo if it is meant.')
            held.update({fname: reason for fname in ('standard_price', 'categ_id') if fname in odoo_vals})
        return held

    @api.model
    def _qbo_odoo_owned(self, record, state):
        if record.company_id:
            return record.company_id == state['company']
        return not state['connection']._qbo_catalog_shared()

    @api.model
    def _qbo_update(self, mapping, values, state):
        """A product changed on both sides since the last sync: the Defaults tab's policy decides."""
        if self._qbo_odoo_wins(mapping, values, state):
            return None
        return super()._qbo_update(mapping, values, state)

    # === PUSH: Odoo -> QuickBooks === #

    @api.model
    def _qbo_push_work(self, state):
        connection = state['connection']
        company = state['company']
        changed = self.with_context(active_test=False).search(
            self._qbo_domain(connection) + [('need_push', '=', True), ('product_id', '!=', False)])
        # New: products that can be sold or bought, of this company or none, with no QuickBooks item
        # here, and not waiting for the user on a QuickBooks item that may be them.
        for model in ('product.product', 'product.template', self._name):
            self.env[model].flush_model()
        self.env.cr.execute("""
            SELECT p.id FROM product_product p
              JOIN product_template t ON t.id = p.product_tmpl_id
             WHERE p.active AND t.active AND (t.sale_ok OR t.purchase_ok)
               AND t.type IN ('service', 'consu')
               AND (t.company_id IS NULL OR t.company_id = %s)
               AND NOT EXISTS (SELECT 1 FROM qbo_item m WHERE m.product_id = p.id
                                  AND m.connection_id = %s AND m.realm_id = %s)
             ORDER BY p.id""", [company.id, connection.id, connection.realm_id])
        new_ids = [row[0] for row in self.env.cr.fetchall()]
        if new_ids and connection._qbo_catalog_shared():
            # Products shared by companies go only with the connection of their own company.
            new_ids = self.env['product.product'].browse(new_ids).filtered('company_id').ids
        work = [(mapping.product_id, mapping) for mapping in changed]
        new = self.env['product.product'].browse(new_ids)
        work += [(product, self.browse()) for product in self._qbo_push_not_waiting(new, state)]
        return work

    @api.model
    def _qbo_push_not_waiting(self, products, state):
        """Return the new products that are not waiting for the user on a QuickBooks item.

        A QuickBooks item waiting for review (To Review, Conflict) with the product's SKU or name
        may be that product: the user links it (or creates it in Odoo) on the Products tab; the
        push never decides for them, nor sends a second item meanwhile.
        """
        if not products:
            return products
        waiting = self.search(self._qbo_domain(state['connection']) + [('product_id', '=', False)])
        skus = {m.sku for m in waiting if m.sku}
        names = {key for m in waiting for key in matcher.name_keys(m.name)}
        plain = products.with_context(display_default_code=False)
        return plain.filtered(lambda p: not (p.default_code and p.default_code in skus)
                              and not names.intersection(matcher.name_keys(p.display_name)))

    @api.model
    def _qbo_push_values(self, product, mapping, state):
        """Return the plain values catalog.item_to_qbo needs for ``product``."""
        connection = state['connection']
        product = product.with_company(state['company'])
        template = product.product_tmpl_id.sudo()
        storable = state['storable'] and product.is_storable
        asset = self._qbo_here(connection.asset_account_id, state)
        item_type = (mapping.item_type if mapping else None) or template.qbo_item_type \
            or connection.item_type_default
        if item_type == 'auto':
            item_type = 'Service' if product.type == 'service' else (
                'Inventory' if storable and asset else 'NonInventory')
        if item_type == 'Inventory' and not (mapping or (storable and asset)):
            # QuickBooks never turns tracking off again: only a storable product, with an asset account.
            raise QBOError(self.env._(
                'It would go to QuickBooks as an inventory item, which QuickBooks keeps as one for good: '
                'that needs a storable product (Odoo Inventory) and the inventory asset account on the '
                'Defaults tab. Choose another QuickBooks type for it.'))
        qbo_account_of = state['qbo_account_of']
        category = product.categ_id
        mapped = self.env['qbo.account'].browse
        income = self._qbo_here(template.qbo_income_account_id, state) or mapped(qbo_account_of.get(
            product.property_account_income_id.id or category.property_account_income_categ_id.id))
        expense = self._qbo_here(template.qbo_expense_account_id, state) or mapped(qbo_account_of.get(
            product.property_account_expense_id.id or category.property_account_expense_categ_id.id))
        # An update keeps the item's own accounts when Odoo has none QuickBooks knows (never the default).
        default_income = self._qbo_here(connection.income_account_id, state).qbo_id
        default_expense = self._qbo_here(connection.expense_account_id, state).qbo_id
        if mapping:
            default_income, default_expense = mapping.income_account_qbo_id, mapping.expense_account_qbo_id
        income_id = income.qbo_id if income else default_income
        expense_id = expense.qbo_id if expense else default_expense
        return {
            'name': self._qbo_push_name(product, mapping, state),
            'item_type': item_type,
            'sku': product.default_code or '',
            'description': product.description_sale or '',
            'purchase_description': product.description_purchase or '',
            'unit_price': product.lst_price,
            'purchase_cost': product.standard_price,
            'income_account_qbo_id': income_id,
            'expense_account_qbo_id': expense_id if (
                product.purchase_ok or item_type == 'Inventory'
                or (mapping and mapping.expense_account_qbo_id)) else None,
            # Only a new inventory item takes the asset account: an existing one keeps QuickBooks'.
            'asset_account_qbo_id': asset.qbo_id if not mapping else None,
            'parent_qbo_id': state['qbo_category_of'].get(category.id),
            'active': product.active,
            'taxable': bool(product.taxes_id.filtered(
                lambda tax: tax.company_id.root_id == state['company'].root_id)),
            # Quantities are not moved (docs/catalog.md): a new inventory item starts at zero in QuickBooks.
            'qty_on_hand': 0.0,
            'inv_start_date': fields.Date.to_string(fields.Date.context_today(self)),
        }

    @api.model
    def _qbo_here(self, account, state):
        """Return ``account`` (qbo.account) if it is of this connection's current QuickBooks company."""
        connection = state['connection']
        if account and account.connection_id == connection and account.realm_id == connection.realm_id \
                and account.active:
            return account
        return self.env['qbo.account']

    @api.model
    def _qbo_push_name(self, product, mapping, state):
        name = product.with_context(display_default_code=False).display_name
        if mapping and mapping.name and catalog.clean_name(name) != catalog.clean_name(mapping.name) \
                and mapping.name.startswith(catalog.clean_name(name)[:60]) and mapping.name.endswith(')'):
            return mapping.name   # sent before under a differentiated name: keep it
        return name

    @api.model
    def _qbo_push_data(self, product, mapping, state):
        values = self._qbo_push_values(product, mapping, state)
        if not values['income_account_qbo_id']:
            raise QBOError(self.env._(
                'It has no income account that QuickBooks knows: give it (or its category) an account '
                'imported from QuickBooks, or set the default income account on the Defaults tab.'))
        if values['item_type'] == 'Inventory' and not values['expense_account_qbo_id']:
            raise QBOError(self.env._(
                'An inventory item needs a cost of goods sold account that QuickBooks knows (Defaults tab).'))
        current = None
        if mapping:
            current = {'Id': mapping.qbo_id, 'SyncToken': mapping.sync_token, 'Type': mapping.item_type,
                       'SubItem': bool(mapping.parent_qbo_id)}
        return catalog.item_to_qbo(values, current)

    @api.model
    def _qbo_push_clash(self, product, item, error, state):
        """QuickBooks already has an item of this name: link to it, or send with a differentiator."""
        connection = state['connection']
        name = item['data']['Name']
        if connection.name_clash == 'link':
            quoted = name.replace('\\', '\\\\').replace("'", "\\'")
            found = state['client'].query(
                "SELECT * FROM Item WHERE Name = '%s' AND Active IN (true, false)" % quoted).get('Item') or []
            kind = 'service' if product.type == 'service' else 'goods'
            # Only an item of a compatible type is the same product (never a category or a bundle).
            found = [obj for obj in found if isinstance(obj, dict) and obj.get('Type') in catalog.ITEM_TYPES
                     and self._qbo_kind(obj['Type']) == kind]
            taken = found and self.search(self._qbo_domain(connection) + [
                ('qbo_id', '=', str(found[0].get('Id'))), ('product_id', '!=', False)], limit=1)
            if found and not taken:
                with self.env.cr.savepoint():
                    linked = self._qbo_push_bind(product, self.browse(), found[0], item, state)
                    linked.with_context(qbo_sync=True).write({
                        'match_state': 'matched', 'need_push': True,
                        'match_note': self.env._(
                            'Linked to the QuickBooks item of the same name (Defaults tab)')})
                return None
        mark = product.default_code or str(product.id)
        return dict(item['data'], Name=catalog.differentiated(name, mark))
