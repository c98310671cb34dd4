from odoo import api, fields, models
from odoo.exceptions import ValidationError


class PrmPartnerCost(models.Model):
    """A cost of the channel for one membership in one period (market development
    funds, program fees, other). Commissions are not entered here: they are
    computed from the won revenue and the effective commission rate."""

    _name = "prm.partner.cost"
    _description = "Partner Cost"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"

    name = fields.Char("Description", required=True, tracking=True)
    membership_id = fields.Many2one(
        "prm.membership",
        required=True,
        index=True,
        ondelete="cascade",
        tracking=True,
    )
    partner_id = fields.Many2one(
        related="membership_id.partner_id", store=True, index=True
    )
    program_id = fields.Many2one(
        related="membership_id.program_id", store=True, index=True
    )
    company_id = fields.Many2one(
        related="membership_id.company_id", store=True, index=True
    )
    currency_id = fields.Many2one(related="membership_id.currency_id")
    cost_type = fields.Selection(
        [
            ("mdf", "Market development funds"),
            ("fee", "Program costs"),
            ("other", "Other"),
        ],
        string="Type",
        required=True,
        default="mdf",
        tracking=True,
    )
    date = fields.Date(
        required=True, default=fields.Date.context_today, index=True, tracking=True
    )
    amount = fields.Monetary(required=True, tracking=True)
    notes = fields.Text()

    @api.constrains("amount")
    def _check_amount(self):
        for cost in self:
            if cost.amount <= 0:
                raise ValidationError(
                    self.env._(
                        "The cost %(cost)s must have a positive amount.",
                        cost=cost.name,
                    )
                )
