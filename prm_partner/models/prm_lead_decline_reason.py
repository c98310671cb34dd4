from odoo import fields, models


class PrmLeadDeclineReason(models.Model):
    """Why a partner declines a lead offer (configurable list)."""

    _name = "prm.lead.decline.reason"
    _description = "Lead Offer Decline Reason"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    offer_count = fields.Integer(compute="_compute_offer_count")

    def _compute_offer_count(self):
        counts = dict(
            self.env["prm.lead.offer"]._read_group(
                [("decline_reason_id", "in", self.ids)],
                ["decline_reason_id"],
                ["__count"],
            )
        )
        for reason in self:
            reason.offer_count = counts.get(reason, 0)
