"""QBO tax rates and tax codes <-> account.tax.

A TaxRate is a percent tax, on sales or purchases depending on the codes that use it. A
TaxCode with one rate is that rate's tax; with several it is an Odoo group tax whose children
are the rates' taxes. Neither is in CDC: both are read with a query on every sync and only
what changed is written.
"""

from odoo import Command, api, fields, models

from ..qbo import const, mappers, matcher
from . import qbo_mapped_mixin  # noqa: F401 - the mixin's model is defined before the lists'


def _rate_kind(use, rate):
    return '%s:%.4f' % (use, rate)


def _unique_tax_name(state, use, name):
    """Return ``name``, or ``name (QuickBooks)`` when the company has a tax of that name and use.

    Odoo wants tax names unique per use; ``state['tax_names']`` holds the (use, name) pairs taken.
    """
    if (use, name) in state['tax_names']:
        name = '%s (QuickBooks)' % name
    state['tax_names'].add((use, name))
    return name


class QBOTaxRate(models.Model):
    _name = 'qbo.tax.rate'
    _inherit = 'qbo.mapped.mixin'
    _description = 'QuickBooks tax rate'

    _qbo_entity = 'TaxRate'
    _qbo_label = 'Tax Rates'
    _qbo_odoo_field = 'tax_id'
    _qbo_sync_sequence = 60
    _qbo_in_cdc = False
    # A tax of the same rate and use is the same tax; several are told apart by name.
    _qbo_kind_exact = True

    tax_id = fields.Many2one('account.tax', string='Odoo Tax', index=True, ondelete='set null')
    rate = fields.Float(string='Rate (%)', digits=(16, 4), readonly=True)
    type_tax_use = fields.Selection([('sale', 'Sales'), ('purchase', 'Purchases')], string='Used On',
                                    readonly=True)
    agency_qbo_id = fields.Char(string='Tax Agency (QuickBooks ID)', readonly=True)

    _sql_constraints = [
        ('tax_unique', 'unique(connection_id, realm_id, tax_id)',
         'This Odoo tax is already linked to another QuickBooks tax rate.'),
    ]

    @api.model
    def _qbo_tax_code_objects(self, state):
        """Return every QBO tax code, read once per run (the rates' use comes from them)."""
        cache = state['cache']
        if 'TaxCode' not in cache:
            cache['TaxCode'] = [obj for page in state['client'].query_pages(
                'TaxCode', include_inactive=True, page_size=const.PAGE_SIZE) for obj in page]
        return cache['TaxCode']

    @api.model
    def _qbo_prepare(self, state):
        res = super()._qbo_prepare(state)
        codes = []
        for obj in self._qbo_tax_code_objects(state):
            try:
                codes.append(mappers.map_tax_code(obj))
            except mappers.BadRecord:
                continue  # the code fails on its own in the Tax Codes list
        state['rate_uses'] = mappers.tax_rate_uses(codes)
        return res

    @api.model
    def _qbo_map(self, obj, state):
        values = mappers.map_tax_rate(obj)
        values['use'] = state.get('rate_uses', {}).get(values['qbo_id'], 'sale')
        return values

    @api.model
    def _qbo_mapping_values(self, values, state):
        vals = super()._qbo_mapping_values(values, state)
        vals.update(rate=values['rate'], type_tax_use=values['use'], agency_qbo_id=values['agency_qbo_id'])
        return vals

    @api.model
    def _qbo_remote(self, values, state):
        return {'ref': values['qbo_id'], 'key': None, 'names': matcher.name_keys(values['name']),
                'kind': _rate_kind(values['use'], values['rate'])}

    @api.model
    def _qbo_odoo_candidates(self, state):
        taxes = self.env['account.tax'].with_context(active_test=False).search_fetch(
            [('company_id', '=', state['company'].id)], ['name', 'amount', 'amount_type', 'type_tax_use'])
        state['tax_names'] = {(t.type_tax_use, t.name) for t in taxes}
        return [{'ref': t.id, 'key': None, 'names': matcher.name_keys(t.name),
                 'kind': _rate_kind(t.type_tax_use, t.amount), 'label': t.name}
                for t in taxes if t.amount_type == 'percent' and t.type_tax_use in ('sale', 'purchase')]

    @api.model
    def _qbo_odoo_create_values(self, values, state):
        self._qbo_candidates(state)
        return {
            'name': _unique_tax_name(state, values['use'], values['name']),
            'amount_type': 'percent',
            'amount': values['rate'],
            'type_tax_use': values['use'],
            'company_id': state['company'].id,
            'active': values['active'],
            'description': values['description'],
        }

    @api.model
    def _qbo_odoo_update_values(self, mapping, values, state):
        return {'amount': values['rate']}


