"""QBO tax agencies, tax rates and tax codes <-> account.tax.group and account.tax.

Sales tax is a debt to an agency: QBO books it on the agency's liability account
("<agency> Payable"). So each agency is an Odoo tax group whose payable account is that
account, and each rate is a percent tax, excluded from the price as in QBO, whose tax
amount posts to it (invoices and refunds alike). A rate used on sales and on purchases is
two Odoo taxes, one per side. A code with one rate is that rate's tax; with several, an
Odoo group tax of the rates' taxes, one per side it is used on. None of these lists is in
CDC: they are read with a query on every sync and only what changed is written.
"""

from odoo import Command, api, fields, models
from odoo.exceptions import UserError

from ..qbo import const, mappers, matcher
from . import qbo_mapped_mixin
from .qbo_sync_run import plain_words

USES = [('sale', 'Sales'), ('purchase', 'Purchases')]


def _tax_kind(use, rate, price_include=False, scope=False):
    """Return what makes an Odoo tax the same as a QBO rate: use, rate, price excluded, any product."""
    return '%s:%.4f:%s:%s' % (use, rate, 'included' if price_include else 'excluded', scope or 'all')


def _rate_tax(rate, use):
    """Return the Odoo tax of a rate mapping on one side ('sale' or 'purchase'), possibly empty.

    The side is the tax's own, not what the mapping says QBO uses it on now: after QBO moves a
    rate to the other side, its sales tax never stands in for a purchase tax.
    """
    if rate.tax_id.type_tax_use == use:
        return rate.tax_id
    return rate.purchase_tax_id if use == 'purchase' else rate.tax_id.browse()


def _tax_accounts(tax):
    """Return the accounts a tax books its amount on (invoices and refunds); empty: the line's own."""
    lines = tax.repartition_line_ids.filtered(lambda line: line.repartition_type == 'tax')
    return lines.account_id, any(not line.account_id for line in lines)


class QBOTaxMixin(models.AbstractModel):
    """What the three tax lists share: where Odoo keeps taxes, and their names."""

    _name = 'qbo.tax.mixin'
    _inherit = 'qbo.mapped.mixin'
    _description = 'QuickBooks list kept as Odoo taxes'

    @api.model
    def _qbo_tax_company(self, state):
        # A branch uses its parent's taxes (Odoo 18 keeps them on the root company).
        return state['company'].root_id

    @api.model
    def _qbo_tax_names(self, state):
        """Return the (use, name) pairs of the company's taxes, read once per run."""
        if 'tax_names' not in state['cache']:
            taxes = self.env['account.tax'].with_context(active_test=False).search_fetch(
                self.env['account.tax']._check_company_domain(state['company']), ['name', 'type_tax_use'])
            state['cache']['tax_names'] = {(t.type_tax_use, t.name) for t in taxes}
        return state['cache']['tax_names']

    @api.model
    def _qbo_unique_tax_name(self, state, use, name, current=None):
        """Return ``name``, or ``name (QuickBooks)`` … when the company has a tax of that name and use.

        ``current`` is the present name of the tax being renamed: it does not take its own name.
        """
        if name == current:
            return name
        taken = self._qbo_tax_names(state)
        candidate, n = name, 1
        while (use, candidate) in taken:
            n += 1
            candidate = '%s (QuickBooks)' % name if n == 2 else '%s (QuickBooks %d)' % (name, n)
        taken.add((use, candidate))
        return candidate

    @api.model
    def _qbo_tax_code_objects(self, state):
        """Return every QBO tax code, read once per run (the rates' use comes from them)."""
        cache = state['cache']
        if 'TaxCode' not in cache:
            cache['TaxCode'] = [obj for page in state['client'].query_pages(
                'TaxCode', include_inactive=True, page_size=const.PAGE_SIZE) for obj in page]
        return cache['TaxCode']


