from odoo.tests import HttpCase, tagged

from .common import PrmCommon


@tagged("post_install", "-at_install")
class TestPortal(PrmCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.held_a = cls._certify(cls.contact_a, cls.cert_sales)
        cls.held_b = cls._certify(cls.contact_b, cls.cert_tech)
        cls._won_leads(cls.partner_a, [6000])

    def test_home_counters_and_lists(self):
        self.authenticate("portal_partner_a", "portal_partner_a")
        response = self.url_open("/my/home")
        self.assertEqual(response.status_code, 200)
        self.assertIn("/my/memberships", response.text)
        counters = self.make_jsonrpc_request(
            "/my/counters",
            {"counters": ["prm_membership_count", "prm_certification_count"]},
        )
        self.assertEqual(
            counters, {"prm_membership_count": 1, "prm_certification_count": 1}
        )

        response = self.url_open("/my/memberships")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Reseller", response.text)
        self.assertEqual(response.text.count("o_prm_membership_row"), 1)

        response = self.url_open("/my/certifications")
        self.assertIn("Sales Pro", response.text)
        self.assertNotIn("Tech Expert", response.text)
        self.assertNotIn("Bob B", response.text)

    def test_membership_detail_progress(self):
        self.authenticate("portal_partner_a", "portal_partner_a")
        response = self.url_open(f"/my/memberships/{self.membership_a.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Progress toward", response.text)
        self.assertIn("Silver", response.text)
        self.assertIn("Won deals", response.text)

    def test_other_company_membership_refused(self):
        self.authenticate("portal_partner_a", "portal_partner_a")
        response = self.url_open(f"/my/memberships/{self.membership_b.id}")
        # redirected to the portal home, nothing of B shown
        self.assertTrue(response.url.endswith("/my"), response.url)
        self.assertNotIn("Partner B Co", response.text)
        response = self.url_open("/my/memberships/999999")
        self.assertTrue(response.url.endswith("/my"), response.url)

    def test_partner_b_sees_its_own_only(self):
        self.authenticate("portal_partner_b", "portal_partner_b")
        response = self.url_open("/my/certifications")
        self.assertIn("Tech Expert", response.text)
        self.assertNotIn("Alice A", response.text)
        response = self.url_open(f"/my/memberships/{self.membership_a.id}")
        self.assertTrue(response.url.endswith("/my"), response.url)

    def test_portal_user_has_no_back_office(self):
        self.authenticate("portal_partner_a", "portal_partner_a")
        response = self.url_open("/odoo/action-prm_partner.prm_membership_action")
        self.assertNotIn("/odoo", response.url)
        self.assertIn("/my", response.url)

    def test_anonymous_redirected_to_login(self):
        response = self.url_open("/my/memberships")
        self.assertIn("/web/login", response.url)
