"""QBO terms <-> account.payment.term."""

from odoo import Command, api, fields, models

from ..qbo import mappers, matcher
from . import qbo_mapped_mixin


def _signature(line, early, percent, days):
    """Return what makes two payment terms the same in practice: due rule and early discount."""
    return '%s:%s:%s|%s' % (
        line['delay_type'], line.get('nb_days') or 0,
        line.get('days_next_month') if line['delay_type'] == 'days_end_of_month_on_the' else '',
        '%.2f:%s' % (percent, days) if early else '')


class QBOTerm(models.Model):
    _name = 'qbo.term'
    _inherit = 'qbo.mapped.mixin'
    _description = 'QuickBooks term'

    _qbo_entity = 'Term'
    _qbo_label = 'Terms'
    _qbo_odoo_field = 'payment_term_id'
    _qbo_sync_sequence = 20
    # One Odoo term with the same due rule and discount is the QBO term, whatever its name.
    _qbo_kind_exact = True

    payment_term_id = fields.Many2one('account.payment.term', string='Odoo Payment Term', index=True,
                                      ondelete='set null', check_company=True)
    term_type = fields.Selection([('standard', 'Days after the invoice'), ('date_driven', 'Day of month')],
                                 string='Due Rule', readonly=True)
    due_days = fields.Integer('Due After (Days)', readonly=True)
    day_of_month_due = fields.Integer('Due on Day of Month', readonly=True)
    due_next_month_days = fields.Integer(
        'Next Month If Issued Within (Days)', readonly=True,
        help='An invoice issued this many days or fewer before the due day is due the month after.')
    discount_percent = fields.Float('Early Discount (%)', readonly=True)
    discount_days = fields.Integer('Early Discount Within (Days)', readonly=True)

    _sql_constraints = [
        ('payment_term_unique', 'unique(connection_id, realm_id, payment_term_id)',
         'This Odoo payment term is already linked to another QuickBooks term.'),
    ]

    @api.model
    def _qbo_map(self, obj, state):
        return mappers.map_term(obj)

    @api.model
    def _qbo_mapping_values(self, values, state):
        vals = super()._qbo_mapping_values(values, state)
        vals.update({
            'term_type': values['term_type'],
            'due_days': values['due_days'] or 0,
            'day_of_month_due': values['day_of_month_due'] or 0,
            'due_next_month_days': values['due_next_month_days'] or 0,
            'discount_percent': values['discount_percent'],
            'discount_days': values['discount_days'],
        })
        return vals

    @api.model
    def _qbo_direct_link(self, values, state):
        if values['review']:
            # Matching it on its due rule alone would drop what Odoo cannot express.
            return matcher.Decision(matcher.UNMATCHED, None, self.env._(
                'Waits for you: %s. Link the Odoo term to use, or Create in Odoo (without that discount).',
                values['review']))
        return None

    @api.model
    def _qbo_update(self, mapping, values, state):
        old = mapping.qbo_followed or {}
        res = super()._qbo_update(mapping, values, state)
        if old and values.get('review') and old.get('review') != values['review'] and mapping.payment_term_id:
            # QBO's new rule cannot be followed exactly: the Odoo term keeps its rule, the user decides.
            mapping.with_context(**qbo_mapped_mixin.SYNC_CONTEXT).write({
                'match_state': 'conflict', 'match_note': self.env._(
                    'QuickBooks changed its rule; %s, so the Odoo term keeps its rule for now.',
                    values['review'])})
        return res

    @api.model
    def _qbo_followed_values(self, values, state):
        return {'name': values['name'], 'review': values['review'],
                'line': values['line'], 'early_discount': values['early_discount'],
                'discount_percentage': values['discount_percent'] if values['early_discount'] else 0.0,
                'discount_days': values['discount_days'] if values['early_discount'] else 0}

    @api.model
    def _qbo_remote(self, values, state):
        kind = _signature(values['line'], values['early_discount'], values['discount_percent'],
                          values['discount_days'])
        return {'ref': values['qbo_id'], 'key': None, 'names': matcher.name_keys(values['name']),
                'kind': kind}

    @api.model
    def _qbo_odoo_candidates(self, state):
        terms = self.env['account.payment.term'].search(
            self.env['account.payment.term']._check_company_domain(state['company']))
        lines = self.env['account.payment.term.line'].search_read(
            [('payment_id', 'in', terms.ids)],
            ['payment_id', 'value', 'value_amount', 'delay_type', 'nb_days', 'days_next_month'], load=None)
        by_term = {}
        for line in lines:
            by_term.setdefault(line['payment_id'], []).append(line)
        candidates = []
        for term in terms:
            term_lines = by_term.get(term.id, [])
            if len(term_lines) == 1 and term_lines[0]['value'] == 'percent':
                kind = _signature(term_lines[0], term.early_discount, term.discount_percentage,
                                  term.discount_days)
            else:
                kind = 'several lines:%s' % term.id  # never the same as a QBO term
            candidates.append({'ref': term.id, 'key': None, 'names': matcher.name_keys(term.name),
                               'kind': kind, 'label': term.name})
        return candidates

    @api.model
    def _qbo_odoo_create_values(self, values, state):
        followed = self._qbo_followed_values(values, state)
        return {
            'name': values['name'],
            'company_id': state['company'].id,
            'active': values['active'],
            'line_ids': [Command.create(values['line'])],
            'early_discount': followed['early_discount'],
            'discount_percentage': followed['discount_percentage'],
            'discount_days': followed['discount_days'],
        }

    @api.model
    def _qbo_hold_changes(self, record, odoo_vals, values, state):
        """A new rule Odoo cannot follow exactly waits for review instead of a near rule."""
        rule = {'line_ids', 'early_discount', 'discount_percentage', 'discount_days'} & set(odoo_vals)
        if not values['review'] or not rule:
            return {}
        reason = self.env._('QuickBooks changed its rule; %s, so the Odoo term keeps its rule for now.',
                            values['review'])
        return dict.fromkeys(rule, reason)

    @api.model
    def _qbo_odoo_update_values(self, mapping, changed, values, state):
        vals = dict(changed)
        vals.pop('review', None)
        if 'line' in vals:
            vals['line_ids'] = [Command.clear(), Command.create(vals.pop('line'))]
        return vals
