from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    prm_certification_reminder_days = fields.Integer(
        "Certification reminder (days before expiry)",
        config_parameter="prm_partner.certification_reminder_days",
        default=30,
    )
    prm_deal_protection_days = fields.Integer(
        "Deal protection (days)",
        config_parameter="prm_partner.deal_protection_days",
        default=90,
    )
    prm_deal_similarity_threshold = fields.Float(
        "Similar company name threshold",
        config_parameter="prm_partner.deal_similarity_threshold",
        default=0.6,
    )
    prm_public_email_domains = fields.Char(
        "Public mail domains",
        config_parameter="prm_partner.public_email_domains",
    )
