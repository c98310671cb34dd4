from odoo import api, fields, models
from odoo.exceptions import ValidationError


class PrmQualificationCriterion(models.Model):
    """A criterion recruiters score from 0 to 5 on each application of a program."""

    _name = "prm.qualification.criterion"
    _description = "Partner Qualification Criterion"
    _order = "program_id, sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    program_id = fields.Many2one(
        "prm.program", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        related="program_id.company_id", store=True, index=True
    )
    weight = fields.Integer(
        default=1,
        required=True,
        help="Relative importance of this criterion in the weighted score.",
    )
    guidance = fields.Text(
        translate=True, help="How to score: what a 0 and what a 5 look like."
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        (
            "weight_positive",
            "CHECK(weight > 0)",
            "The weight of a qualification criterion must be positive.",
        ),
    ]

    @api.constrains("weight")
    def _check_weight(self):
        for criterion in self:
            if criterion.weight <= 0:
                raise ValidationError(
                    self.env._(
                        "The weight of the qualification criterion %(criterion)s "
                        "must be positive.",
                        criterion=criterion.name,
                    )
                )
