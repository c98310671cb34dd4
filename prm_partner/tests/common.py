from contextlib import contextmanager
from datetime import date, datetime

from odoo.exceptions import ValidationError
from odoo.fields import Command
from odoo.tests import new_test_user

from odoo.addons.base.tests.common import BaseCommon

TODAY = date(2026, 6, 15)


class PrmCommon(BaseCommon):
    """Shared fixtures: a Reseller program with three tiers, a certification
    catalog, two partner companies with contacts and portal users, and PRM users.
    Nothing here depends on demo data."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=False))
        cls.won_stage = cls.env["crm.stage"].create(
            {"name": "PRM Won", "is_won": True, "sequence": 99}
        )
        cls.open_stage = cls.env["crm.stage"].create({"name": "PRM New", "sequence": 1})
        cls.cert_sales, cls.cert_tech = cls.env["prm.certification"].create(
            [
                {"name": "Sales Pro", "validity_months": 24},
                {"name": "Tech Expert", "validity_months": 12, "level": "expert"},
            ]
        )
        cls.program = cls.env["prm.program"].create(
            {
                "name": "Reseller",
                "program_type": "reseller",
                "is_published": True,
                "demotion_grace_days": 30,
                "tier_ids": [
                    Command.create({"name": "Registered", "sequence": 10}),
                    Command.create(
                        {
                            "name": "Silver",
                            "sequence": 20,
                            "min_won_revenue": 10000,
                            "min_won_deals": 2,
                            "discount_percent": 10,
                            "commission_percent": 5,
                        }
                    ),
                    Command.create(
                        {
                            "name": "Gold",
                            "sequence": 30,
                            "min_won_revenue": 50000,
                            "min_won_deals": 3,
                            "min_certified_people": 2,
                            "certification_ids": [Command.link(cls.cert_sales.id)],
                            "discount_percent": 20,
                            "commission_percent": 10,
                        }
                    ),
                ],
            }
        )
        cls.registered, cls.silver, cls.gold = cls.program.tier_ids.sorted("sequence")
        cls.program_referral = cls.env["prm.program"].create(
            {
                "name": "Referral",
                "program_type": "referral",
                "tier_ids": [
                    Command.create({"name": "Affiliate", "sequence": 10}),
                    Command.create(
                        {"name": "Premier", "sequence": 20, "min_won_deals": 1}
                    ),
                ],
            }
        )
        cls.manager = new_test_user(
            cls.env,
            login="prm_manager_test",
            groups="prm_partner.group_prm_manager",
            name="PRM Manager",
        )
        cls.prm_user = new_test_user(
            cls.env, login="prm_user_test", groups="prm_partner.group_prm_user"
        )
        cls.internal_user = new_test_user(
            cls.env, login="internal_no_prm", groups="base.group_user"
        )
        cls.partner_a, cls.partner_b = cls.env["res.partner"].create(
            [
                {"name": "Partner A Co", "is_company": True},
                {"name": "Partner B Co", "is_company": True},
            ]
        )
        cls.contact_a, cls.contact_a2, cls.contact_b = cls.env["res.partner"].create(
            [
                {"name": "Alice A", "parent_id": cls.partner_a.id, "email": "a@a.test"},
                {
                    "name": "Arthur A",
                    "parent_id": cls.partner_a.id,
                    "email": "a2@a.test",
                },
                {"name": "Bob B", "parent_id": cls.partner_b.id, "email": "b@b.test"},
            ]
        )
        cls.membership_a, cls.membership_b = cls.env["prm.membership"].create(
            [
                {
                    "partner_id": cls.partner_a.id,
                    "program_id": cls.program.id,
                    "state": "active",
                    "user_id": cls.manager.id,
                },
                {
                    "partner_id": cls.partner_b.id,
                    "program_id": cls.program.id,
                    "state": "active",
                    "user_id": cls.manager.id,
                },
            ]
        )
        cls.portal_a = new_test_user(
            cls.env,
            login="portal_partner_a",
            password="portal_partner_a",
            groups="base.group_portal",
            partner_id=cls.contact_a.id,
        )
        cls.portal_b = new_test_user(
            cls.env,
            login="portal_partner_b",
            password="portal_partner_b",
            groups="base.group_portal",
            partner_id=cls.contact_b.id,
        )

    @contextmanager
    def assertRefused(self, pattern, exception=ValidationError):
        """The block raises ``exception`` with a message matching ``pattern``; the
        savepoint of ``assertRaises`` rolls back whatever the block wrote."""
        with self.assertRaises(exception) as caught:
            yield caught
        self.assertRegex(str(caught.exception), pattern)

    @classmethod
    def _won_leads(cls, partner, revenues, closed=TODAY, program=None):
        """Create won leads assigned to ``partner``, closed on ``closed``."""
        return cls.env["crm.lead"].create(
            [
                {
                    "name": f"Deal {partner.name} {index}",
                    "type": "opportunity",
                    "expected_revenue": revenue,
                    "partner_assigned_id": partner.id,
                    "prm_program_id": program and program.id,
                    "stage_id": cls.won_stage.id,
                    "date_closed": datetime.combine(closed, datetime.min.time()),
                }
                for index, revenue in enumerate(revenues)
            ]
        )

    @classmethod
    def _certify(cls, people, certification, obtained=TODAY):
        return cls.env["prm.partner.certification"].create(
            [
                {
                    "partner_id": person.id,
                    "certification_id": certification.id,
                    "date_obtained": obtained,
                }
                for person in people
            ]
        )
