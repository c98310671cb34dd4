from odoo import fields, models


class CrmLead(models.Model):
    _inherit = "crm.lead"

    # same name as website_crm_partner_assign, so data can move between the modules
    partner_assigned_id = fields.Many2one(
        "res.partner",
        string="Assigned partner",
        index="btree_not_null",
        tracking=True,
        domain="[('is_company', '=', True)]",
        help="Partner company working this lead or opportunity.",
    )
    prm_program_id = fields.Many2one(
        "prm.program",
        string="Partner program",
        index="btree_not_null",
        help="Program under which the partner works this lead; leads without a "
        "program count for every program of the partner.",
    )
