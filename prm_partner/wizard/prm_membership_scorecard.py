from dateutil.relativedelta import relativedelta

from odoo import api, fields, models


class PrmMembershipScorecard(models.TransientModel):
    """The scorecard of one membership for a chosen period, in the back office."""

    _name = "prm.membership.scorecard"
    _description = "Membership Scorecard"

    membership_id = fields.Many2one("prm.membership", required=True)
    period = fields.Selection(
        [("month", "Month"), ("quarter", "Quarter"), ("year", "Year")],
        default="quarter",
        required=True,
    )
    date_ref = fields.Date(
        "Period holding", default=fields.Date.context_today, required=True
    )
    date_from = fields.Date(compute="_compute_dates")
    date_to = fields.Date(compute="_compute_dates")
    scorecard_html = fields.Html(
        compute="_compute_scorecard_html", sanitize=False, readonly=True
    )

    @api.constrains("membership_id")
    def _check_membership_access(self):
        """A PRM user opens the scorecards of the partners it manages only."""
        self.membership_id._prm_check_scorecard_access()

    @api.depends("period", "date_ref")
    def _compute_dates(self):
        for wizard in self:
            date_from, date_to = self.env["prm.membership"]._prm_period(
                wizard.period, wizard.date_ref
            )
            wizard.date_from = date_from
            wizard.date_to = date_to - relativedelta(days=1)

    @api.depends("membership_id", "date_from", "date_to")
    def _compute_scorecard_html(self):
        for wizard in self:
            wizard.scorecard_html = (
                wizard.membership_id
                and wizard.date_from
                and (
                    wizard.membership_id._prm_scorecard_html(
                        wizard.date_from, wizard.date_to + relativedelta(days=1)
                    )
                )
            )

    def action_print(self):
        self.ensure_one()
        self.membership_id._prm_check_scorecard_access()
        return self.env.ref("prm_partner.action_report_prm_scorecard").report_action(
            self.membership_id,
            data={
                "date_from": fields.Date.to_string(self.date_from),
                "date_to": fields.Date.to_string(self.date_to),
            },
        )

    def action_start_review(self):
        self.ensure_one()
        self.membership_id._prm_check_scorecard_access()
        review = self.env["prm.partner.review"].create(
            {
                "membership_id": self.membership_id.id,
                "date_from": self.date_from,
                "date_to": self.date_to,
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "prm.partner.review",
            "res_id": review.id,
            "view_mode": "form",
        }
