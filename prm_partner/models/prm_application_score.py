from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

SCORES = [(str(value), str(value)) for value in range(6)]
MAX_SCORE = 5


class PrmApplicationScore(models.Model):
    """The score (0-5) a recruiter gives an application on one criterion."""

    _name = "prm.application.score"
    _description = "Partner Application Score"
    _order = "application_id, sequence, id"

    application_id = fields.Many2one(
        "prm.application", required=True, ondelete="cascade", index=True
    )
    criterion_id = fields.Many2one(
        "prm.qualification.criterion", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer(related="criterion_id.sequence", store=True)
    weight = fields.Integer(related="criterion_id.weight")
    guidance = fields.Text(related="criterion_id.guidance")
    company_id = fields.Many2one(
        related="application_id.company_id", store=True, index=True
    )
    score = fields.Selection(SCORES, default="0", required=True)
    note = fields.Char()

    _sql_constraints = [
        (
            "application_criterion_unique",
            "UNIQUE(application_id, criterion_id)",
            "A criterion is scored once per application.",
        ),
    ]

    @api.constrains("criterion_id", "application_id")
    def _check_criterion_program(self):
        for line in self:
            if line.criterion_id.program_id != line.application_id.program_id:
                raise ValidationError(
                    self.env._(
                        "The criterion %(criterion)s belongs to another program than "
                        "the application %(application)s.",
                        criterion=line.criterion_id.name,
                        application=line.application_id.display_name,
                    )
                )

    def write(self, vals):
        if "score" in vals and any(line.application_id.kind != "open" for line in self):
            raise UserError(
                self.env._(
                    "The application is decided: its scores can no longer change."
                )
            )
        return super().write(vals)
