from odoo import fields, models


class PrmApplicationReject(models.TransientModel):
    """Reject applications with a reason; the applicant gets the rejection mail."""

    _name = "prm.application.reject"
    _description = "Reject Partner Applications"

    application_ids = fields.Many2many("prm.application", required=True)
    rejection_reason_id = fields.Many2one(
        "prm.application.rejection.reason", string="Reason", required=True
    )
    rejection_note = fields.Text("Note")
    send_mail = fields.Boolean(
        "Mail the applicant", default=True, help="Send the rejection mail template."
    )

    def action_reject(self):
        self.ensure_one()
        self.application_ids._reject(
            self.rejection_reason_id, self.rejection_note, send_mail=self.send_mail
        )
        return {"type": "ir.actions.act_window_close"}
