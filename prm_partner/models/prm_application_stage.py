from odoo import fields, models


class PrmApplicationStage(models.Model):
    """A column of the recruitment kanban. Its kind tells what it means: an
    application is decided when it reaches an approved or a rejected stage."""

    _name = "prm.application.stage"
    _description = "Partner Application Stage"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10, index=True)
    kind = fields.Selection(
        [
            ("open", "In progress"),
            ("approved", "Approved"),
            ("rejected", "Rejected"),
        ],
        required=True,
        default="open",
        help="Applications reach an approved or rejected stage only through the "
        "Approve and Reject buttons, which do the work that goes with the decision.",
    )
    fold = fields.Boolean("Folded in kanban")
    description = fields.Text(translate=True, help="Shown as a tooltip in the kanban.")
    active = fields.Boolean(default=True)