class QBOTaxAgency(models.Model):
    _name = 'qbo.tax.agency'
    _inherit = 'qbo.tax.mixin'
    _description = 'QuickBooks tax agency'

    _qbo_entity = 'TaxAgency'
    _qbo_label = 'Tax Agencies'
    _qbo_odoo_field = 'tax_group_id'
    _qbo_sync_sequence = 55
    _qbo_in_cdc = False

    tax_group_id = fields.Many2one('account.tax.group', string='Odoo Tax Group', index=True,
                                   ondelete='set null', check_company=True)
    payable_account_id = fields.Many2one(
        'account.account', string='Tax Payable Account', readonly=True, ondelete='set null',
        help="The Odoo account of QuickBooks' liability account for this agency: the tax of its rates "
             "is owed there.")
    purchase_account_id = fields.Many2one(
        'account.account', string='Tax on Purchases Account', readonly=True, ondelete='set null',
        help='Where tax paid on purchases goes, when QuickBooks names an account of its own for it.')

    _sql_constraints = [
        ('tax_group_unique', 'unique(connection_id, realm_id, tax_group_id)',
         'This Odoo tax group is already linked to another QuickBooks tax agency.'),
    ]

    @api.model
    def _qbo_prepare(self, state):
        res = super()._qbo_prepare(state)
        accounts = self.env['qbo.account'].with_context(active_test=False).search_fetch(
            self.env['qbo.account']._qbo_domain(state['connection']) + [('account_id', '!=', False)],
            ['qbo_id', 'full_name', 'qbo_account_subtype', 'account_id'])
        state['accounts_by_id'] = {a.qbo_id: a.account_id.id for a in accounts}
        state['accounts_by_name'] = {}
        for account in accounts:
            state['accounts_by_name'].setdefault(matcher.normalise(account.full_name), []).append(
                account.account_id.id)
        state['tax_payable'] = [a.account_id.id for a in accounts
                                if a.qbo_account_subtype == 'SalesTaxPayable']
        return res

    @api.model
    def _qbo_fetch_pages(self, state):
        # A few records: read whole, so the account rule below knows how many agencies there are.
        objects = [obj for page in super()._qbo_fetch_pages(state) for obj in page]
        state['agency_total'] = len(objects)
        return [objects[i:i + const.PAGE_SIZE] for i in range(0, len(objects), const.PAGE_SIZE)] or [[]]

    @api.model
    def _qbo_map(self, obj, state):
        values = mappers.map_tax_agency(obj)
        by_name = state['accounts_by_name'].get(matcher.normalise(values['payable_name']), [])
        payable = state['accounts_by_id'].get(values['sales_account_qbo_id'] or '')
        if not payable and len(by_name) == 1:
            payable = by_name[0]
        if not payable and len(state['tax_payable']) == 1 and state.get('agency_total') == 1:
            # One agency and one sales tax liability account: it is that agency's. With several
            # agencies it could be another's: the agency waits for its own account instead.
            payable = state['tax_payable'][0]
        values['payable_account_id'] = payable or False
        values['purchase_account_id'] = state['accounts_by_id'].get(values['purchase_account_qbo_id'] or '',
                                                                    False)
        return values

    @api.model
    def _qbo_mapping_values(self, values, state):
        vals = super()._qbo_mapping_values(values, state)
        vals.update(payable_account_id=values['payable_account_id'],
                    purchase_account_id=values['purchase_account_id'])
        return vals

    @api.model
    def _qbo_followed_values(self, values, state):
        return {'name': values['name'], 'tax_payable_account_id': values['payable_account_id'],
                'tax_receivable_account_id': values['purchase_account_id'] or values['payable_account_id']}

    @api.model
    def _qbo_odoo_candidates(self, state):
        groups = self.env['account.tax.group'].search_fetch(
            self.env['account.tax.group']._check_company_domain(state['company']), ['name'])
        return [{'ref': g.id, 'key': None, 'names': matcher.name_keys(g.name), 'kind': None, 'label': g.name}
                for g in groups]

    @api.model
    def _qbo_odoo_create_values(self, values, state):
        return {
            'name': values['name'],
            'company_id': self._qbo_tax_company(state).id,
            'tax_payable_account_id': values['payable_account_id'],
            # Tax paid on purchases is settled with the same agency, on its own account if it has one.
            'tax_receivable_account_id': values['purchase_account_id'] or values['payable_account_id'],
        }

    @api.model
    def _qbo_odoo_set_active(self, records, active):
        return  # tax groups cannot be archived; the mapping is


