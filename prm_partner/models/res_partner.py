from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    prm_membership_ids = fields.One2many(
        "prm.membership", "partner_id", string="Partner memberships"
    )
    prm_program_ids = fields.Many2many(
        "prm.program",
        string="Partner programs",
        compute="_compute_prm_programs",
        search="_search_prm_program_ids",
    )
    prm_tier_ids = fields.Many2many(
        "prm.tier",
        string="Partner tiers",
        compute="_compute_prm_programs",
        search="_search_prm_tier_ids",
    )
    prm_is_partner = fields.Boolean(
        "Is a channel partner",
        compute="_compute_prm_programs",
        search="_search_prm_is_partner",
    )
    prm_membership_count = fields.Integer(compute="_compute_prm_counts")
    prm_certification_ids = fields.One2many(
        "prm.partner.certification", "partner_id", string="Certifications"
    )
    prm_company_certification_ids = fields.One2many(
        "prm.partner.certification",
        "commercial_partner_id",
        string="Certifications of the company's people",
    )
    prm_certification_count = fields.Integer(compute="_compute_prm_counts")
    prm_certified_people_count = fields.Integer(compute="_compute_prm_counts")
    prm_assigned_lead_ids = fields.One2many(
        "crm.lead", "partner_assigned_id", string="Leads assigned as partner"
    )

    @api.depends("prm_membership_ids.program_id", "prm_membership_ids.tier_id")
    def _compute_prm_programs(self):
        for partner in self:
            memberships = partner.commercial_partner_id.prm_membership_ids
            partner.prm_program_ids = memberships.program_id
            partner.prm_tier_ids = memberships.tier_id
            partner.prm_is_partner = bool(memberships)

    def _search_prm_program_ids(self, operator, value):
        return [("prm_membership_ids.program_id", operator, value)]

    def _search_prm_tier_ids(self, operator, value):
        return [("prm_membership_ids.tier_id", operator, value)]

    def _search_prm_is_partner(self, operator, value):
        positive = (operator == "=") == bool(value)
        return [("prm_membership_ids", "!=" if positive else "=", False)]

    def _compute_prm_counts(self):
        companies = self.commercial_partner_id
        Certification = self.env["prm.partner.certification"]
        memberships = dict(
            self.env["prm.membership"]._read_group(
                [("partner_id", "in", companies.ids)], ["partner_id"], ["__count"]
            )
        )
        certifications = dict(
            Certification._read_group(
                [("commercial_partner_id", "in", companies.ids)],
                ["commercial_partner_id"],
                ["__count"],
            )
        )
        own = dict(
            Certification._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
            )
        )
        people = dict(
            Certification._read_group(
                [
                    ("commercial_partner_id", "in", companies.ids),
                    ("state", "!=", "expired"),
                ],
                ["commercial_partner_id"],
                ["partner_id:count_distinct"],
            )
        )
        for partner in self:
            company = partner.commercial_partner_id
            partner.prm_membership_count = memberships.get(company, 0)
            partner.prm_certified_people_count = people.get(company, 0)
            partner.prm_certification_count = (
                certifications.get(company, 0)
                if partner.is_company
                else own.get(partner, 0)
            )

    def action_view_prm_memberships(self):
        self._prm_check_internal()
        self.ensure_one()
        return self.env["ir.actions.act_window"]._prm_action(
            "prm_partner.prm_membership_action",
            [("partner_id", "=", self.commercial_partner_id.id)],
            {"default_partner_id": self.commercial_partner_id.id},
        )

    def action_view_prm_certifications(self):
        self._prm_check_internal()
        self.ensure_one()
        Action = self.env["ir.actions.act_window"]
        xml_id = "prm_partner.prm_partner_certification_action"
        if self.is_company:
            return Action._prm_action(xml_id, [("commercial_partner_id", "=", self.id)])
        return Action._prm_action(
            xml_id, [("partner_id", "=", self.id)], {"default_partner_id": self.id}
        )

    # ---- agreements ----
    prm_agreement_count = fields.Integer(compute="_compute_prm_agreement_count")

    def _compute_prm_agreement_count(self):
        counts = dict(
            self.env["prm.agreement"]._read_group(
                [("partner_id", "in", self.commercial_partner_id.ids)],
                ["partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.prm_agreement_count = counts.get(partner.commercial_partner_id, 0)

    def action_view_prm_agreements(self):
        self._prm_check_internal()
        self.ensure_one()
        return self.env["ir.actions.act_window"]._prm_action(
            "prm_partner.prm_agreement_action",
            [("partner_id", "=", self.commercial_partner_id.id)],
            {"default_partner_id": self.commercial_partner_id.id},
        )
