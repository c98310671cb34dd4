from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError


class PrmApplicationApprove(models.TransientModel):
    """Approve applications: say exactly what approving creates and whom it
    invites and, when an application matches an existing company, ask whether
    to create a new company or to link to the existing one (which invites
    nobody until a partner manager confirms the contact)."""

    _name = "prm.application.approve"
    _description = "Approve Partner Applications"

    application_ids = fields.Many2many("prm.application", required=True)
    matched_count = fields.Integer(compute="_compute_summary")
    company_choice = fields.Selection(
        [
            ("new", "Create a new company"),
            ("link", "Link to the existing company"),
        ],
        string="Existing company",
    )
    summary = fields.Html(compute="_compute_summary", sanitize=False)

    @api.depends("application_ids", "company_choice")
    def _compute_summary(self):
        for wizard in self:
            applications = wizard.application_ids
            wizard.matched_count = len(
                applications.filtered(
                    lambda a: not a.partner_id and a.matched_partner_id
                )
            )
            wizard.summary = Markup("<ul>%s</ul>") % Markup("").join(
                Markup("<li>%s</li>") % wizard._describe(application)
                for application in applications
            )

    def _describe(self, application):
        """What approving does to ``application``, in one translated sentence."""
        values = {
            "application": application.name,
            "company": application.partner_id.display_name
            or application.matched_partner_id.display_name,
            "contact": application.contact_name,
            "email": application.email,
            "program": application.program_id.name,
        }
        if application.partner_id or (
            application.matched_partner_id and self.company_choice == "link"
        ):
            return self.env._(
                "%(application)s: %(contact)s (%(email)s) becomes a contact of the "
                "EXISTING company %(company)s, WITHOUT portal access; %(company)s "
                "joins %(program)s. Nobody is invited to the portal until a partner "
                "manager confirms the contact on the application.",
                **values,
            )
        if application.matched_partner_id and self.company_choice == "new":
            return self.env._(
                "%(application)s: a NEW company %(application)s is created, separate "
                "from the existing %(company)s (which gets no new contact and no "
                "access); %(contact)s is its contact and is invited to the portal at "
                "%(email)s; the new company joins %(program)s.",
                **values,
            )
        if application.matched_partner_id:
            return self.env._(
                "%(application)s has the tax ID or the mail domain of the existing "
                "company %(company)s: choose below to create a new company or to "
                "link to %(company)s.",
                **values,
            )
        return self.env._(
            "%(application)s: a new company %(application)s is created with its "
            "contact %(contact)s, who is invited to the portal at %(email)s; the "
            "company joins %(program)s with the program's onboarding steps.",
            **values,
        )

    def action_approve(self):
        self.ensure_one()
        if self.matched_count and not self.company_choice:
            raise UserError(
                self.env._(
                    "Choose to create a new company or to link to the existing one."
                )
            )
        memberships = self.application_ids._approve(self.company_choice)
        if len(memberships) == 1:
            return {
                "type": "ir.actions.act_window",
                "res_model": "prm.membership",
                "view_mode": "form",
                "res_id": memberships.id,
            }
        return {"type": "ir.actions.act_window_close"}
