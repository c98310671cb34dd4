from odoo import api, fields, models


class PrmDealConflict(models.Model):
    """An open lead or another partner's registration that matches a deal
    registration (listed on the registration for the reviewer)."""

    _name = "prm.deal.conflict"
    _description = "Deal Registration Conflict"
    _order = "registration_id, similarity desc, id"

    registration_id = fields.Many2one(
        "prm.deal.registration", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(
        related="registration_id.company_id", store=True, index=True
    )
    lead_id = fields.Many2one("crm.lead", index="btree_not_null", ondelete="cascade")
    other_registration_id = fields.Many2one(
        "prm.deal.registration", index="btree_not_null", ondelete="cascade"
    )
    match_type = fields.Selection(
        [
            ("email", "Same email"),
            ("domain", "Same email domain"),
            ("vat", "Same tax ID"),
            ("name", "Similar company name"),
        ],
        required=True,
    )
    similarity = fields.Float(digits=(3, 2))
    owner_id = fields.Many2one(
        "res.partner",
        string="Held by",
        compute="_compute_owner",
        help="Partner working the matching deal; empty for the internal team.",
    )
    owner_label = fields.Char("Held by (label)", compute="_compute_owner")
    protected_until = fields.Date(compute="_compute_owner")

    @api.depends("lead_id", "other_registration_id")
    def _compute_owner(self):
        for conflict in self:
            if conflict.lead_id:
                owner = conflict.lead_id.partner_assigned_id
                conflict.protected_until = conflict.lead_id.prm_protected_until
            else:
                owner = conflict.other_registration_id.partner_id
                conflict.protected_until = (
                    conflict.other_registration_id.protection_until
                )
            conflict.owner_id = owner
            conflict.owner_label = owner.name or self.env._("Internal team")
