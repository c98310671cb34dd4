from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import format_amount


class PrmTierHistory(models.Model):
    """One tier change of a membership, with the measures behind it."""

    _name = "prm.tier.history"
    _description = "Partner Tier History"
    _order = "date desc, id desc"

    membership_id = fields.Many2one(
        "prm.membership", required=True, index=True, ondelete="cascade"
    )
    partner_id = fields.Many2one(
        related="membership_id.partner_id", store=True, index=True, precompute=True
    )
    program_id = fields.Many2one(
        related="membership_id.program_id", store=True, index=True, precompute=True
    )
    company_id = fields.Many2one(
        related="membership_id.company_id", store=True, index=True, precompute=True
    )
    currency_id = fields.Many2one(related="membership_id.currency_id")
    old_tier_id = fields.Many2one("prm.tier", string="From tier", ondelete="set null")
    new_tier_id = fields.Many2one("prm.tier", string="To tier", ondelete="set null")
    date = fields.Date(required=True, default=fields.Date.context_today, index=True)
    kind = fields.Selection(
        [("automatic", "Automatic"), ("manual", "Manual")],
        required=True,
        default="automatic",
    )
    direction = fields.Selection(
        [("promotion", "Promotion"), ("demotion", "Demotion"), ("entry", "Entry")],
        compute="_compute_direction",
        store=True,
        precompute=True,
    )
    won_revenue = fields.Monetary("Measured won revenue")
    won_deals = fields.Integer("Measured won deals")
    certified_people = fields.Integer("Measured certified people")
    satisfaction = fields.Float("Measured satisfaction")
    user_id = fields.Many2one(
        "res.users", string="Changed by", default=lambda self: self.env.user
    )
    reason = fields.Text()

    @api.depends("old_tier_id", "new_tier_id")
    def _compute_direction(self):
        for line in self:
            if not line.old_tier_id:
                line.direction = "entry"
            elif line.new_tier_id.sequence >= line.old_tier_id.sequence:
                line.direction = "promotion"
            else:
                line.direction = "demotion"

    def _post_to_chatter(self):
        """Log each change on its membership's chatter, in one batched create
        (author, reply-to and record names are computed once for all)."""
        if not self:
            return
        subtype = self.env.ref("prm_partner.mt_membership_tier_changed")
        author = self.env.user.partner_id
        memberships = self.membership_id
        reply_to = memberships._notify_get_reply_to()
        self.env["mail.message"].sudo().create(
            [
                {
                    "model": "prm.membership",
                    "res_id": line.membership_id.id,
                    "message_type": "notification",
                    "subtype_id": subtype.id,
                    "author_id": author.id,
                    "email_from": author.email_formatted,
                    "reply_to": reply_to.get(line.membership_id.id),
                    "record_name": line.membership_id.display_name,
                    "body": line._chatter_body(),
                }
                for line in self
            ]
        )

    def _chatter_body(self):
        self.ensure_one()
        if self.kind == "manual":
            detail = self.env._("set by hand: %(reason)s", reason=self.reason or "")
        else:
            detail = self.env._(
                "automatic evaluation: won revenue %(revenue)s, won deals %(deals)s, "
                "certified people %(people)s",
                revenue=format_amount(self.env, self.won_revenue, self.currency_id),
                deals=self.won_deals,
                people=self.certified_people,
            )
        return Markup("<p>%s</p>") % self.env._(
            "Tier %(old)s → %(new)s (%(detail)s)",
            old=self.old_tier_id.name or self.env._("none"),
            new=self.new_tier_id.name,
            detail=detail,
        )
