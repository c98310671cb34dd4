from odoo import fields, models


class PrmMembershipTierLock(models.TransientModel):
    """Set a membership's tier by hand, with a reason, and lock it."""

    _name = "prm.membership.tier.lock"
    _description = "Set a partner tier by hand"

    membership_id = fields.Many2one("prm.membership", required=True)
    program_id = fields.Many2one(related="membership_id.program_id")
    tier_id = fields.Many2one(
        "prm.tier", required=True, domain="[('program_id', '=', program_id)]"
    )
    reason = fields.Text(required=True)
    lock = fields.Boolean(
        "Lock the tier",
        default=True,
        help="Keep this tier until unlocked: automatic evaluation skips it.",
    )

    def action_apply(self):
        self.ensure_one()
        self.membership_id._set_tier_manually(self.tier_id, self.reason, lock=self.lock)
        return {"type": "ir.actions.act_window_close"}
