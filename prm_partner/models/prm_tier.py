from itertools import pairwise

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.safe_eval import safe_eval

# criteria compared between consecutive tiers: each must not decrease with the sequence
TIER_THRESHOLDS = (
    "min_won_revenue",
    "min_won_deals",
    "min_certified_people",
    "min_satisfaction",
)


class PrmTier(models.Model):
    """A level of a partner program, earned from criteria, giving benefits."""

    _name = "prm.tier"
    _description = "Partner Tier"
    _order = "program_id, sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10, help="Higher tiers come later.")
    color = fields.Integer()
    program_id = fields.Many2one(
        "prm.program", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        related="program_id.company_id", store=True, index=True
    )
    currency_id = fields.Many2one(related="program_id.currency_id")
    active = fields.Boolean(default=True)

    # ---- criteria ----
    window_months = fields.Integer(
        "Trailing window (months)",
        default=12,
        required=True,
        help="Won revenue and won deals are measured over this many past months.",
    )
    min_won_revenue = fields.Monetary("Minimum won revenue")
    min_won_deals = fields.Integer("Minimum won deals")
    min_certified_people = fields.Integer(
        "Minimum certified people",
        help="Distinct people of the partner holding a valid certification "
        "among the required certifications (any certification when empty).",
    )
    certification_ids = fields.Many2many(
        "prm.certification",
        "prm_tier_certification_rel",
        "tier_id",
        "certification_id",
        string="Counted certifications",
    )
    min_satisfaction = fields.Float(
        "Minimum customer satisfaction",
        help="Mean customer satisfaction score (0-10) of the partner's won deals; "
        "0 disables this criterion.",
    )
    partner_domain = fields.Char(
        "Extra partner condition",
        help="Optional domain the partner company must match to reach this tier.",
        groups="prm_partner.group_prm_user",
    )

    # ---- benefits ----
    discount_percent = fields.Float("Discount (%)")
    commission_percent = fields.Float("Commission (%)")
    lead_weight = fields.Integer(
        "Lead distribution weight",
        default=1,
        help="Relative share of distributed leads; 0 means never offered leads.",
        groups="prm_partner.group_prm_user",
    )
    mdf_budget = fields.Monetary(
        "Yearly MDF budget", help="Yearly market development fund budget."
    )
    benefit_text = fields.Html(
        "Benefits", translate=True, help="Shown to partners in the portal."
    )
    membership_count = fields.Integer(compute="_compute_membership_count")

    _sql_constraints = [
        (
            "discount_percent_range",
            "CHECK(discount_percent >= 0 AND discount_percent <= 100)",
            "The discount must be between 0 and 100%.",
        ),
        (
            "commission_percent_range",
            "CHECK(commission_percent >= 0 AND commission_percent <= 100)",
            "The commission must be between 0 and 100%.",
        ),
    ]

    def _compute_membership_count(self):
        counts = dict(
            self.env["prm.membership"]._read_group(
                [("tier_id", "in", self.ids)], ["tier_id"], ["__count"]
            )
        )
        for tier in self:
            tier.membership_count = counts.get(tier, 0)

    @api.constrains("discount_percent", "commission_percent")
    def _check_percentages(self):
        for tier in self:
            for value in (tier.discount_percent, tier.commission_percent):
                if not 0 <= value <= 100:
                    raise ValidationError(
                        self.env._(
                            "Tier %(tier)s: discount and commission must be "
                            "between 0 and 100%%.",
                            tier=tier.name,
                        )
                    )

    @api.constrains(
        "window_months",
        "min_won_revenue",
        "min_won_deals",
        "min_certified_people",
        "min_satisfaction",
        "lead_weight",
        "mdf_budget",
    )
    def _check_positive(self):
        for tier in self:
            if tier.window_months < 1:
                raise ValidationError(
                    self.env._(
                        "Tier %(tier)s: the trailing window must be at least "
                        "one month.",
                        tier=tier.name,
                    )
                )
            values = (
                tier.min_won_revenue,
                tier.min_won_deals,
                tier.min_certified_people,
                tier.lead_weight,
                tier.mdf_budget,
            )
            if any(value < 0 for value in values):
                raise ValidationError(
                    self.env._(
                        "Tier %(tier)s: criteria and benefits cannot be negative.",
                        tier=tier.name,
                    )
                )
            if not 0 <= tier.min_satisfaction <= 10:
                raise ValidationError(
                    self.env._(
                        "Tier %(tier)s: the minimum satisfaction is a score "
                        "from 0 to 10.",
                        tier=tier.name,
                    )
                )

    @api.constrains("partner_domain")
    def _check_partner_domain(self):
        for tier in self.filtered("partner_domain"):
            try:
                domain = safe_eval(tier.partner_domain)
                self.env["res.partner"].search_count(domain, limit=1)
            except Exception as error:
                raise ValidationError(
                    self.env._(
                        "Tier %(tier)s: the extra partner condition is not a valid "
                        "domain (%(error)s).",
                        tier=tier.name,
                        error=error,
                    )
                ) from error

    @api.constrains("sequence", "program_id", *TIER_THRESHOLDS)
    def _check_thresholds_rise(self):
        for program in self.program_id:
            tiers = program.tier_ids.sorted(lambda t: (t.sequence, t.id))
            for lower, higher in pairwise(tiers):
                lowered = [f for f in TIER_THRESHOLDS if higher[f] < lower[f]]
                if lowered or all(higher[f] == lower[f] for f in TIER_THRESHOLDS):
                    raise ValidationError(
                        self.env._(
                            "In program %(program)s, tier %(higher)s comes after "
                            "%(lower)s, so its thresholds must rise: none may be "
                            "lower and at least one must be higher.",
                            program=program.name,
                            higher=higher.name,
                            lower=lower.name,
                        )
                    )

    def _partner_domain(self):
        self.ensure_one()
        return safe_eval(self.partner_domain) if self.partner_domain else []
