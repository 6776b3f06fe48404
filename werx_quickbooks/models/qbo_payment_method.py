"""QBO payment methods <-> a payment method line on the journal their payments go to."""

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..qbo import mappers, matcher
from . import qbo_mapped_mixin  # noqa: F401 - the mixin's model is defined before the lists'


class QBOPaymentMethod(models.Model):
    _name = 'qbo.payment.method'
    _inherit = 'qbo.mapped.mixin'
    _description = 'QuickBooks payment method'

    _qbo_entity = 'PaymentMethod'
    _qbo_label = 'Payment Methods'
    _qbo_odoo_field = 'payment_method_line_id'
    _qbo_sync_sequence = 50

    payment_method_line_id = fields.Many2one('account.payment.method.line', string='Odoo Payment Method',
                                             index=True, ondelete='set null')
    journal_id = fields.Many2one(
        'account.journal', compute='_compute_journal_id', inverse='_inverse_journal_id',
        groups='account.group_account_readonly,account.group_account_invoice',
        domain="[('type', 'in', ('bank', 'cash')), ('company_id', '=', company_id)]",
        help='Journal that receives the payments of this method. Changing it moves the Odoo payment method '
             'when no payment uses it yet; otherwise the method gets a new line on that journal and the '
             'payments already made stay where they are.')
    method_type = fields.Selection([('CREDIT_CARD', 'Credit card'), ('NON_CREDIT_CARD', 'Other')],
                                   string='Type', readonly=True)

    _sql_constraints = [
        ('payment_method_line_unique', 'unique(connection_id, realm_id, payment_method_line_id)',
         'This Odoo payment method is already linked to another QuickBooks payment method.'),
    ]

    @api.model
    def _qbo_map(self, obj, state):
        return mappers.map_payment_method(obj)

    @api.model
    def _qbo_mapping_values(self, values, state):
        vals = super()._qbo_mapping_values(values, state)
        vals['method_type'] = values['method_type']
        return vals

    @api.depends('payment_method_line_id.journal_id')
    def _compute_journal_id(self):
        for mapping in self:
            mapping.journal_id = mapping.payment_method_line_id.journal_id

    def _inverse_journal_id(self):
        self._qbo_check_odoo_rights()
        for mapping in self:
            line = mapping.payment_method_line_id
            if not line or not mapping.journal_id or line.journal_id == mapping.journal_id:
                continue
            journal = mapping.journal_id
            if journal.type not in ('bank', 'cash') or journal.company_id != mapping.company_id:
                raise UserError(self.env._(
                    'Payments of "%(method)s" can only go to a bank or cash journal of %(company)s.',
                    method=mapping.name, company=mapping.company_id.name))
            if self.env['account.payment'].sudo().search_count([('payment_method_line_id', '=', line.id)],
                                                                  limit=1):
                # Moving the line would move every payment made with it to the other journal.
                mapping.payment_method_line_id = self.env['account.payment.method.line'].create(
                    mapping._qbo_line_values(mapping.name, mapping.journal_id))
            else:
                line.write(mapping._qbo_line_values(line.name, mapping.journal_id))

    @api.model
    def _qbo_line_values(self, name, journal):
        """Return the values of a payment method line on ``journal``, booked as the journal books payments.

        Its outstanding account is the one of the journal's own manual receipts (none: Odoo
        books the payment when it is matched with the bank statement line), so every payment
        of the journal reaches the bank account the same way, once.
        """
        manual = self.env.ref('account.account_payment_method_manual_in')
        own = journal.inbound_payment_method_line_ids.filtered(
            lambda line: line.payment_method_id == manual)[:1]
        return {
            'name': name,
            'journal_id': journal.id,
            'payment_method_id': manual.id,
            'payment_account_id': own.payment_account_id.id or False,
        }

    @api.model
    def _qbo_journals(self, state):
        """Return {'bank': journal, 'cash': journal}: where payments of each kind go.

        The journals of the QBO bank accounts come first (the lowest account number), then the
        company's other journals, so payments land on an account QuickBooks also has.
        """
        if 'journals' not in state:
            mapped = self.env['qbo.account'].search(
                self.env['qbo.account']._qbo_domain(state['connection']) + [('journal_id', '!=', False)])
            mapped = mapped.sorted(lambda m: (m.acct_num or '~', m.full_name or ''))
            others = self.env['account.journal'].search(
                [('company_id', '=', state['company'].id), ('type', 'in', ('bank', 'cash'))],
                order='sequence, id')
            state['journals'] = {}
            for journal in mapped.journal_id.filtered(lambda j: j.type in ('bank', 'cash')) | others:
                state['journals'].setdefault(journal.type, journal)
        return state['journals']

    @api.model
    def _qbo_odoo_candidates(self, state):
        lines = self.env['account.payment.method.line'].search_fetch(
            [('journal_id.company_id', '=', state['company'].id), ('journal_id.type', 'in', ('bank', 'cash')),
             ('payment_type', '=', 'inbound')], ['name', 'journal_id'])
        return [{'ref': line.id, 'key': None, 'names': matcher.name_keys(line.name), 'kind': None,
                 'label': '%s (%s)' % (line.name, line.journal_id.name)} for line in lines]

    @api.model
    def _qbo_odoo_create_values(self, values, state):
        journals = self._qbo_journals(state)
        journal = journals.get(values['journal_type']) or journals.get('bank') or journals.get('cash')
        if not journal:
            raise UserError(self.env._('The company has no bank or cash journal to receive "%s" payments.',
                                       values['name']))
        return self._qbo_line_values(values['name'], journal)

    @api.model
    def _qbo_odoo_set_active(self, records, active):
        # Payment method lines cannot be archived; the mapping is, and the line stays for history.
        return
