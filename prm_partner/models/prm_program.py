from odoo import api, fields, models
from odoo.exceptions import ValidationError


class PrmProgram(models.Model):
    """A partner program (reseller, referral, ...) with its own ordered tiers."""

    _name = "prm.program"
    _description = "Partner Program"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "sequence, name, id"

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(default=10)
    program_type = fields.Selection(
        [
            ("reseller", "Reseller"),
            ("referral", "Referral / Affiliate"),
            ("services", "Implementation / Services"),
            ("technology", "Technology / Co-development"),
            ("other", "Other"),
        ],
        string="Type",
        required=True,
        default="reseller",
        tracking=True,
    )
    description = fields.Html(translate=True)
    objectives = fields.Html(
        translate=True,
        help="What the company expects from the partners of this program.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        index="btree_not_null",
        tracking=True,
    )
    company_id = fields.Many2one(
        "res.company",
        default=lambda self: self.env.company,
        index=True,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    active = fields.Boolean(default=True, tracking=True)
    is_published = fields.Boolean(
        "Published on the portal",
        index=True,
        tracking=True,
        help="Published programs are presented to partners on the portal.",
    )
    color = fields.Integer()
    tier_ids = fields.One2many("prm.tier", "program_id", string="Tiers", copy=True)
    membership_ids = fields.One2many("prm.membership", "program_id")
    certification_ids = fields.Many2many(
        "prm.certification",
        "prm_certification_program_rel",
        "program_id",
        "certification_id",
        string="Certifications",
    )
    demotion_grace_days = fields.Integer(
        "Demotion grace period (days)",
        default=30,
        help="A membership that no longer meets its tier keeps it this many days "
        "(flagged at risk) before it is demoted.",
    )
    tier_count = fields.Integer(compute="_compute_counts")
    membership_count = fields.Integer(compute="_compute_counts")
    active_membership_count = fields.Integer(compute="_compute_counts")

    _sql_constraints = [
        (
            "demotion_grace_days_positive",
            "CHECK(demotion_grace_days >= 0)",
            "The demotion grace period cannot be negative.",
        ),
    ]

    @api.depends("tier_ids", "membership_ids.state")
    def _compute_counts(self):
        memberships = self.env["prm.membership"]._read_group(
            [("program_id", "in", self.ids)], ["program_id", "state"], ["__count"]
        )
        totals, actives = {}, {}
        for program, state, count in memberships:
            totals[program] = totals.get(program, 0) + count
            if state == "active":
                actives[program] = count
        tiers = dict(
            self.env["prm.tier"]._read_group(
                [("program_id", "in", self.ids)], ["program_id"], ["__count"]
            )
        )
        for program in self:
            program.membership_count = totals.get(program, 0)
            program.active_membership_count = actives.get(program, 0)
            program.tier_count = tiers.get(program, 0)

    def action_evaluate_tiers(self):
        """Button: evaluate every active membership of these programs now."""
        self._prm_check_internal()
        memberships = self.env["prm.membership"].search(
            [("program_id", "in", self.ids), ("state", "=", "active")]
        )
        return memberships.action_evaluate_tiers()

    def action_view_memberships(self):
        self._prm_check_internal()
        self.ensure_one()
        return self.env["ir.actions.act_window"]._prm_action(
            "prm_partner.prm_membership_action",
            [("program_id", "=", self.id)],
            {"default_program_id": self.id},
        )

    # ------------------------------------------------------------------
    # RECRUITMENT
    # ------------------------------------------------------------------
    qualification_criterion_ids = fields.One2many(
        "prm.qualification.criterion",
        "program_id",
        string="Qualification criteria",
        groups="prm_partner.group_prm_user",
    )
    min_qualification_score = fields.Float(
        "Minimum qualification score",
        help="Weighted score (0-100) an application needs to be approved, unless a "
        "manager waives it.",
        groups="prm_partner.group_prm_user",
    )
    onboarding_template_ids = fields.One2many(
        "prm.onboarding.template",
        "program_id",
        string="Onboarding templates",
        groups="prm_partner.group_prm_user",
    )
    application_ids = fields.One2many(
        "prm.application", "program_id", groups="prm_partner.group_prm_user"
    )
    application_count = fields.Integer(
        compute="_compute_application_count", groups="prm_partner.group_prm_user"
    )
    recruitment_url = fields.Char("Public page", compute="_compute_recruitment_url")

    @api.depends("application_ids")
    def _compute_application_count(self):
        counts = dict(
            self.env["prm.application"]._read_group(
                [("program_id", "in", self.ids)], ["program_id"], ["__count"]
            )
        )
        for program in self:
            program.application_count = counts.get(program, 0)

    def _compute_recruitment_url(self):
        for program in self:
            program.recruitment_url = (
                f"{program.get_base_url()}/partners/programs/{program.id}"
                if program.id
                else False
            )

    @api.constrains("min_qualification_score")
    def _check_min_qualification_score(self):
        for program in self:
            if not 0 <= program.min_qualification_score <= 100:
                raise ValidationError(
                    self.env._(
                        "Program %(program)s: the minimum qualification score is "
                        "between 0 and 100.",
                        program=program.name,
                    )
                )

    def action_view_applications(self):
        self._prm_check_internal()
        self.ensure_one()
        return self.env["ir.actions.act_window"]._prm_action(
            "prm_partner.prm_application_action",
            [("program_id", "=", self.id)],
            {"default_program_id": self.id},
        )
