from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError


class CrmLeadPrmForward(models.TransientModel):
    """Forward one lead to a chosen partner by hand: as an offer with a deadline,
    or assigned at once."""

    _name = "crm.lead.prm.forward"
    _description = "Forward a lead to a partner"

    lead_id = fields.Many2one("crm.lead", required=True, ondelete="cascade")
    membership_id = fields.Many2one(
        "prm.membership",
        string="Partner",
        required=True,
        domain="[('state', '=', 'active')]",
    )
    lead_load = fields.Integer(related="membership_id.lead_load")
    lead_capacity = fields.Integer(related="membership_id.lead_capacity")
    mode = fields.Selection(
        [("offer", "Offer with a deadline"), ("assign", "Assign at once")],
        default="offer",
        required=True,
    )
    deadline_hours = fields.Integer("Deadline (hours)", default=48)

    @api.constrains("deadline_hours")
    def _check_deadline(self):
        for wizard in self:
            if wizard.mode == "offer" and wizard.deadline_hours <= 0:
                raise UserError(self.env._("The deadline must be at least one hour."))

    def action_forward(self):
        self.ensure_one()
        lead, membership = self.lead_id, self.membership_id
        if lead.partner_assigned_id:
            raise UserError(
                self.env._(
                    "%(lead)s is already assigned to %(partner)s.",
                    lead=lead.name,
                    partner=lead.partner_assigned_id.name,
                )
            )
        if membership.partner_id in lead.prm_offer_ids.partner_id:
            raise UserError(
                self.env._(
                    "%(lead)s was already offered to %(partner)s.",
                    lead=lead.name,
                    partner=membership.partner_id.name,
                )
            )
        if not membership._prm_lock_for_assignment():
            raise UserError(
                self.env._("The lead distribution is running: try again in a moment.")
            )
        lead.prm_offer_ids.action_withdraw()
        now = fields.Datetime.now()
        offer = self.env["prm.lead.offer"].create(
            {
                "lead_id": lead.id,
                "partner_id": membership.partner_id.id,
                "membership_id": membership.id,
                "date_offered": now,
                "date_deadline": now + timedelta(hours=max(self.deadline_hours, 1)),
            }
        )
        lead.prm_fallback = False
        if self.mode == "assign":
            offer.action_accept()
        else:
            offer._notify_offered()
        return {"type": "ir.actions.act_window_close"}
