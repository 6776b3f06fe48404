"""QBO Items <-> plain values, both ways. Pure functions, no Odoo.

``map_item`` / ``map_category`` read a QBO Item as the API returns it (the list mappers'
shape: ``qbo_id``, ``sync_token`` … plus what a product needs). ``item_to_qbo`` writes the
QBO Item JSON for a product described by plain values, for a create or an update.
"""

import re

from .errors import Words
from .mappers import BadRecord, _checked_ref, _number, _text, common_values, full_name

ITEM_TYPES = ('Service', 'NonInventory', 'Inventory')
CATEGORY = 'Category'
NAME_LIMIT = 100          # QBO's own limits
SKU_LIMIT = 100
DESCRIPTION_LIMIT = 4000
PRICE_MAX = 1e12
QTY_MAX = 1e12
# Characters QBO refuses in an item name.
_NAME_BAD = re.compile(r'[:\t\n\r]+')


def map_category(obj):
    """Return the values of a QBO Item of type Category (a product category in Odoo)."""
    values = common_values(obj)
    if not values['deleted'] and obj.get('Type') != CATEGORY:
        raise BadRecord(obj, 'instead of a category')
    values.update({
        'full_name': full_name(obj) or values['name'],
        'parent_qbo_id': _checked_ref(obj, 'ParentRef', 'parent') if obj.get('SubItem') else None,
    })
    return values


def map_item(obj):
    """Return the values of a QBO Item of type Service, NonInventory or Inventory."""
    values = common_values(obj)
    item_type = obj.get('Type') or 'NonInventory'
    if not values['deleted'] and item_type not in ITEM_TYPES:
        raise BadRecord(obj, Words('whose type "%s" is not one Odoo takes as a product',
                                   (str(item_type)[:40],)))
    values.update({
        'full_name': full_name(obj) or values['name'],
        'item_type': item_type if item_type in ITEM_TYPES else 'NonInventory',
        'sku': _text(obj, 'Sku', 'SKU', SKU_LIMIT) or False,
        'description': _text(obj, 'Description', 'description', DESCRIPTION_LIMIT) or False,
        'purchase_description':
            _text(obj, 'PurchaseDesc', 'purchase description', DESCRIPTION_LIMIT) or False,
        'unit_price': _number(obj, 'UnitPrice', 'sales price', -PRICE_MAX, PRICE_MAX),
        'purchase_cost': _number(obj, 'PurchaseCost', 'cost', -PRICE_MAX, PRICE_MAX),
        'qty_on_hand': _number(obj, 'QtyOnHand', 'quantity on hand', -QTY_MAX, QTY_MAX)
        if item_type == 'Inventory' else 0.0,
        'taxable': obj.get('Taxable') is True,
        'income_account_qbo_id': _checked_ref(obj, 'IncomeAccountRef', 'income account'),
        'expense_account_qbo_id': _checked_ref(obj, 'ExpenseAccountRef', 'expense account'),
        'asset_account_qbo_id': _checked_ref(obj, 'AssetAccountRef', 'inventory asset account'),
        'sales_tax_code_qbo_id': _checked_ref(obj, 'SalesTaxCodeRef', 'sales tax code'),
        'parent_qbo_id': _checked_ref(obj, 'ParentRef', 'category') if obj.get('SubItem') else None,
    })
    return values


def clean_name(name):
    """Return ``name`` as QBO takes it: no colon, tab or newline, at most 100 characters."""
    name = ' '.join(_NAME_BAD.sub(' ', name or '').split())
    return name[:NAME_LIMIT].rstrip()


def differentiated(name, mark):
    """Return ``name`` with a differentiator ``(mark)``, still within QBO's 100 characters."""
    suffix = ' (%s)' % clean_name(str(mark))[:30]
    return clean_name(name)[:NAME_LIMIT - len(suffix)].rstrip() + suffix


def item_to_qbo(values, current=None):
    """Return the QBO Item JSON for a product described by ``values``.

    ``values``: name, item_type, sku, description, purchase_description, unit_price,
    purchase_cost, income/expense/asset account and category QBO Ids, active; for an
    Inventory item also qty_on_hand and inv_start_date (a create only). ``current`` is the
    item as QBO has it (an update): its Id and SyncToken are sent, the update is sparse, and
    the type of an Inventory item is never changed (QuickBooks does not allow it).
    """
    item_type = values['item_type']
    if current and current.get('Type') == 'Inventory':
        item_type = 'Inventory'
    data = {
        'Name': clean_name(values['name']),
        'Type': item_type,
        'Active': bool(values.get('active', True)),
        'Sku': (values.get('sku') or '')[:SKU_LIMIT],
        'Description': (values.get('description') or '')[:DESCRIPTION_LIMIT],
        'PurchaseDesc': (values.get('purchase_description') or '')[:DESCRIPTION_LIMIT],
        'UnitPrice': round(float(values.get('unit_price') or 0.0), 6),
        'PurchaseCost': round(float(values.get('purchase_cost') or 0.0), 6),
    }
    if 'taxable' in values:
        data['Taxable'] = bool(values['taxable'])
    for key, ref in (('income_account_qbo_id', 'IncomeAccountRef'),
                     ('expense_account_qbo_id', 'ExpenseAccountRef'),
                     ('asset_account_qbo_id', 'AssetAccountRef')):
        if values.get(key):
            data[ref] = {'value': str(values[key])}
    if values.get('parent_qbo_id'):
        data.update(SubItem=True, ParentRef={'value': str(values['parent_qbo_id'])})
    # No category QuickBooks knows: an existing item stays in its QuickBooks category.
    if item_type == 'Inventory':
        data['TrackQtyOnHand'] = True
        if not current:
            data['QtyOnHand'] = float(values.get('qty_on_hand') or 0.0)
            data['InvStartDate'] = values['inv_start_date']
    else:
        data.pop('AssetAccountRef', None)
    if current:
        data.update(Id=current['Id'], SyncToken=current['SyncToken'], sparse=True)
    return data
