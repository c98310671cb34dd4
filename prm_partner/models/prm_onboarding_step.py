from odoo import api, fields, models
from odoo.exceptions import ValidationError

STEP_OWNERS = [
    ("partner", "Partner"),
    ("company", "Our company"),
]


class PrmOnboardingStep(models.Model):
    """A step of an onboarding template."""

    _name = "prm.onboarding.step"
    _description = "Partner Onboarding Template Step"
    _order = "template_id, sequence, id"

    template_id = fields.Many2one(
        "prm.onboarding.template", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        related="template_id.company_id", store=True, index=True
    )
    sequence = fields.Integer(default=10)
    name = fields.Char("Title", required=True, translate=True)
    description = fields.Text(translate=True)
    owner = fields.Selection(
        STEP_OWNERS,
        required=True,
        default="partner",
        help="Partner: the partner ticks it off in the portal. Our company: the "
        "partner manager gets an activity and marks it done.",
    )
    due_days = fields.Integer(
        "Due after (days)",
        default=7,
        help="Days after the approval the step is due.",
    )
    certification_id = fields.Many2one(
        "prm.certification",
        string="Required certification",
        index="btree_not_null",
        ondelete="restrict",
        help="The step can only be done once a person of the partner holds this "
        "certification (valid or expiring).",
    )

    _sql_constraints = [
        (
            "due_days_positive",
            "CHECK(due_days >= 0)",
            "The due offset of an onboarding step cannot be negative.",
        ),
    ]

    @api.constrains("due_days")
    def _check_due_days(self):
        for step in self:
            if step.due_days < 0:
                raise ValidationError(
                    self.env._(
                        "The onboarding step %(step)s cannot be due before the "
                        "approval: its due offset must be 0 or more days.",
                        step=step.name,
                    )
                )
