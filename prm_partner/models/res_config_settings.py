from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    prm_certification_reminder_days = fields.Integer(
        "Certification reminder (days before expiry)",
        config_parameter="prm_partner.certification_reminder_days",
        default=30,
    )
