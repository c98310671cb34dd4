from odoo import fields, models


class PrmApplicationRejectionReason(models.Model):
    """Why an application was turned down; reported in the recruitment funnel."""

    _name = "prm.application.rejection.reason"
    _description = "Partner Application Rejection Reason"
    _order = "sequence, name, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
