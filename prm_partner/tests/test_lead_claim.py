import re
from datetime import timedelta

from psycopg2 import IntegrityError

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.tests import HttpCase, JsonRpcException, tagged
from odoo.tools import mute_logger

from .common_lead import PrmLeadCommon

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class PrmClaimCommon(PrmLeadCommon):
    """An open opportunity of partner A (salesperson: a PRM user), one won and
    one lost, and an open one of partner B."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesperson = cls.env["res.users"].create(
            {
                "name": "PRM Salesperson",
                "login": "prm_claim_salesperson",
                "email": "salesperson@prm.test",
                "groups_id": [
                    Command.link(cls.env.ref("sales_team.group_sale_salesman").id)
                ],
            }
        )
        cls.lost_reason = cls.env["crm.lost.reason"].create({"name": "PRM price"})
        Lead = cls.env["crm.lead"]
        values = {
            "type": "opportunity",
            "partner_assigned_id": cls.partner_a.id,
            "prm_program_id": cls.program.id,
            "stage_id": cls.open_stage.id,
            "user_id": False,
        }
        cls.open_lead = Lead.create(
            dict(values, name="A open deal", expected_revenue=10000)
        )
        cls.won_lead = Lead.create(
            dict(values, name="A won deal", expected_revenue=7000)
        )
        cls.won_lead.action_set_won()
        cls.lost_lead = Lead.create(
            dict(values, name="A lost deal", expected_revenue=3000)
        )
        cls.lost_lead.action_set_lost(lost_reason_id=cls.lost_reason.id)
        cls.lead_b = Lead.create(
            dict(
                values,
                name="B open deal",
                expected_revenue=4000,
                partner_assigned_id=cls.partner_b.id,
            )
        )

    def _claim(self, lead=None, outcome="won", **values):
        lead = lead or self.open_lead
        vals = {
            "author_id": self.contact_a.id,
            "outcome": outcome,
            "expected_revenue": 42000.0 if outcome == "won" else None,
            "lost_reason_id": self.lost_reason.id if outcome == "lost" else False,
            "note": "Signed on Monday",
        }
        vals.update(values)
        return lead.with_user(self.portal_a).sudo()._prm_portal_update(vals)


@tagged("post_install", "-at_install")
class TestLeadClaim(PrmClaimCommon):
    def test_claim_then_confirm_won(self):
        claim = self._claim()
        lead = self.open_lead
        self.assertEqual(claim.state, "pending")
        self.assertEqual(claim.partner_id, self.partner_a)
        self.assertEqual(claim.claimant_id, self.portal_a)
        self.assertEqual(claim.expected_revenue, 42000)
        self.assertEqual(claim.reviewer_id, self.manager, "the membership's manager")
        self.assertEqual(lead.prm_claim_count, 1)
        self.assertTrue(lead.prm_claim_pending)
        # the lead keeps its state
        self.assertTrue(lead.active)
        self.assertLess(lead.probability, 100)
        self.assertEqual(lead.expected_revenue, 10000)
        # an activity for the reviewer, a note on the lead, partner users follow
        self.assertEqual(claim.activity_ids.user_id, self.manager)
        self.assertTrue(
            lead.message_ids.filtered(
                lambda m: "reports this opportunity won" in m.body
            )
        )
        self.assertIn(self.contact_a, claim.message_partner_ids)
        # a second claim while one is pending is refused
        with self.assertRefused("already waits", UserError):
            self._claim(outcome="lost")
        self.assertEqual(len(lead.prm_claim_ids), 1)

        claim.with_user(self.prm_user).action_confirm()
        self.assertEqual(claim.state, "confirmed")
        self.assertEqual(claim.decided_by_id, self.prm_user)
        self.assertFalse(claim.activity_ids)
        self.assertEqual(lead.probability, 100)
        self.assertTrue(lead.stage_id.is_won)
        self.assertEqual(lead.expected_revenue, 42000)
        mail = claim.message_ids.filtered(lambda m: "Confirmed" in m.body)
        self.assertEqual(mail.message_type, "comment")
        self.assertIn(self.contact_a, mail.notified_partner_ids)
        with self.assertRefused("already decided", UserError):
            claim.action_confirm()

    def test_reject_needs_reason_and_leaves_lead(self):
        claim = self._claim(outcome="lost")
        with self.assertRefused("reason to reject", UserError):
            claim.with_user(self.manager).action_reject()
        self.assertEqual(claim.state, "pending")
        claim.with_user(self.manager).action_reject("No signed order yet")
        self.assertEqual(claim.state, "rejected")
        lead = self.open_lead
        self.assertTrue(lead.active)
        self.assertFalse(lead.lost_reason_id)
        self.assertEqual(lead.stage_id, self.open_stage)
        self.assertTrue(
            lead.message_ids.filtered(lambda m: "No signed order yet" in m.body)
        )
        self.assertTrue(
            claim.message_ids.filtered(lambda m: "No signed order yet" in m.body)
        )
        # once decided, the partner may report again
        self.assertEqual(self._claim().state, "pending")

    def test_closed_deals_are_read_only(self):
        for lead in (self.won_lead, self.lost_lead):
            before = (lead.active, lead.probability, lead.expected_revenue)
            for values in (
                {"outcome": "won", "expected_revenue": 5000000.0},
                {"outcome": False, "expected_revenue": 5000000.0},
                {"outcome": False, "stage_id": self.open_stage.id},
            ):
                with self.assertRefused("is closed", UserError):
                    self._claim(lead, **values)
            self.assertEqual(
                (lead.active, lead.probability, lead.expected_revenue), before
            )
            self.assertFalse(lead.prm_claim_ids)

    def test_only_the_assigned_company(self):
        with self.assertRefused("not yours", AccessError):
            self._claim(self.lead_b)
        self.assertFalse(self.lead_b.prm_claim_ids)

    def test_one_pending_claim_in_database(self):
        self._claim()
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            self.env["prm.lead.claim"].create(
                {
                    "lead_id": self.open_lead.id,
                    "partner_id": self.partner_a.id,
                    "outcome": "won",
                }
            )

    def test_confirm_refused_when_lead_closed_meanwhile(self):
        claim = self._claim()
        self.open_lead.action_set_lost(lost_reason_id=self.lost_reason.id)
        with self.assertRefused("no longer open", UserError):
            claim.with_user(self.manager).action_confirm()
        self.assertEqual(claim.state, "pending")
        self.assertFalse(self.open_lead.active)

    def test_who_decides(self):
        """PRM users and the lead's salesperson decide; the partner and other
        internal users cannot."""
        self.open_lead.user_id = self.salesperson
        claim = self._claim()
        self.assertEqual(claim.reviewer_id, self.salesperson)
        for user in (self.portal_a, self.internal_user):
            with self.assertRaises(AccessError):
                claim.with_user(user).action_confirm()
        self.assertEqual(claim.state, "pending")
        self.assertTrue(self.open_lead.active)
        claim.with_user(self.salesperson).action_confirm()
        self.assertEqual(self.open_lead.probability, 100)

    def test_pending_claim_not_counted_downstream(self):
        """Tiers and the performance report read the lead's state only: the
        claimed revenue counts once the claim is confirmed."""
        today = fields.Date.today()
        Report = self.env["prm.partner.performance.report"]

        def measured():
            by_tier = self.membership_a._prm_measure(today)[self.membership_a.id]
            return by_tier[self.silver.id]["won_revenue"], by_tier[self.silver.id][
                "won_deals"
            ]

        def reported():
            self.env.invalidate_all()
            rows = Report.search(
                [("lead_id", "=", self.open_lead.id), ("kind", "=", "won")]
            )
            return sum(rows.mapped("won_revenue"))

        before = measured()
        self.assertEqual(before, (7000, 1))
        claim = self._claim()
        self.assertEqual(measured(), before)
        self.assertEqual(reported(), 0)
        self.assertEqual(self.membership_a.won_revenue, 7000)
        claim.with_user(self.manager).action_confirm()
        self.assertEqual(measured(), (7000 + 42000, 2))
        self.assertEqual(reported(), 42000)

    def test_portal_user_reads_own_claims_only(self):
        claim_a = self._claim()
        claim_b = (
            self.lead_b.with_user(self.portal_b)
            .sudo()
            ._prm_portal_update(
                {
                    "author_id": self.contact_b.id,
                    "outcome": "won",
                    "expected_revenue": 1.0,
                }
            )
        )
        Claim = self.env["prm.lead.claim"]
        self.assertEqual(Claim.with_user(self.portal_a).search([]), claim_a)
        with self.assertRaises(AccessError):
            claim_b.with_user(self.portal_a).read(["expected_revenue"])
        with self.assertRaises(AccessError):
            claim_a.with_user(self.portal_a).write({"expected_revenue": 9e9})
        self.assertEqual(claim_a.expected_revenue, 42000)


@tagged("post_install", "-at_install")
class TestLeadClaimHttp(PrmClaimCommon, HttpCase):
    def _token(self, url):
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200, url)
        match = CSRF_RE.search(response.text)
        self.assertTrue(match, f"no CSRF token in {url}")
        return match.group(1)

    def _post(self, lead, data, token_url=None):
        url = f"/my/partner_opportunities/{lead.id}"
        token = self._token(token_url or "/my/deal_registrations/new")
        return self.url_open(f"{url}/update", data=dict(data, csrf_token=token))

    def test_forged_outcome_on_closed_deals_refused(self):
        """The forgery of issue 10: a lost deal posted won for 5,000,000, a won
        deal's revenue raised: refused, nothing written, no claim."""
        self.authenticate("portal_partner_a", "portal_partner_a")
        page = self.url_open(f"/my/partner_opportunities/{self.lost_lead.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn("o_prm_readonly", page.text)
        self.assertNotIn("o_prm_opportunity_form", page.text)
        self.assertNotIn("o_prm_claim_form", page.text)
        for lead, data in (
            (self.lost_lead, {"outcome": "won", "expected_revenue": "5000000"}),
            (self.lost_lead, {"expected_revenue": "5000000"}),
            (self.won_lead, {"expected_revenue": "5000000"}),
            (self.won_lead, {"outcome": "won", "expected_revenue": "5000000"}),
            (self.won_lead, {"stage_id": str(self.open_stage.id)}),
        ):
            before = (lead.active, lead.probability, lead.expected_revenue)
            response = self._post(lead, data)
            self.assertEqual(response.status_code, 400, data)
            self.assertIn("is closed", response.text)
            lead.invalidate_recordset()
            self.assertEqual(
                (lead.active, lead.probability, lead.expected_revenue), before
            )
        self.assertFalse((self.won_lead | self.lost_lead).prm_claim_ids)
        self.assertTrue(self.lost_lead.lost_reason_id)

    def test_claim_won_then_confirm(self):
        self.authenticate("portal_partner_a", "portal_partner_a")
        url = f"/my/partner_opportunities/{self.open_lead.id}"
        page = self.url_open(url)
        self.assertIn("o_prm_claim_form", page.text)
        response = self._post(
            self.open_lead,
            {"outcome": "won", "expected_revenue": "55000", "note": "PO received"},
            url,
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_prm_claim_pending", response.text)
        self.assertNotIn("o_prm_claim_form", response.text)
        claim = self.open_lead.prm_claim_ids
        self.assertEqual(
            (claim.outcome, claim.state, claim.expected_revenue, claim.note),
            ("won", "pending", 55000, "PO received"),
        )
        self.assertEqual(self.open_lead.expected_revenue, 10000)
        self.assertLess(self.open_lead.probability, 100)
        # a second claim is refused while the first waits
        response = self._post(
            self.open_lead,
            {"outcome": "lost", "lost_reason_id": str(self.lost_reason.id)},
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("already waits", response.text)
        self.assertEqual(len(self.open_lead.prm_claim_ids), 1)
        # the partner cannot confirm its own claim over JSON-RPC
        with mute_logger("odoo.http"), self.assertRaises(JsonRpcException):
            self.make_jsonrpc_request(
                "/web/dataset/call_kw",
                {
                    "model": "prm.lead.claim",
                    "method": "action_confirm",
                    "args": [[claim.id]],
                    "kwargs": {},
                },
            )
        claim.invalidate_recordset()
        self.assertEqual(claim.state, "pending")
        # the manager confirms: won with the claimed revenue, shown read-only
        claim.with_user(self.manager).action_confirm()
        self.assertEqual(self.open_lead.probability, 100)
        self.assertEqual(self.open_lead.expected_revenue, 55000)
        page = self.url_open(url)
        self.assertIn("o_prm_readonly", page.text)
        self.assertNotIn("o_prm_opportunity_form", page.text)

    def test_claim_rejected_shown_to_partner(self):
        claim = self._claim(outcome="lost")
        claim.with_user(self.manager).action_reject("Customer still negotiating")
        self.authenticate("portal_partner_a", "portal_partner_a")
        page = self.url_open(f"/my/partner_opportunities/{self.open_lead.id}")
        self.assertIn("o_prm_claim_rejected", page.text)
        self.assertIn("Customer still negotiating", page.text)
        self.assertIn("o_prm_claim_form", page.text)
        self.assertTrue(self.open_lead.active)

    def test_other_partner_lead_refused(self):
        self.authenticate("portal_partner_a", "portal_partner_a")
        self.assertEqual(
            self.url_open(f"/my/partner_opportunities/{self.lead_b.id}").status_code,
            404,
        )
        for data in (
            {"outcome": "won", "expected_revenue": "5000000"},
            {"expected_revenue": "1", "stage_id": str(self.open_stage.id)},
        ):
            response = self._post(self.lead_b, data)
            self.assertEqual(response.status_code, 404)
            self.assertNotIn("B open deal", response.text)
        self.assertEqual(self.lead_b.expected_revenue, 4000)
        self.assertFalse(self.lead_b.prm_claim_ids)


@tagged("post_install", "-at_install")
class TestLeadOfferSafety(PrmLeadCommon, HttpCase):
    """Offers: answerable only while the membership is active and the lead
    available; declined offers show the lead as offered; a lead that leaves a
    partner is no longer followed by its people."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lead = cls._leads(
            1,
            "Offered lead",
            city="Lyon",
            expected_revenue=5000,
            partner_name="Durand SA",
        )
        cls.offer = cls.env["prm.lead.offer"].create(
            {
                "lead_id": cls.lead.id,
                "partner_id": cls.partner_a.id,
                "membership_id": cls.membership_a.id,
                "date_deadline": fields.Datetime.now() + timedelta(days=1),
            }
        )

    def _post(self, url, data):
        page = self.url_open(f"/my/lead_offers/{self.offer.id}")
        self.assertEqual(page.status_code, 200)
        token = CSRF_RE.search(page.text).group(1)
        return self.url_open(url, data=dict(data, csrf_token=token))

    def test_suspended_membership_cannot_answer(self):
        for state in ("suspended", "ended"):
            self.membership_a.state = state
            self.authenticate("portal_partner_a", "portal_partner_a")
            for action, data in (("accept", {}), ("decline", {"note": "busy"})):
                response = self._post(f"/my/lead_offers/{self.offer.id}/{action}", data)
                self.assertEqual(response.status_code, 409, (state, action))
                self.assertIn("partnership is not active", response.text)
            self.assertNotIn(self.offer.state, ("accepted", "declined"))
            self.assertFalse(self.lead.partner_assigned_id)

    def test_accept_refused_when_lead_no_longer_available(self):
        self.lead.action_set_lost()
        self.authenticate("portal_partner_a", "portal_partner_a")
        response = self._post(f"/my/lead_offers/{self.offer.id}/accept", {})
        self.assertEqual(response.status_code, 409)
        self.assertIn("no longer available", response.text)
        self.assertEqual(self.offer.state, "pending")
        self.assertFalse(self.lead.partner_assigned_id)

    def test_declined_offer_shows_snapshot(self):
        self.authenticate("portal_partner_a", "portal_partner_a")
        response = self._post(
            f"/my/lead_offers/{self.offer.id}/decline", {"note": "Not our field"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.offer.state, "declined")
        self.lead.write(
            {
                "name": "Renamed after decline",
                "city": "Marseille",
                "expected_revenue": 987654,
                "partner_name": "Other customer",
                "partner_assigned_id": self.partner_b.id,
            }
        )
        page = self.url_open(f"/my/lead_offers/{self.offer.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Offered lead 0", page.text)
        self.assertIn("Lyon", page.text)
        self.assertIn("Durand SA", page.text)
        self.assertIn("o_prm_offer_snapshot", page.text)
        for live in ("Renamed after decline", "Marseille", "987,654", "Other customer"):
            self.assertNotIn(live, page.text)
        # the same through the ORM (what JSON-RPC returns)
        values = self.offer.with_user(self.portal_a).read(
            ["lead_name", "lead_city", "lead_expected_revenue", "lead_customer"]
        )[0]
        self.assertEqual(
            (
                values["lead_name"],
                values["lead_city"],
                values["lead_expected_revenue"],
                values["lead_customer"],
            ),
            ("Offered lead 0", "Lyon", 5000, "Durand SA"),
        )

    def test_partner_users_unfollow_a_lead_that_leaves(self):
        self.offer.action_accept()
        lead = self.lead
        self.assertIn(self.contact_a, lead.message_partner_ids)
        lead.message_subscribe(partner_ids=self.contact_a2.ids)
        # reassigned to B: A's people stop following, B's salesperson stays
        lead.message_subscribe(partner_ids=self.manager.partner_id.ids)
        lead.partner_assigned_id = self.partner_b
        self.assertFalse(
            lead.message_partner_ids & (self.contact_a | self.contact_a2),
        )
        self.assertIn(self.manager.partner_id, lead.message_partner_ids)
        lead._prm_subscribe_partner_users(self.partner_b)
        self.assertIn(self.contact_b, lead.message_partner_ids)
        # unassigned: B's people stop following too
        lead.partner_assigned_id = False
        self.assertNotIn(self.contact_b, lead.message_partner_ids)
        # and A no longer reads it nor gets its messages
        self.authenticate("portal_partner_a", "portal_partner_a")
        self.assertEqual(
            self.url_open(f"/my/partner_opportunities/{lead.id}").status_code, 404
        )
