from odoo import models


class MailActivity(models.Model):
    """Marking the activity of a company-side onboarding step done (from the
    chatter or the activity view) marks the step done too."""

    _inherit = "mail.activity"

    def _action_done(self, feedback=False, attachment_ids=None):
        steps = (
            self.env["prm.membership.onboarding.step"]
            .sudo()
            .search([("activity_id", "in", self.ids), ("is_done", "=", False)])
        )
        result = super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
        if steps:
            # the activities are gone: the steps only record who did them
            steps.invalidate_recordset(["activity_id"])
            steps._mark_done(self.env.user)
        return result
