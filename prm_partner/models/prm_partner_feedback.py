from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .prm_lead_satisfaction import clean_comment, parse_score


class PrmPartnerFeedback(models.Model):
    """A short periodic questionnaire a partner answers in the portal:
    satisfaction with the program (PSAT, 0-10) and likelihood to recommend
    partnering with us (partner NPS, 0-10)."""

    _name = "prm.partner.feedback"
    _description = "Partner Feedback"
    _inherit = ["portal.mixin", "mail.thread"]
    _order = "date_requested desc, id desc"
    _rec_name = "membership_id"

    membership_id = fields.Many2one(
        "prm.membership", required=True, index=True, ondelete="cascade"
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
    state = fields.Selection(
        [("requested", "Requested"), ("answered", "Answered")],
        default="requested",
        required=True,
        index=True,
        tracking=True,
    )
    date_requested = fields.Date(default=fields.Date.context_today, required=True)
    date_answered = fields.Datetime(index="btree_not_null", readonly=True)
    answered_by_id = fields.Many2one("res.users", readonly=True)
    satisfaction_score = fields.Integer(
        "Program satisfaction",
        help="How satisfied is the partner with the program (0-10)?",
    )
    recommend_score = fields.Integer(
        "Would recommend",
        help="How likely is the partner to recommend partnering with us (0-10)?",
    )
    comment = fields.Text()

    _sql_constraints = [
        (
            "scores_range",
            "CHECK((satisfaction_score IS NULL OR satisfaction_score BETWEEN 0 AND 10)"
            " AND (recommend_score IS NULL OR recommend_score BETWEEN 0 AND 10))",
            "Scores go from 0 to 10.",
        ),
    ]

    def _compute_access_url(self):  # pylint: disable=missing-return
        super()._compute_access_url()
        for feedback in self:
            feedback.access_url = f"/my/feedback/{feedback.id}"

    @api.model
    def _request_for_memberships(self, memberships):
        """Ask these memberships for feedback, unless a request is still open."""
        open_ones = self.search(
            [("membership_id", "in", memberships.ids), ("state", "=", "requested")]
        ).membership_id
        return self.create([{"membership_id": m.id} for m in memberships - open_ones])

    def _submit_answer(self, satisfaction, recommend, comment=None, user=None):
        """The partner's answer (portal), given by ``user`` (default: the current
        user); each questionnaire is answered once."""
        self.ensure_one()
        if self.state == "answered":
            raise UserError(self.env._("This questionnaire was already answered."))
        scores = [parse_score(satisfaction), parse_score(recommend)]
        if None in scores:
            raise ValidationError(
                self.env._("Give both scores, from 0 to 10, to answer.")
            )
        self.write(
            {
                "satisfaction_score": scores[0],
                "recommend_score": scores[1],
                "comment": clean_comment(self.env, comment),
                "state": "answered",
                "date_answered": fields.Datetime.now(),
                "answered_by_id": (user or self.env.user).id,
            }
        )
