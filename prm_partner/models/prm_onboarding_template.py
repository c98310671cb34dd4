from odoo import api, fields, models


class PrmOnboardingTemplate(models.Model):
    """The ordered onboarding steps of a program, copied onto each membership when
    its application is approved (the first active template of the program)."""

    _name = "prm.onboarding.template"
    _description = "Partner Onboarding Template"
    _inherit = ["mail.thread"]
    _order = "program_id, sequence, id"

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(default=10)
    program_id = fields.Many2one(
        "prm.program", required=True, ondelete="cascade", index=True, tracking=True
    )
    company_id = fields.Many2one(
        related="program_id.company_id", store=True, index=True
    )
    active = fields.Boolean(default=True, tracking=True)
    step_ids = fields.One2many("prm.onboarding.step", "template_id", copy=True)
    step_count = fields.Integer(compute="_compute_step_count")

    @api.depends("step_ids")
    def _compute_step_count(self):
        for template in self:
            template.step_count = len(template.step_ids)
