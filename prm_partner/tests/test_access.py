from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import PrmCommon


@tagged("post_install", "-at_install")
class TestAccess(PrmCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.held_a = cls._certify(cls.contact_a, cls.cert_sales)
        cls.held_b = cls._certify(cls.contact_b, cls.cert_sales)

    def test_internal_user_without_prm_groups(self):
        for model in ("prm.program", "prm.membership", "prm.partner.certification"):
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].with_user(self.internal_user).search([])

    def test_prm_user(self):
        Program = self.env["prm.program"].with_user(self.prm_user)
        self.assertIn(self.program, Program.search([]))
        with self.assertRaises(AccessError):
            Program.create({"name": "Not allowed"})
        with self.assertRaises(AccessError):
            self.program.with_user(self.prm_user).write({"name": "Renamed"})
        with self.assertRaises(AccessError):
            self.env["prm.certification"].with_user(self.prm_user).create(
                {"name": "No"}
            )
        membership = (
            self.env["prm.membership"]
            .with_user(self.prm_user)
            .create(
                {
                    "partner_id": self.partner_a.id,
                    "program_id": self.program_referral.id,
                }
            )
        )
        membership.action_set_onboarding()
        self.assertEqual(membership.state, "onboarding")
        with self.assertRaises(AccessError):
            membership.unlink()
        with self.assertRaises(AccessError):
            self.env["prm.tier.history"].with_user(self.prm_user).create(
                {"membership_id": membership.id, "new_tier_id": self.silver.id}
            )

    def test_manager(self):
        program = (
            self.env["prm.program"].with_user(self.manager).create({"name": "New"})
        )
        program.unlink()

    def test_portal_sees_only_own_company(self):
        Membership = self.env["prm.membership"].with_user(self.portal_a)
        self.assertEqual(Membership.search([]), self.membership_a)
        self.membership_a.with_user(self.portal_a).check_access("read")
        with self.assertRaises(AccessError):
            self.membership_b.with_user(self.portal_a).check_access("read")
        with self.assertRaises(AccessError):
            self.membership_b.with_user(self.portal_a).read(["tier_id"])
        with self.assertRaises(AccessError):
            self.membership_a.with_user(self.portal_a).write({"state": "ended"})
        Held = self.env["prm.partner.certification"].with_user(self.portal_a)
        self.assertEqual(Held.search([]), self.held_a)
        with self.assertRaises(AccessError):
            self.held_b.with_user(self.portal_a).read(["state"])
        with self.assertRaises(AccessError):
            Held.create(
                {"partner_id": self.contact_a.id, "certification_id": self.cert_tech.id}
            )
        with self.assertRaises(AccessError):
            self.env["prm.tier.history"].with_user(self.portal_a).search([])
        # programs: published ones and the member's own; never an unpublished other
        programs = self.env["prm.program"].with_user(self.portal_a).search([])
        self.assertIn(self.program, programs)
        self.assertNotIn(self.program_referral, programs)
        with self.assertRaises(AccessError):
            self.program_referral.with_user(self.portal_a).read(["name"])
        with self.assertRaises(AccessError):
            self.program.with_user(self.portal_a).write({"name": "Hacked"})
        self.assertEqual(self.program.name, "Reseller")

    def test_multi_company(self):
        other_company = self.env["res.company"].create({"name": "Other PRM Co"})
        program = self.env["prm.program"].create(
            {"name": "Other company program", "company_id": other_company.id}
        )
        membership = self.env["prm.membership"].create(
            {"partner_id": self.partner_b.id, "program_id": program.id}
        )
        self.assertEqual(membership.company_id, other_company)
        self.assertNotIn(
            membership, self.env["prm.membership"].with_user(self.manager).search([])
        )
        with self.assertRaises(AccessError):
            program.with_user(self.manager).read(["name"])
