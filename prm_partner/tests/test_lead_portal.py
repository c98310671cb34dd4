import re
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common_lead import PrmLeadCommon

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@tagged("post_install", "-at_install")
class TestLeadPortal(PrmLeadCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rule.pick_method = "round_robin"
        cls.membership_c.lead_capacity = 0  # offers go to A, then B
        cls.lead = cls._leads(1, "Portal lead", city="Lyon", expected_revenue=5000)
        cls._assign_cls(cls.lead)
        cls.offer_a = cls.lead.prm_offer_id
        cls.lead_b = cls._leads(1, "B lead")
        cls.env["prm.lead.offer"].create(
            {
                "lead_id": cls.lead_b.id,
                "partner_id": cls.partner_b.id,
                "membership_id": cls.membership_b.id,
                "date_deadline": fields.Datetime.now() + timedelta(days=1),
            }
        )
        cls.offer_b = cls.lead_b.prm_offer_id

    @classmethod
    def _assign_cls(cls, leads):
        return cls.env["prm.assignment.rule"]._action_assign_partner_leads(leads=leads)

    def _csrf(self, url):
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200, url)
        match = CSRF_RE.search(response.text)
        self.assertTrue(match, f"no CSRF token in {url}")
        return match.group(1)

    def _post(self, url, data, token_url="/my/deal_registrations/new"):
        """POST ``data`` with the session's CSRF token, read from a rendered form."""
        return self.url_open(url, data=dict(data, csrf_token=self._csrf(token_url)))

    def test_offers_list_and_accept(self):
        self.assertEqual(self.offer_a.partner_id, self.partner_a)
        self.authenticate("portal_partner_a", "portal_partner_a")
        counters = self.make_jsonrpc_request(
            "/my/counters",
            {"counters": ["prm_lead_offer_count", "prm_opportunity_count"]},
        )
        self.assertEqual(
            counters, {"prm_lead_offer_count": 1, "prm_opportunity_count": 0}
        )
        response = self.url_open("/my/lead_offers")
        self.assertIn("Portal lead", response.text)
        self.assertNotIn("B lead", response.text)
        self.assertEqual(response.text.count("o_prm_offer_row"), 1)
        self.assertIn(
            f'action="/my/lead_offers/{self.offer_a.id}/accept"', response.text
        )

        response = self._post(
            f"/my/lead_offers/{self.offer_a.id}/accept", {"x": 1}, "/my/lead_offers"
        )
        self.assertEqual(response.status_code, 200)
        self.assertTrue(
            response.url.endswith(f"/my/partner_opportunities/{self.lead.id}"),
            response.url,
        )
        self.assertIn("Portal lead", response.text)
        self.assertEqual(self.offer_a.state, "accepted")
        self.assertEqual(self.lead.partner_assigned_id, self.partner_a)
        self.assertEqual(self.lead.type, "opportunity")
        # accepting again is refused with a clear message, nothing changes
        response = self._post(f"/my/lead_offers/{self.offer_a.id}/accept", {"x": 1})
        self.assertEqual(response.status_code, 409)
        self.assertIn("already answered", response.text)

    def test_post_without_csrf_refused(self):
        self.authenticate("portal_partner_a", "portal_partner_a")
        with mute_logger("odoo.http"):
            response = self.url_open(
                f"/my/lead_offers/{self.offer_a.id}/accept", data={"note": "x"}
            )
        self.assertIn(response.status_code, (400, 403))
        self.assertEqual(self.offer_a.state, "pending")

    def test_decline_with_reason_reoffers(self):
        self.authenticate("portal_partner_a", "portal_partner_a")
        # no reason: refused, nothing written
        response = self._post(
            f"/my/lead_offers/{self.offer_a.id}/decline",
            {"reason_id": "", "note": "  "},
            "/my/lead_offers",
        )
        self.assertEqual(response.status_code, 409)
        self.assertIn("Give a reason", response.text)
        self.assertEqual(self.offer_a.state, "pending")
        response = self._post(
            f"/my/lead_offers/{self.offer_a.id}/decline",
            {"reason_id": str(self.reason.id), "note": "Full this month"},
            "/my/lead_offers",
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("declined", response.url)
        self.assertEqual(self.offer_a.state, "declined")
        self.assertEqual(self.offer_a.decline_reason_id, self.reason)
        self.assertEqual(self.offer_a.decline_note, "Full this month")
        # offered at once to the next partner
        self.assertEqual(self.lead.prm_offer_id.partner_id, self.partner_b)

    def test_expired_offer_refused(self):
        self.offer_a.date_deadline = fields.Datetime.now() - timedelta(minutes=1)
        self.authenticate("portal_partner_a", "portal_partner_a")
        response = self._post(
            f"/my/lead_offers/{self.offer_a.id}/accept",
            {"x": 1},
            f"/my/lead_offers/{self.offer_a.id}",
        )
        self.assertEqual(response.status_code, 409)
        self.assertIn("expired", response.text)
        self.assertEqual(self.offer_a.state, "pending")
        self.assertFalse(self.lead.partner_assigned_id)

    def test_other_partner_offer_refused(self):
        """Partner A uses partner B's ids on every route: 404, nothing changes."""
        self.authenticate("portal_partner_a", "portal_partner_a")
        token_url = "/my/lead_offers"
        self.assertEqual(
            self.url_open(f"/my/lead_offers/{self.offer_b.id}").status_code, 404
        )
        for action, data in (("accept", {"x": 1}), ("decline", {"note": "no"})):
            response = self._post(
                f"/my/lead_offers/{self.offer_b.id}/{action}", data, token_url
            )
            self.assertEqual(response.status_code, 404)
        self.assertEqual(self.offer_b.state, "pending")
        self.assertFalse(self.lead_b.partner_assigned_id)
        # and through the ORM
        with self.assertRaises(AccessError):
            self.offer_b.with_user(self.portal_a).read(["state"])
        self.assertFalse(
            self.env["prm.lead.offer"]
            .with_user(self.portal_a)
            .search([("id", "=", self.offer_b.id)])
        )

    def test_my_opportunities_update_progress(self):
        self.offer_a.action_accept()
        other = self._leads(
            1,
            "B opportunity",
            type="opportunity",
            partner_assigned_id=self.partner_b.id,
        )
        self.authenticate("portal_partner_a", "portal_partner_a")
        response = self.url_open("/my/partner_opportunities")
        self.assertEqual(response.text.count("o_prm_opportunity_row"), 1)
        self.assertNotIn("B opportunity", response.text)
        url = f"/my/partner_opportunities/{self.lead.id}"
        stage = self.open_stage
        activity_date = fields.Date.today() + timedelta(days=3)
        close_date = fields.Date.today() + timedelta(days=30)
        response = self._post(
            f"{url}/update",
            {
                "stage_id": str(stage.id),
                "expected_revenue": "12000",
                "date_deadline": str(close_date),
                "activity_date": str(activity_date),
                "note": "Met the customer",
            },
            url,
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("Saved.", response.text)
        self.assertEqual(self.lead.stage_id, stage)
        self.assertEqual(self.lead.expected_revenue, 12000)
        self.assertEqual(self.lead.date_deadline, close_date)
        self.assertEqual(self.lead.activity_date_deadline, activity_date)
        self.assertTrue(
            self.lead.message_ids.filtered(lambda m: "Met the customer" in str(m.body))
        )
        # bad input: nothing written, a clear message
        past = str(fields.Date.today() - timedelta(days=2))
        for data, message in (
            ({"expected_revenue": "-5"}, "cannot be negative"),
            ({"expected_revenue": "abc"}, "not a number"),
            ({"expected_revenue": "nan"}, "not a number"),
            ({"date_deadline": past}, "cannot be in the past"),
            ({"activity_date": past}, "cannot be in the past"),
            ({"stage_id": str(self.won_stage.id)}, "Choose a stage"),
            ({"outcome": "lost"}, "reason to report the deal lost"),
            ({"outcome": "maybe"}, "Report the deal won or lost"),
            ({"stage_id": "99999999999999"}, "not a valid choice"),
            ({"lost_reason_id": "²", "outcome": "lost"}, "not a valid choice"),
            ({"note": "a\x00b"}, "not allowed"),
            ({"expected_revenue": "1e400"}, "not a number"),
        ):
            response = self._post(f"{url}/update", data, url)
            self.assertEqual(response.status_code, 400, data)
            self.assertIn(message, response.text)
        self.assertEqual(self.lead.expected_revenue, 12000)
        self.assertEqual(self.lead.stage_id, stage)
        self.assertTrue(self.lead.active)
        self.assertFalse(self.lead.prm_claim_ids)
        # another partner's opportunity: 404, nothing changes
        self.assertEqual(
            self.url_open(f"/my/partner_opportunities/{other.id}").status_code, 404
        )
        response = self._post(
            f"/my/partner_opportunities/{other.id}/update",
            {"expected_revenue": "1", "outcome": "won"},
            url,
        )
        self.assertEqual(response.status_code, 404)
        self.assertNotEqual(other.expected_revenue, 1)
        self.assertLess(other.probability, 100)
        self.assertFalse(other.prm_claim_ids)
        # and through the ORM: not readable, not writable
        with self.assertRaises(AccessError):
            other.with_user(self.portal_a).read(["name"])
        with self.assertRaises(AccessError):
            self.lead.with_user(self.portal_a).write({"expected_revenue": 1})
        self.assertEqual(
            self.env["crm.lead"].with_user(self.portal_a).search([]), self.lead
        )

    def test_report_lost_is_a_claim(self):
        """Reporting lost creates a claim: the lead stays open until confirmed."""
        self.offer_a.action_accept()
        self.authenticate("portal_partner_a", "portal_partner_a")
        url = f"/my/partner_opportunities/{self.lead.id}"
        reason = self.env["crm.lost.reason"].create({"name": "PRM too expensive"})
        response = self._post(
            f"{url}/update", {"outcome": "lost", "lost_reason_id": str(reason.id)}, url
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_prm_claim_pending", response.text)
        self.assertTrue(self.lead.active)
        self.assertFalse(self.lead.lost_reason_id)
        claim = self.lead.prm_claim_ids
        self.assertEqual(
            (claim.outcome, claim.state, claim.lost_reason_id),
            ("lost", "pending", reason),
        )
        claim.with_user(self.manager).action_confirm()
        self.assertFalse(self.lead.active)
        self.assertEqual(self.lead.lost_reason_id, reason)