class QBOTaxRate(models.Model):
    _name = 'qbo.tax.rate'
    _inherit = 'qbo.tax.mixin'
    _description = 'QuickBooks tax rate'

    _qbo_entity = 'TaxRate'
    _qbo_label = 'Tax Rates'
    _qbo_odoo_field = 'tax_id'
    _qbo_sync_sequence = 60
    _qbo_in_cdc = False
    # A tax of the same rate, use, price handling and scope is the same tax; several are told apart by name.
    _qbo_kind_exact = True

    tax_id = fields.Many2one('account.tax', string='Odoo Tax', index=True, ondelete='set null',
                             check_company=True, domain="[('amount_type', '=', 'percent')]",
                             help='The sales tax of this rate (its purchase tax when it is used on '
                                  'purchases only).')
    purchase_tax_id = fields.Many2one(
        'account.tax', string='Odoo Purchase Tax', ondelete='set null', readonly=True,
        help='The purchase tax of a rate QuickBooks uses on sales and on purchases.')
    rate = fields.Float(string='Rate (%)', digits=(16, 4), readonly=True)
    type_tax_use = fields.Selection(USES, string='Odoo Tax Used On', readonly=True)
    used_on = fields.Selection(USES + [('both', 'Sales and Purchases')], readonly=True)
    agency_qbo_id = fields.Char(string='Tax Agency (QuickBooks ID)', readonly=True)
    agency_id = fields.Many2one('qbo.tax.agency', string='Tax Agency', readonly=True, ondelete='set null')

    _sql_constraints = [
        ('tax_unique', 'unique(connection_id, realm_id, tax_id)',
         'This Odoo tax is already linked to another QuickBooks tax rate.'),
    ]

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
        agencies = self.env['qbo.tax.agency'].with_context(active_test=False).search(
            self.env['qbo.tax.agency']._qbo_domain(state['connection']))
        state['agencies'] = {a.qbo_id: a for a in agencies}
        return res

    @api.model
    def _qbo_map(self, obj, state):
        values = mappers.map_tax_rate(obj)
        uses = state.get('rate_uses', {}).get(values['qbo_id']) or {'sale'}
        values['use'] = 'sale' if 'sale' in uses else 'purchase'
        values['used_on'] = 'both' if len(uses) == 2 else values['use']
        values['agency'] = state.get('agencies', {}).get(values['agency_qbo_id'] or '')
        return values

    @api.model
    def _qbo_mapping_values(self, values, state):
        vals = super()._qbo_mapping_values(values, state)
        vals.update(rate=values['rate'], type_tax_use=values['use'], used_on=values['used_on'],
                    agency_qbo_id=values['agency_qbo_id'],
                    agency_id=values['agency'].id if values['agency'] else False)
        return vals

    @api.model
    def _qbo_followed_values(self, values, state):
        agency = values['agency']
        return {'name': values['name'], 'amount': values['rate'], 'used_on': values['used_on'],
                'agency': values['agency_qbo_id'],
                'account': agency.payable_account_id.id if agency else False,
                'purchase_account': agency.purchase_account_id.id if agency else False}

    @api.model
    def _qbo_remote(self, values, state):
        return {'ref': values['qbo_id'], 'key': None, 'names': matcher.name_keys(values['name']),
                'kind': _tax_kind(values['use'], values['rate'])}

    @api.model
    def _qbo_expected_account(self, agency, use):
        """Return the account a tax of this agency must book its amount on, on one side."""
        if not agency:
            return self.env['account.account']
        if use == 'purchase' and agency.purchase_account_id:
            return agency.purchase_account_id
        return agency.payable_account_id

    @api.model
    def _qbo_match_problem(self, values, local_id, state):
        return self._qbo_tax_problem(self.env['account.tax'].browse(local_id), values, values['use'])

    @api.model
    def _qbo_tax_problem(self, tax, values, use):
        """Return why an Odoo tax would book this rate's tax elsewhere than QBO does, or None."""
        expected = self._qbo_expected_account(values['agency'], use)
        accounts, on_base = _tax_accounts(tax)
        if expected and accounts == expected and not on_base:
            return None
        where = ', '.join(accounts.mapped('display_name')) or self.env._("the line's own account (income)")
        if on_base and accounts:
            where += self.env._(" and the line's own account")
        return self.env._(
            'The Odoo tax "%(tax)s" has this rate, but books its amount on %(where)s, while QuickBooks owes '
            'it on %(owed)s: link it anyway if that is right, or Create in Odoo.',
            tax=tax.name, where=where,
            owed=expected.display_name or self.env._("the agency's liability account (not in Odoo yet)"))

    def _qbo_kind_is_enough(self, kind):
        # Odoo often has several 0 % taxes (exempt, zero-rated, out of scope): only a name tells.
        return float(kind.split(':')[1]) != 0.0

    @api.model
    def _qbo_odoo_candidates(self, state):
        # A tax that changes the base of the next one, or is due on payment, is never QBO's rate.
        taxes = self.env['account.tax'].with_context(active_test=False).search_fetch(
            self.env['account.tax']._check_company_domain(state['company'])
            + [('amount_type', '=', 'percent'), ('type_tax_use', 'in', ('sale', 'purchase')),
               ('include_base_amount', '=', False), ('tax_exigibility', '=', 'on_invoice')],
            ['name', 'amount', 'type_tax_use', 'price_include', 'tax_scope'])
        return [{'ref': t.id, 'key': None, 'names': matcher.name_keys(t.name),
                 'kind': _tax_kind(t.type_tax_use, t.amount, t.price_include, t.tax_scope), 'label': t.name}
                for t in taxes if t.id not in state['claimed']]

    @api.model
    def _qbo_cannot_create(self, values, state, use=None):
        use = use or values['use']
        if not values['rate']:
            # Exempt, zero-rated and out of scope are different taxes at 0 %: only the user can tell.
            zero = [c['label'] for c in self._qbo_candidates(state)
                    if c['kind'] == _tax_kind(use, 0.0)]
            if zero:
                return self.env._(
                    'Odoo already has 0 %% taxes (%s): link the one this rate is, or Create in Odoo.',
                    ', '.join(zero[:5]))
        agency = values['agency']
        if not agency or not agency.payable_account_id:
            return self.env._(
                'Its tax agency in QuickBooks (%s) has no liability account in Odoo to owe the tax to, so no '
                'tax is created (its amount would be booked as income): link the Odoo tax to use, or sync '
                'again once the agency\'s "Payable" account is in the Chart of Accounts.',
                agency.name if agency else values['agency_qbo_id'] or self.env._('none'))
        return None

    @api.model
    def _qbo_tax_values(self, values, use, state):
        """Return the values of an Odoo percent tax for a QBO rate, on ``use``'s side."""
        agency = values['agency']
        if not agency or not agency.payable_account_id:
            raise UserError(self._qbo_cannot_create(values, state))
        account = self._qbo_expected_account(agency, use)

        def distribution(document_type):
            return [Command.create({'document_type': document_type, 'repartition_type': 'base'}),
                    Command.create({'document_type': document_type, 'repartition_type': 'tax',
                                    'account_id': account.id})]
        return {
            'name': self._qbo_unique_tax_name(state, use, values['name']),
            'amount_type': 'percent',
            'amount': values['rate'],
            'type_tax_use': use,
            # QBO adds sales tax on top of the price, whatever this company's default.
            'price_include_override': 'tax_excluded',
            'company_id': self._qbo_tax_company(state).id,
            'tax_group_id': agency.tax_group_id.id or False,
            'active': values['active'],
            'description': values['description'],
            'invoice_repartition_line_ids': distribution('invoice'),
            'refund_repartition_line_ids': distribution('refund'),
        }

    @api.model
    def _qbo_odoo_create_values(self, values, state):
        self._qbo_candidates(state)
        vals = self._qbo_tax_values(values, values['use'], state)
        if not vals['tax_group_id']:
            vals.pop('tax_group_id')
        return vals

    @api.model
    def _qbo_after_page(self, values_list, state):
        """Give each rate used on both sides its purchase tax: an Odoo tax that fits, or a new one."""
        wanted = [v for v in values_list if v['used_on'] == 'both' and not v['deleted']]
        if not wanted:
            return
        domain = self._qbo_domain(state['connection'])
        mappings = self.with_context(active_test=False).search(
            domain + [('qbo_id', 'in', [v['qbo_id'] for v in wanted]), ('purchase_tax_id', '=', False),
                      ('tax_id', '!=', False)])
        by_qbo_id = {m.qbo_id: m for m in mappings}
        linked = self.with_context(active_test=False).search(domain)
        taken = set((linked.tax_id | linked.purchase_tax_id).ids)
        candidates = [c for c in self._qbo_odoo_candidates(state) if c['ref'] not in taken]
        sync = qbo_mapped_mixin.SYNC_CONTEXT
        for values in wanted:
            mapping = by_qbo_id.get(values['qbo_id'])
            if not mapping or mapping.tax_id.type_tax_use != 'sale':
                continue
            remote = {'ref': values['qbo_id'], 'key': None, 'names': matcher.name_keys(values['name']),
                      'kind': _tax_kind('purchase', values['rate'])}
            decision = matcher.match([remote], candidates, compatible=self._qbo_compatible,
                                     kind_is_enough=self._qbo_kind_is_enough)[values['qbo_id']]
            tax, problem = None, self._qbo_reason(decision)
            if decision.action == matcher.MATCH:
                tax = self.env['account.tax'].browse(decision.local)
                problem = self._qbo_tax_problem(tax, values, 'purchase')
                tax = None if problem else tax
            elif decision.action == matcher.CREATE:
                problem = self._qbo_cannot_create(values, state, use='purchase')
                if not problem:
                    try:
                        with self.env.cr.savepoint():
                            vals = self._qbo_tax_values(values, 'purchase', state)
                            if not vals['tax_group_id']:
                                vals.pop('tax_group_id')
                            tax = self.env['account.tax'].with_context(**sync).create(vals)
                    except Exception as error:  # noqa: BLE001 - the sales side stays; this side is reported
                        problem = plain_words(self.env, error)
            if tax:
                mapping.with_context(**sync).purchase_tax_id = tax
                candidates = [c for c in candidates if c['ref'] != tax.id]
            else:
                mapping.with_context(**sync).write({'match_state': 'conflict', 'match_note': self.env._(
                    'QuickBooks also uses it on purchases; its purchase tax waits for you: %s', problem)})

    @api.model
    def _qbo_tax_update(self, tax, changed, values, use, state):
        """Return the Odoo values that bring ``tax`` (one side of the rate) in line with QBO's change."""
        vals = {}
        if 'name' in changed:
            vals['name'] = self._qbo_unique_tax_name(state, tax.type_tax_use, changed['name'], tax.name)
        if 'amount' in changed:
            vals['amount'] = changed['amount']
        agency = values['agency']
        if {'agency', 'account', 'purchase_account'} & set(changed) and agency and agency.payable_account_id:
            account = self._qbo_expected_account(agency, use)
            for field in ('invoice_repartition_line_ids', 'refund_repartition_line_ids'):
                vals[field] = [Command.update(line.id, {'account_id': account.id}) for line in tax[field]
                               if line.repartition_type == 'tax' and line.account_id != account]
                if not vals[field]:
                    del vals[field]
            if agency.tax_group_id and tax.tax_group_id != agency.tax_group_id:
                vals['tax_group_id'] = agency.tax_group_id.id
        return vals

    @api.model
    def _qbo_odoo_update_values(self, mapping, changed, values, state):
        return self._qbo_tax_update(mapping.tax_id, changed, values, mapping.tax_id.type_tax_use, state)

    @api.model
    def _qbo_update(self, mapping, values, state):
        old = dict(mapping.qbo_followed or {})
        res = super()._qbo_update(mapping, values, state)
        if values['deleted']:
            return res
        sync = qbo_mapped_mixin.SYNC_CONTEXT
        twin = mapping.purchase_tax_id
        if twin and self._qbo_odoo_owned(twin, state):
            changed = {k: v for k, v in (mapping.qbo_followed or {}).items() if old.get(k) != v}
            vals = self._qbo_tax_update(twin, changed, values, 'purchase', state)
            if vals:
                self._qbo_log_changes(mapping, twin, vals, state)
                twin.with_context(**sync).write(vals)
            self._qbo_odoo_set_active(twin, values['active'])
        if mapping.tax_id and mapping.tax_id.type_tax_use != values['use']:
            # QBO moved the rate to the other side: its Odoo tax is not turned into another kind of tax.
            sides = dict(self._fields['used_on']._description_selection(self.env))
            mapping.with_context(**sync).write({'match_state': 'conflict', 'match_note': self.env._(
                'QuickBooks now uses this rate on %(side)s; the Odoo tax "%(tax)s" is a %(kind)s tax and '
                'was left as it is: link the tax to use, or Create in Odoo.', side=sides[values['used_on']],
                tax=mapping.tax_id.name, kind=sides[mapping.tax_id.type_tax_use])})
        return res


