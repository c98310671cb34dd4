from odoo import api, fields, models
from odoo.exceptions import ValidationError


class PrmCertification(models.Model):
    """Catalog entry: a certification partners' people can earn."""

    _name = "prm.certification"
    _description = "Partner Certification (catalog)"
    _inherit = ["mail.thread"]
    _order = "name, id"

    name = fields.Char(required=True, translate=True, tracking=True)
    program_ids = fields.Many2many(
        "prm.program",
        "prm_certification_program_rel",
        "certification_id",
        "program_id",
        string="Programs",
    )
    level = fields.Selection(
        [
            ("foundation", "Foundation"),
            ("professional", "Professional"),
            ("expert", "Expert"),
        ],
        default="foundation",
        required=True,
        tracking=True,
    )
    validity_months = fields.Integer(
        "Validity (months)",
        default=24,
        tracking=True,
        help="How long a certification stays valid after it is obtained; "
        "0 means it never expires.",
    )
    description = fields.Html(translate=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", default=lambda self: self.env.company, index=True
    )
    holder_ids = fields.One2many("prm.partner.certification", "certification_id")
    holder_count = fields.Integer(compute="_compute_holder_count")

    def _compute_holder_count(self):
        counts = dict(
            self.env["prm.partner.certification"]._read_group(
                [("certification_id", "in", self.ids), ("state", "!=", "expired")],
                ["certification_id"],
                ["__count"],
            )
        )
        for certification in self:
            certification.holder_count = counts.get(certification, 0)

    @api.constrains("validity_months")
    def _check_validity_months(self):
        for certification in self:
            if certification.validity_months < 0:
                raise ValidationError(
                    self.env._(
                        "The validity of %(certification)s cannot be negative "
                        "(use 0 for a certification that never expires).",
                        certification=certification.name,
                    )
                )

    def action_view_holders(self):
        self._prm_check_internal()
        self.ensure_one()
        return self.env["ir.actions.act_window"]._prm_action(
            "prm_partner.prm_partner_certification_action",
            [("certification_id", "=", self.id)],
            {"default_certification_id": self.id},
        )
