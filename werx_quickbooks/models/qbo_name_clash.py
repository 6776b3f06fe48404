"""Names QuickBooks refused for a contact (6240): who holds the name there, and what the user decides."""

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..qbo import partners

ENTITIES = [('Customer', 'Customer'), ('Vendor', 'Vendor')]


class QBONameClash(models.Model):
    """A contact QuickBooks refused for its name: the record holding the name, and what the user decides."""

    _name = 'qbo.name.clash'
    _description = 'QuickBooks name already in use'
    _order = 'id desc'
    _check_company_auto = True

    connection_id = fields.Many2one('qbo.connection', required=True, index=True, ondelete='cascade',
                                    readonly=True)
    company_id = fields.Many2one(related='connection_id.company_id', store=True, index=True)
    realm_id = fields.Char('QuickBooks Company ID', required=True, readonly=True)
    partner_id = fields.Many2one('res.partner', string='Odoo Contact', required=True, index=True,
                                 ondelete='cascade', readonly=True)
    entity = fields.Selection(ENTITIES, string='Sent As', required=True, readonly=True)
    name = fields.Char('Name Refused', required=True, readonly=True)
    holder_entity = fields.Selection(ENTITIES + [('Employee', 'Employee')], string='Name Used By',
                                     readonly=True)
    holder_qbo_id = fields.Char('QuickBooks ID of the Holder', readonly=True)
    holder_name = fields.Char('Holder in QuickBooks', readonly=True)
    holder_active = fields.Boolean(readonly=True)
    holder_partner_id = fields.Many2one('res.partner', string='Holder in Odoo', readonly=True)
    can_link = fields.Boolean(compute='_compute_can_link',
                              help='The name is held by a record of the same kind that no Odoo contact has.')
    state = fields.Selection([('open', 'To Resolve'), ('resolved', 'Resolved')], required=True,
                             default='open', index=True, readonly=True)
    send_as = fields.Char(help='The name to send this contact under instead.')
    link_requested = fields.Boolean(readonly=True, copy=False,
                                    help='Link was asked for; the next sync links it (a background worker).')
    message = fields.Char('Why Not', readonly=True, help='Why what was asked for could not be done.')

    _sql_constraints = [
        ('clash_unique', 'unique(connection_id, realm_id, partner_id, entity)',
         'A contact has one name clash per kind of QuickBooks record.'),
    ]

    @api.depends('entity', 'holder_entity', 'holder_partner_id')
    def _compute_can_link(self):
        for clash in self:
            clash.can_link = clash.entity == clash.holder_entity and bool(clash.holder_qbo_id) \
                and not clash.holder_partner_id

    @api.model
    def _qbo_open(self, connection, partner, entity, name, holders):
        """Record (or re-open) the clash of ``partner`` with the records that hold ``name``."""
        holder_entity, holder = next(((e, o) for e, o in holders if e == entity), holders[0] if holders else
                                     (False, {}))
        holder_partner = self.env['res.partner']
        if holder_entity in ('Customer', 'Vendor') and holder.get('Id'):
            Mapping = self.env['qbo.%s' % holder_entity.lower()]
            holder_partner = Mapping.search(Mapping._qbo_domain(connection)
                                            + [('qbo_id', '=', str(holder['Id']))], limit=1).partner_id
        vals = {'name': name, 'state': 'open', 'send_as': False, 'holder_entity': holder_entity,
                'holder_qbo_id': str(holder.get('Id') or '') or False,
                'holder_name': holder.get('DisplayName') or False,
                'holder_active': holder.get('Active', True) is not False,
                'holder_partner_id': holder_partner.id}
        clash = self.search([('connection_id', '=', connection.id), ('realm_id', '=', connection.realm_id),
                             ('partner_id', '=', partner.id), ('entity', '=', entity)])
        if clash:
            clash.write(vals)
        else:
            clash = self.create(dict(vals, connection_id=connection.id, realm_id=connection.realm_id,
                                     partner_id=partner.id, entity=entity))
        return clash

    def action_resolve(self):
        """Open the clash: who holds the name in QuickBooks, and the ways out."""
        self.ensure_one()
        if not self.send_as:
            self.send_as = partners.unique_display_name(self.name, '(%s)' % (self.partner_id.ref
                                                                            or self.partner_id.id))
        return {'type': 'ir.actions.act_window', 'name': self.env._('Resolve a name clash'),
                'res_model': self._name, 'res_id': self.id, 'view_mode': 'form', 'views': [(False, 'form')],
                'target': 'new'}

    def action_send_as(self):
        """Send the contact under the name the user gave, with the next sync (started now)."""
        self.ensure_one()
        self.connection_id._qbo_check_admin()
        name = partners.clean_display_name(self.send_as or '')
        if not name or name == partners.clean_display_name(self.name):
            raise UserError(self.env._('Give the name to send "%s" under: one QuickBooks does not use yet.',
                                       self.partner_id.display_name))
        self.sudo().write({'send_as': name, 'state': 'resolved'})
        self.connection_id.action_sync()
        return {'type': 'ir.actions.act_window_close'}

    def action_link(self):
        """Link the contact to the QuickBooks record of the same kind that holds the name, with a sync now.

        The link is made by the sync, under its lock, with QuickBooks' record read again then:
        never beside a running sync, never onto a record another contact took meanwhile.
        """
        self.ensure_one()
        connection = self.connection_id
        connection._qbo_check_admin()
        self.env['qbo.%s' % self.entity.lower()]._qbo_check_odoo_rights()
        if not self.can_link:
            raise UserError(self.env._('%(name)s is used in QuickBooks by a record this contact cannot be '
                                       'linked to; send it under another name.', name=self.name))
        self.sudo().write({'link_requested': True, 'message': False})
        connection.action_sync()
        return {'type': 'ir.actions.act_window_close'}
