from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .prm_lead_satisfaction import clean_comment
from .prm_membership import NO_MEDIAN_KPIS, SCORECARD_KPIS

DEFAULT_REVIEW_INTERVAL_MONTHS = 3


class PrmPartnerReview(models.Model):
    """A periodic review of one membership: the KPIs of the period frozen when the
    review is done, strengths, improvements, action items (activities) and the
    partner's acknowledgement given in the portal."""

    _name = "prm.partner.review"
    _description = "Partner Review"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "date desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    membership_id = fields.Many2one(
        "prm.membership", required=True, index=True, ondelete="cascade", tracking=True
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
    date_from = fields.Date(
        "Period from",
        required=True,
        default=lambda self: self.env["prm.membership"]._prm_period("quarter")[0],
    )
    date_to = fields.Date(
        "Period to",
        required=True,
        default=lambda self: (
            self.env["prm.membership"]._prm_period("quarter")[1] - relativedelta(days=1)
        ),
    )
    date = fields.Date(
        "Review date", default=fields.Date.context_today, required=True, tracking=True
    )
    reviewer_id = fields.Many2one(
        "res.users",
        default=lambda self: self.env.user,
        domain="[('share', '=', False)]",
        index="btree_not_null",
        tracking=True,
    )
    state = fields.Selection(
        [("draft", "Draft"), ("done", "Done")],
        default="draft",
        required=True,
        index=True,
        tracking=True,
    )
    # the raw snapshot holds peer data (medians): the partner sees the rendering
    kpi_snapshot = fields.Json(
        "KPI snapshot", readonly=True, copy=False, groups="prm_partner.group_prm_user"
    )
    snapshot_html = fields.Html(
        "Scorecard", compute="_compute_snapshot_html", sanitize=False
    )
    strengths = fields.Html()
    improvements = fields.Html()
    internal_note = fields.Html(
        "Internal notes",
        groups="prm_partner.group_prm_user",
        help="Notes of the reviewers, never shown to the partner.",
    )
    partner_acknowledged = fields.Boolean(readonly=True, tracking=True, copy=False)
    date_acknowledged = fields.Datetime(readonly=True, copy=False)
    partner_comment = fields.Text(readonly=True, copy=False)

    @api.depends("membership_id", "date")
    def _compute_name(self):
        for review in self:
            review.name = self.env._(
                "Review of %(membership)s on %(date)s",
                membership=review.membership_id.display_name or "",
                date=review.date or "",
            )

    @api.depends("kpi_snapshot")
    @api.depends_context("lang")
    def _compute_snapshot_html(self):
        for review in self:
            review.snapshot_html = review.kpi_snapshot and self.env["ir.qweb"]._render(
                "prm_partner.prm_scorecard_content",
                {
                    "card": review._get_display_card(),
                    "currency": review.membership_id.currency_id,
                },
            )

    def _get_display_card(self):
        """The frozen scorecard with its labels in the reader's language."""
        self.ensure_one()
        if not self.kpi_snapshot:
            return False
        labels = {name: self.env._(label) for name, label, _kind in SCORECARD_KPIS}
        card = dict(self.kpi_snapshot)
        # snapshots frozen before the median policy may hold medians of too few
        # peers, or of peers' costs: those are not shown
        policy = card.get("median_policy")
        card["kpis"] = [
            dict(
                kpi,
                label=labels.get(kpi["name"], kpi["label"]),
                median=kpi.get("median")
                if policy and kpi["name"] not in NO_MEDIAN_KPIS
                else None,
            )
            for kpi in card.get("kpis", [])
        ]
        return card

    def _compute_access_url(self):  # pylint: disable=missing-return
        super()._compute_access_url()
        for review in self:
            review.access_url = f"/my/reviews/{review.id}"

    @api.constrains("date_from", "date_to")
    def _check_period(self):
        for review in self:
            if review.date_to < review.date_from:
                raise ValidationError(
                    self.env._("The review period cannot end before it starts.")
                )

    def write(self, vals):
        frozen = {"kpi_snapshot", "date_from", "date_to", "membership_id"}
        if frozen & set(vals) and any(r.state == "done" for r in self):
            if not self.env.context.get("prm_review_freeze"):
                raise UserError(
                    self.env._("A done review is frozen: its period cannot change.")
                )
        return super().write(vals)

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_done(self):
        """Freeze the KPIs of the period, close the review activity and plan the
        next review of the membership."""
        self._prm_check_internal()
        interval = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(
                "prm_partner.review_interval_months", DEFAULT_REVIEW_INTERVAL_MONTHS
            )
        )
        for review in self.filtered(lambda r: r.state == "draft"):
            card = review.membership_id._prm_scorecard(
                review.date_from, review.date_to + relativedelta(days=1)
            )[review.membership_id.id]
            review.with_context(prm_review_freeze=True).write(
                {"kpi_snapshot": card, "state": "done"}
            )
            review.membership_id.date_review_next = review.date + relativedelta(
                months=interval
            )
        self.membership_id.activity_feedback(
            ["prm_partner.mail_activity_type_prm_review"],
            feedback=self.env._("Review done."),
        )
        return True

    def action_reset_draft(self):
        self._prm_check_internal()
        self.filtered(lambda r: not r.partner_acknowledged).with_context(
            prm_review_freeze=True
        ).write({"state": "draft", "kpi_snapshot": False})

    def _acknowledge(self, comment=None, user=None):
        """``user`` (default: the current user) of the partner acknowledges a done
        review in the portal, once."""
        self.ensure_one()
        if self.state != "done":
            raise UserError(self.env._("This review is not finished yet."))
        if self.partner_acknowledged:
            raise UserError(self.env._("This review was already acknowledged."))
        self.write(
            {
                "partner_acknowledged": True,
                "date_acknowledged": fields.Datetime.now(),
                "partner_comment": clean_comment(self.env, comment),
            }
        )
        self.message_post(
            body=self.env._(
                "Acknowledged by %(user)s in the portal.",
                user=(user or self.env.user).name,
            ),
            author_id=(user or self.env.user).partner_id.id,
        )
