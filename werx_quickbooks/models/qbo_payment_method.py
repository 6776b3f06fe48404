"""QBO payment methods <-> a payment method line on the journal their payments go to."""

from odoo import api, fields, models

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
    journal_id = fields.Many2one(related='payment_method_line_id.journal_id', readonly=False,
                                 domain="[('type', 'in', ('bank', 'cash')), ('company_id', '=', company_id)]",
                                 help='Journal that receives the payments of this method; change it here to '
                                      'move the payment method to another journal.')
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

    @api.model
    def _qbo_journals(self, state):
        """Return {'bank': journal, 'cash': journal}: the company's first journal of each type."""
        if 'journals' not in state:
            journals = self.env['account.journal'].search(
                [('company_id', '=', state['company'].id), ('type', 'in', ('bank', 'cash'))],
                order='sequence, id')
            state['journals'] = {}
            for journal in journals:
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
            raise ValueError('The company has no bank or cash journal to receive "%s" payments.'
                             % values['name'])
        return {
            'name': values['name'],
            'journal_id': journal.id,
            'payment_method_id': self.env.ref('account.account_payment_method_manual_in').id,
        }

    @api.model
    def _qbo_odoo_set_active(self, records, active):
        # Payment method lines cannot be archived; the mapping is, and the line stays for history.
        return
