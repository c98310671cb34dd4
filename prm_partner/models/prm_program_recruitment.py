from odoo import api, fields, models
from odoo.exceptions import ValidationError


class PrmProgram(models.Model):
    """Recruitment settings of a program: qualification criteria, minimum score,
    onboarding templates and its public page."""

    _inherit = "prm.program"

    qualification_criterion_ids = fields.One2many(
        "prm.qualification.criterion", "program_id", string="Qualification criteria"
    )
    min_qualification_score = fields.Float(
        "Minimum qualification score",
        help="Weighted score (0-100) an application needs to be approved, unless a "
        "manager waives it.",
    )
    onboarding_template_ids = fields.One2many(
        "prm.onboarding.template", "program_id", string="Onboarding templates"
    )
    application_ids = fields.One2many("prm.application", "program_id")
    application_count = fields.Integer(compute="_compute_application_count")
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
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "prm_partner.prm_application_action"
        )
        action["domain"] = [("program_id", "=", self.id)]
        action["context"] = {"default_program_id": self.id}
        return action
