from collections import Counter
from datetime import datetime

from odoo.fields import Command

from .common import PrmCommon

NOW = datetime(2026, 6, 15, 9, 0, 0)


class PrmLeadCommon(PrmCommon):
    """Lead distribution fixtures: a third partner (C, Gold tier), countries,
    tags, a fallback team and user, and one rule for France."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.france = cls.env.ref("base.fr")
        cls.germany = cls.env.ref("base.de")
        cls.tag_cloud = cls.env["crm.tag"].create({"name": "PRM Cloud"})
        cls.partner_c = cls.env["res.partner"].create(
            {"name": "Partner C Co", "is_company": True}
        )
        cls.contact_c = cls.env["res.partner"].create(
            {"name": "Carol C", "parent_id": cls.partner_c.id, "email": "c@c.test"}
        )
        cls.membership_c = cls.env["prm.membership"].create(
            {
                "partner_id": cls.partner_c.id,
                "program_id": cls.program.id,
                "state": "active",
                "user_id": cls.manager.id,
            }
        )
        cls.membership_c.tier_id = cls.gold
        cls.gold.lead_weight = 3
        cls.fallback_team = cls.env["crm.team"].create({"name": "PRM Fallback team"})
        cls.fallback_user = cls.env["res.users"].create(
            {
                "name": "Fallback Seller",
                "login": "prm_fallback_seller",
                "groups_id": [Command.link(cls.env.ref("base.group_user").id)],
            }
        )
        # only the rules of the tests distribute leads (never demo data)
        cls.env["prm.assignment.rule"].search([]).action_archive()
        cls.rule = cls.env["prm.assignment.rule"].create(
            {
                "name": "France",
                "sequence": 10,
                "program_id": cls.program.id,
                "country_ids": [Command.link(cls.france.id)],
                "deadline_hours": 24,
                "reminder_hours": 6,
                "max_offers": 2,
                "fallback_team_id": cls.fallback_team.id,
                "fallback_user_id": cls.fallback_user.id,
            }
        )
        cls.reason = cls.env.ref("prm_partner.prm_decline_reason_capacity")

    @classmethod
    def _leads(cls, count, prefix="Lead", **values):
        return cls.env["crm.lead"].create(
            [
                dict(
                    {
                        "name": f"{prefix} {index}",
                        "type": "lead",
                        "country_id": cls.france.id,
                        "user_id": False,
                    },
                    **values,
                )
                for index in range(count)
            ]
        )

    def _assign(self, leads, rules=None):
        """Distribute ``leads`` only (the database may hold other leads)."""
        rules = rules if rules is not None else self.env["prm.assignment.rule"]
        return rules._action_assign_partner_leads(leads=leads)

    def _offer_mails(self, partner):
        """Offer mails queued for ``partner`` (a partner company)."""
        recipients = self.env["prm.lead.offer"]._prm_recipients_by_partner(partner)
        return self.env["mail.mail"].search(
            [
                ("recipient_ids", "in", recipients[partner.id].ids),
                "|",
                ("subject", "ilike", "leads offered to"),
                ("subject", "ilike", "leads wait for"),
            ]
        )

    @staticmethod
    def _offered_to(leads):
        """``Counter`` of partner ids the leads' pending offers went to."""
        return Counter(
            lead.prm_offer_id.partner_id.id for lead in leads if lead.prm_offer_id
        )