class QBOTaxCode(models.Model):
    _name = 'qbo.tax.code'
    _inherit = 'qbo.mapped.mixin'
    _description = 'QuickBooks tax code'

    _qbo_entity = 'TaxCode'
    _qbo_label = 'Tax Codes'
    _qbo_odoo_field = 'tax_id'
    _qbo_sync_sequence = 70
    _qbo_in_cdc = False
    # A group tax with the same children is the code's tax.
    _qbo_kind_exact = True
    # A code with one rate is that rate's tax, so codes share taxes with rates (and each other).
    _qbo_odoo_field_claims = False

    tax_id = fields.Many2one('account.tax', string='Odoo Sales Tax', index=True, ondelete='set null')
    purchase_tax_id = fields.Many2one('account.tax', string='Odoo Purchase Tax', ondelete='set null')
    taxable = fields.Boolean(readonly=True)
    sale_rate_ids = fields.Many2many('qbo.tax.rate', 'qbo_tax_code_sale_rate_rel', 'code_id', 'rate_id',
                                     string='Sales Rates', readonly=True)
    purchase_rate_ids = fields.Many2many('qbo.tax.rate', 'qbo_tax_code_purchase_rate_rel', 'code_id',
                                         'rate_id', string='Purchase Rates', readonly=True)

    @api.model
    def _qbo_fetch_pages(self, state):
        objects = state['cache'].get('TaxCode')
        if objects is None:
            return super()._qbo_fetch_pages(state)
        return [objects[i:i + const.PAGE_SIZE] for i in range(0, len(objects), const.PAGE_SIZE)]

    @api.model
    def _qbo_prepare(self, state):
        res = super()._qbo_prepare(state)
        rates = self.env['qbo.tax.rate'].with_context(active_test=False).search_fetch(
            self.env['qbo.tax.rate']._qbo_domain(state['connection']), ['qbo_id', 'tax_id', 'name'])
        state['rates'] = {r.qbo_id: r for r in rates}
        return res

    @api.model
    def _qbo_map(self, obj, state):
        values = mappers.map_tax_code(obj)
        if not values['deleted']:
            missing = [r for r in values['sale_rate_ids'] + values['purchase_rate_ids']
                       if r not in state['rates']]
            if missing:
                raise mappers.BadRecord(obj, self.env._(
                    'that uses the tax rate with QuickBooks ID %s, which is not in Odoo (QuickBooks did not '
                    'send it, or it could not be imported)', ', '.join(missing)))
        return values

    @api.model
    def _qbo_mapping_values(self, values, state):
        vals = super()._qbo_mapping_values(values, state)
        rates = state['rates']
        vals.update({
            'taxable': values['taxable'],
            'sale_rate_ids': [Command.set([rates[r].id for r in values['sale_rate_ids'] if r in rates])],
            'purchase_rate_ids': [Command.set([rates[r].id for r in values['purchase_rate_ids']
                                               if r in rates])],
            'purchase_tax_id': self._qbo_single_rate_tax(values['purchase_rate_ids'], state) or False,
        })
        return vals

    @api.model
    def _qbo_single_rate_tax(self, rate_ids, state):
        if len(rate_ids) == 1 and rate_ids[0] in state['rates']:
            return state['rates'][rate_ids[0]].tax_id.id
        return None

    @api.model
    def _qbo_direct_link(self, values, state):
        rate_ids = values['sale_rate_ids']
        if not rate_ids and values['purchase_rate_ids']:
            return matcher.Decision(matcher.MATCH, False, 'Purchase tax only (see the purchase tax)')
        if not rate_ids:
            if values['taxable']:
                return matcher.Decision(matcher.UNMATCHED, None, 'QuickBooks works this tax out itself '
                                        '(automated sales tax): link the Odoo tax to use for it.')
            return matcher.Decision(matcher.MATCH, False, 'Not taxable: no tax in Odoo')
        missing = [r for r in rate_ids if r not in state['rates'] or not state['rates'][r].tax_id]
        if missing:
            return matcher.Decision(matcher.UNMATCHED, None,
                                    'Its rates are not all linked to Odoo taxes yet.')
        if len(rate_ids) == 1:
            return matcher.Decision(matcher.MATCH, state['rates'][rate_ids[0]].tax_id.id, 'Tax of its rate')
        return None  # several rates: an Odoo group tax, matched by its children or created

    @api.model
    def _qbo_group_kind(self, tax_ids):
        return 'group:' + ','.join(str(i) for i in sorted(tax_ids))

    @api.model
    def _qbo_remote(self, values, state):
        tax_ids = [state['rates'][r].tax_id.id for r in values['sale_rate_ids']]
        return {'ref': values['qbo_id'], 'key': None, 'names': matcher.name_keys(values['name']),
                'kind': self._qbo_group_kind(tax_ids)}

    @api.model
    def _qbo_odoo_candidates(self, state):
        taxes = self.env['account.tax'].with_context(active_test=False).search_fetch(
            [('company_id', '=', state['company'].id), ('type_tax_use', '=', 'sale')],
            ['name', 'amount_type', 'children_tax_ids'])
        state['tax_names'] = {('sale', t.name) for t in taxes}
        groups = taxes.filtered(lambda t: t.amount_type == 'group')
        return [{'ref': g.id, 'key': None, 'names': matcher.name_keys(g.name),
                 'kind': self._qbo_group_kind(g.children_tax_ids.ids), 'label': g.name} for g in groups]

    @api.model
    def _qbo_odoo_create_values(self, values, state):
        rate_ids = values['sale_rate_ids']
        rates = state['rates']
        if len(rate_ids) < 2 or any(r not in rates or not rates[r].tax_id for r in rate_ids):
            raise ValueError(self.env._(
                'The QuickBooks tax code "%s" has no set of linked rates to build an Odoo tax from; '
                'link it to the Odoo tax to use instead.', values['name']))
        self._qbo_candidates(state)
        return {
            'name': _unique_tax_name(state, 'sale', values['name']),
            'amount_type': 'group',
            'amount': 0.0,
            'type_tax_use': 'sale',
            'company_id': state['company'].id,
            'active': values['active'],
            'children_tax_ids': [Command.set(
                [state['rates'][r].tax_id.id for r in values['sale_rate_ids']])],
        }

    @api.model
    def _qbo_odoo_update_values(self, mapping, values, state):
        if len(values['sale_rate_ids']) < 2:
            return {}
        rates = state['rates']
        return {'children_tax_ids': [Command.set([rates[r].tax_id.id for r in values['sale_rate_ids']
                                                  if r in rates])]}

    @api.model
    def _qbo_update(self, mapping, values, state):
        res = super()._qbo_update(mapping, values, state)
        if mapping.match_state == 'matched' and len(values['sale_rate_ids']) < 2:
            # A one-rate code is its rate's tax: it follows a change of rate.
            decision = self._qbo_direct_link(values, state)
            if decision.action == matcher.MATCH and decision.local != mapping.tax_id.id:
                mapping.write({'tax_id': decision.local})
        return res