class QBOTaxCode(models.Model):
    _name = 'qbo.tax.code'
    _inherit = 'qbo.tax.mixin'
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

    tax_id = fields.Many2one('account.tax', string='Odoo Tax', index=True, ondelete='set null',
                             check_company=True,
                             help='The tax of this code on sales (on purchases, for a purchase-only code).')
    purchase_tax_id = fields.Many2one('account.tax', string='Odoo Purchase Tax', ondelete='set null',
                                      readonly=True, help='The tax of a code used on sales and on purchases, '
                                                          'on the purchase side.')
    type_tax_use = fields.Selection(USES, string='Odoo Tax Used On', readonly=True)
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
            self.env['qbo.tax.rate']._qbo_domain(state['connection']),
            ['qbo_id', 'tax_id', 'purchase_tax_id', 'type_tax_use', 'name'])
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
        values['use'] = 'sale' if values['sale_rate_ids'] or not values['purchase_rate_ids'] else 'purchase'
        return values

    @api.model
    def _qbo_side_taxes(self, rate_ids, use, state):
        """Return the Odoo taxes of these rates on one side, or None if one of them has none."""
        taxes = [_rate_tax(state['rates'][r], use) for r in rate_ids if r in state['rates']]
        if len(taxes) != len(rate_ids) or not all(taxes):
            return None
        return taxes

    @api.model
    def _qbo_mapping_values(self, values, state):
        vals = super()._qbo_mapping_values(values, state)
        rates = state['rates']
        vals.update({
            'taxable': values['taxable'],
            'type_tax_use': values['use'],
            'sale_rate_ids': [Command.set([rates[r].id for r in values['sale_rate_ids'] if r in rates])],
            'purchase_rate_ids': [Command.set([rates[r].id for r in values['purchase_rate_ids']
                                               if r in rates])],
        })
        return vals

    @api.model
    def _qbo_followed_values(self, values, state):
        # The rates' Odoo taxes too: a rate linked anew in Odoo changes the code's tax.
        taxes = self._qbo_side_taxes(values['sale_rate_ids'] or values['purchase_rate_ids'], values['use'],
                                     state) if not values['deleted'] else None
        return {'name': values['name'], 'taxes': [t.id for t in taxes] if taxes else False}

    @api.model
    def _qbo_direct_link(self, values, state):
        rate_ids = values['sale_rate_ids'] or values['purchase_rate_ids']
        if not rate_ids:
            if values['taxable']:
                return matcher.Decision(matcher.UNMATCHED, None, self.env._(
                    'QuickBooks works this tax out itself (automated sales tax): link the Odoo tax to use '
                    'for it.'))
            return matcher.Decision(matcher.NOT_NEEDED, False, self.env._(
                'Not taxable: no tax is charged, so no Odoo tax is needed.'))
        taxes = self._qbo_side_taxes(rate_ids, values['use'], state)
        if taxes is None:
            return matcher.Decision(matcher.UNMATCHED, None, self.env._(
                'Its rates are not all linked to Odoo taxes yet (see Tax Rates).'))
        if len(taxes) == 1:
            return matcher.Decision(matcher.MATCH, taxes[0].id, self.env._('Tax of its rate'))
        return None  # several rates: an Odoo group tax, matched by its children or created

    @api.model
    def _qbo_group_kind(self, use, tax_ids):
        return 'group:%s:%s' % (use, ','.join(str(i) for i in sorted(tax_ids)))

    @api.model
    def _qbo_remote(self, values, state):
        rate_ids = values['sale_rate_ids'] or values['purchase_rate_ids']
        taxes = self._qbo_side_taxes(rate_ids, values['use'], state) or []
        return {'ref': values['qbo_id'], 'key': None, 'names': matcher.name_keys(values['name']),
                'kind': self._qbo_group_kind(values['use'], [t.id for t in taxes])}

    @api.model
    def _qbo_odoo_candidates(self, state):
        groups = self.env['account.tax'].with_context(active_test=False).search_fetch(
            self.env['account.tax']._check_company_domain(state['company'])
            + [('amount_type', '=', 'group'), ('type_tax_use', 'in', ('sale', 'purchase'))],
            ['name', 'type_tax_use', 'children_tax_ids'])
        return [{'ref': g.id, 'key': None, 'names': matcher.name_keys(g.name),
                 'kind': self._qbo_group_kind(g.type_tax_use, g.children_tax_ids.ids), 'label': g.name}
                for g in groups]

    @api.model
    def _qbo_group_values(self, values, use, taxes, state):
        """Return the values of an Odoo group tax of ``taxes`` (the code's rates on one side)."""
        return {
            'name': self._qbo_unique_tax_name(state, use, values['name']),
            'amount_type': 'group',
            'amount': 0.0,
            'type_tax_use': use,
            'price_include_override': 'tax_excluded',
            'company_id': self._qbo_tax_company(state).id,
            'tax_group_id': taxes[0].tax_group_id.id,
            'active': values['active'],
            'children_tax_ids': [Command.set([t.id for t in taxes])],
        }

    @api.model
    def _qbo_odoo_create_values(self, values, state):
        rate_ids = values['sale_rate_ids'] or values['purchase_rate_ids']
        taxes = self._qbo_side_taxes(rate_ids, values['use'], state)
        if not taxes or len(taxes) < 2:
            raise UserError(self.env._(
                'The QuickBooks tax code "%s" has no set of linked rates to build an Odoo tax from; '
                'link it to the Odoo tax to use instead.', values['name']))
        return self._qbo_group_values(values, values['use'], taxes, state)

    @api.model
    def _qbo_after_page(self, values_list, state):
        """Give codes used on both sides their purchase tax (its rate's, or a purchase group of them)."""
        both = [v for v in values_list if v['sale_rate_ids'] and v['purchase_rate_ids'] and not v['deleted']]
        if not both:
            return
        mappings = self.with_context(active_test=False).search(
            self._qbo_domain(state['connection']) + [('qbo_id', 'in', [v['qbo_id'] for v in both])])
        by_qbo_id = {m.qbo_id: m for m in mappings}
        groups = {c['kind']: c['ref'] for c in self._qbo_odoo_candidates(state)}
        model = self.env['account.tax'].with_context(**qbo_mapped_mixin.SYNC_CONTEXT)
        for values in both:
            mapping = by_qbo_id.get(values['qbo_id'])
            taxes = self._qbo_side_taxes(values['purchase_rate_ids'], 'purchase', state)
            if not mapping or not taxes:
                continue
            if len(taxes) == 1:
                tax_id = taxes[0].id
            else:
                kind = self._qbo_group_kind('purchase', [t.id for t in taxes])
                tax_id = groups.get(kind)
                if not tax_id:
                    try:
                        with self.env.cr.savepoint():
                            tax_id = model.create(self._qbo_group_values(values, 'purchase', taxes, state)).id
                    except Exception as error:  # noqa: BLE001 - the sales side stays; this side is reported
                        mapping.with_context(**qbo_mapped_mixin.SYNC_CONTEXT).write({
                            'match_state': 'conflict', 'match_note': self.env._(
                                'Its purchase tax could not be made: %s', plain_words(self.env, error))})
                        continue
                groups[kind] = tax_id
            if mapping.purchase_tax_id.id != tax_id:
                mapping.with_context(**qbo_mapped_mixin.SYNC_CONTEXT).purchase_tax_id = tax_id

    @api.model
    def _qbo_odoo_update_values(self, mapping, changed, values, state):
        # A one-rate code is its rate's tax: the rate names it. A group takes the code's name.
        if 'name' in changed and mapping.tax_id.amount_type == 'group':
            return {'name': self._qbo_unique_tax_name(state, mapping.tax_id.type_tax_use, changed['name'],
                                                      mapping.tax_id.name)}
        return {}

    @api.model
    def _qbo_update(self, mapping, values, state):
        """Keep the code's Odoo tax the one its rates give, whatever the rates became in QBO."""
        res = super()._qbo_update(mapping, values, state)
        if values['deleted'] or mapping.match_state in ('conflict', 'error'):
            return res
        sync = qbo_mapped_mixin.SYNC_CONTEXT
        decision = self._qbo_direct_link(values, state)
        if decision is not None:
            # One rate, none, or rates not linked yet: the link follows, or waits with the reason.
            state_of = {matcher.MATCH: 'matched', matcher.NOT_NEEDED: 'not_needed'}
            if decision.local != (mapping.tax_id.id or False) or decision.action not in state_of:
                mapping.with_context(**sync).write({
                    'tax_id': decision.local or False,
                    'match_state': state_of.get(decision.action, 'unmatched'),
                    'match_note': decision.reason})
            return res
        rate_ids = values['sale_rate_ids'] or values['purchase_rate_ids']
        taxes = self._qbo_side_taxes(rate_ids, values['use'], state)
        wanted = {t.id for t in taxes}
        group = mapping.tax_id
        if group.amount_type == 'group' and set(group.children_tax_ids.ids) == wanted:
            return res
        if group.amount_type == 'group' and self._qbo_odoo_owned(group, state):
            self._qbo_log_changes(mapping, group, {'children_tax_ids': [Command.set(list(wanted))]}, state)
            group.with_context(**sync).children_tax_ids = [Command.set(list(wanted))]
            return res
        # It was one rate's tax (or a group shared with others): the group of its rates now.
        kind = self._qbo_group_kind(values['use'], list(wanted))
        found = [c['ref'] for c in self._qbo_odoo_candidates(state) if c['kind'] == kind]
        if len(found) == 1:
            mapping.with_context(**sync).write({'tax_id': found[0], 'match_state': 'matched',
                                                'match_note': self.env._('Group tax of its rates')})
            return res
        with self.env.cr.savepoint():
            new = self.env['account.tax'].with_context(**sync).create(
                self._qbo_group_values(values, values['use'], taxes, state))
        mapping.with_context(**sync).write({'tax_id': new.id, 'match_state': 'created',
                                            'match_note': self.env._('Created from QuickBooks')})
        return res
