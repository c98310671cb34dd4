from collections import Counter
from datetime import date, timedelta

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common_lead import NOW, PrmLeadCommon


@tagged("post_install", "-at_install")
class TestLeadRules(PrmLeadCommon):
    def test_rule_matching(self):
        """Each lead follows the first matching rule by sequence; criteria are
        countries, states, zip prefixes, tags, revenue range, type, domain."""
        Rule = self.env["prm.assignment.rule"]
        big = Rule.create(
            {
                "name": "Big cloud deals in Paris",
                "sequence": 1,
                "program_id": self.program.id,
                "zip_prefixes": "75, 92",
                "tag_ids": [Command.link(self.tag_cloud.id)],
                "revenue_min": 10000,
                "revenue_max": 50000,
                "lead_type": "opportunity",
                "lead_domain": "[('name', 'not ilike', 'excluded')]",
            }
        )
        values = {"type": "opportunity", "tag_ids": [Command.link(self.tag_cloud.id)]}
        paris = self._leads(1, "Paris", zip="75011", expected_revenue=20000, **values)
        nanterre = self._leads(
            1, "Nanterre", zip="92000", expected_revenue=10000, **values
        )
        lyon = self._leads(1, "Lyon", zip="69001", expected_revenue=20000, **values)
        huge = self._leads(1, "Huge", zip="75001", expected_revenue=90000, **values)
        untagged = self._leads(1, "Untagged", zip="75001", expected_revenue=20000)
        excluded = self._leads(
            1, "excluded", zip="75001", expected_revenue=20000, **values
        )
        berlin = self._leads(1, "Berlin", country_id=self.germany.id)
        result = self._assign(
            paris | nanterre | lyon | huge | untagged | excluded | berlin
        )
        self.assertEqual((paris | nanterre).prm_rule_id, big)
        self.assertEqual(
            (lyon | huge | untagged | excluded).prm_rule_id, self.rule, "France rule"
        )
        self.assertFalse(berlin.prm_rule_id)
        self.assertIn(berlin, result["unmatched"])
        self.assertFalse(berlin.prm_offer_id)

    def test_bad_rule_refused(self):
        with self.assertRefused("not a valid domain"):
            self.rule.lead_domain = "[('nope', '=', 1)]"
        with self.assertRefused("maximum revenue is below"):
            self.rule.write({"revenue_min": 100, "revenue_max": 10})
        with self.assertRefused("another program"):
            self.rule.min_tier_id = self.program_referral.tier_ids[0]
        self.assertFalse(self.rule.min_tier_id)

    def test_eligibility_tier_and_certification(self):
        """Minimum tier, required certifications (held, not expired) and tier
        weight 0 (never offered) decide who is eligible."""
        self.rule.min_tier_id = self.silver
        leads = self._leads(3)
        self._assign(leads)
        self.assertEqual(set(leads.prm_offer_id.partner_id.ids), {self.partner_c.id})

        self.rule.min_tier_id = False
        self.rule.certification_ids = self.cert_tech
        self._certify(self.contact_b, self.cert_tech)
        expired = self._certify(
            self.contact_a, self.cert_tech, obtained=date(2019, 1, 1)
        )
        self.assertEqual(expired.state, "expired")
        leads2 = self._leads(3, "Cert")
        self._assign(leads2)
        self.assertEqual(set(leads2.prm_offer_id.partner_id.ids), {self.partner_b.id})

        self.rule.certification_ids = False
        self.registered.lead_weight = 0
        self.gold.lead_weight = 0
        leads3 = self._leads(2, "Weightless")
        result = self._assign(leads3)
        self.assertFalse(leads3.prm_offer_id)
        # nobody eligible at all: the fallback applies
        self.assertEqual(result["fallback"], leads3)


@tagged("post_install", "-at_install")
class TestLeadAgreementTerritory(PrmLeadCommon):
    """*Agreement must cover the territory*: only partners with an agreement in
    force (active, today within its dates) whose countries hold the lead's
    country and, when it lists states of that country, the lead's state."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        State = cls.env["res.country.state"]
        cls.usa = cls.env.ref("base.us")
        cls.california = State.search(
            [("country_id", "=", cls.usa.id), ("code", "=", "CA")]
        )
        cls.texas = State.search([("country_id", "=", cls.usa.id), ("code", "=", "TX")])
        cls.rule.write(
            {
                "country_ids": [Command.set([cls.france.id, cls.usa.id])],
                "pick_method": "round_robin",
                "max_offers": 20,
            }
        )
        today = NOW.date()
        year = {"date_start": date(2026, 1, 1), "date_end": date(2026, 12, 31)}
        fr = {"country_ids": [Command.set([cls.france.id])]}
        us = {"country_ids": [Command.set([cls.usa.id])]}
        cases = {
            "no agreement": None,
            "draft": dict(fr, state="draft", **year),
            "sent": dict(fr, state="sent", **year),
            "expired": dict(fr, state="expired", **year),
            "terminated": dict(fr, state="terminated", **year),
            "renewed": dict(fr, state="renewed", **year),
            "archived": dict(fr, state="active", active=False, **year),
            "ended yesterday": dict(
                fr,
                state="active",
                date_start=date(2025, 6, 15),
                date_end=today - timedelta(days=1),
            ),
            "starts tomorrow": dict(
                fr,
                state="active",
                date_start=today + timedelta(days=1),
                date_end=date(2027, 6, 14),
            ),
            "no territory": dict(state="active", **year),
            "Germany": dict(
                state="active", country_ids=[Command.set([cls.germany.id])], **year
            ),
            "Texas": dict(
                us, state="active", state_ids=[Command.set([cls.texas.id])], **year
            ),
            # a state whose country is not among the countries covers nothing
            "California without its country": dict(
                state="active", state_ids=[Command.set([cls.california.id])], **year
            ),
        }
        cls.uncovered = cls.env["res.partner"].create(
            [{"name": f"Uncovered ({name})", "is_company": True} for name in cases]
        )
        cls.case = dict(zip(cases, cls.uncovered, strict=True))
        cls.env["prm.membership"].create(
            [
                {
                    "partner_id": partner.id,
                    "program_id": cls.program.id,
                    "state": "active",
                    "tier_id": cls.registered.id,
                    "user_id": cls.manager.id,
                }
                for partner in cls.uncovered
            ]
        )
        agreements = [
            (partner, values)
            for partner, values in zip(cls.uncovered, cases.values(), strict=True)
            if values is not None
        ]
        # A: all of France until today included; B: California (only state of
        # the USA it lists), and France from tomorrow; C: no agreement
        agreements += [
            (
                cls.partner_a,
                dict(fr, state="active", date_start=year["date_start"], date_end=today),
            ),
            (
                cls.partner_b,
                dict(
                    us,
                    state="active",
                    state_ids=[Command.set([cls.california.id])],
                    **year,
                ),
            ),
            (
                cls.partner_b,
                dict(
                    fr,
                    state="active",
                    date_start=today + timedelta(days=1),
                    date_end=date(2027, 6, 30),
                ),
            ),
        ]
        cls.env["prm.agreement"].create(
            [
                {
                    "title": "Territory agreement",
                    "partner_id": partner.id,
                    "program_id": cls.program.id,
                    "user_id": cls.manager.id,
                    **values,
                }
                for partner, values in agreements
            ]
        )
        cls.members = cls.env["prm.membership"].search(
            [("program_id", "=", cls.program.id), ("state", "=", "active")]
        )
        cls.members.lead_capacity = 100

    def _assign_at(self, leads, day=NOW):
        with freeze_time(day):
            return self._assign(leads)

    def test_flag_on_only_covering_agreements(self):
        self.rule.require_agreement_territory = True
        fr = self._leads(5, "FR")
        ca = self._leads(3, "CA", country_id=self.usa.id, state_id=self.california.id)
        tx = self._leads(1, "TX", country_id=self.usa.id, state_id=self.texas.id)
        us = self._leads(1, "US without state", country_id=self.usa.id)
        result = self._assign_at(fr | ca | tx | us)
        self.assertEqual(self._offered_to(fr), Counter({self.partner_a.id: 5}))
        self.assertEqual(self._offered_to(ca), Counter({self.partner_b.id: 3}))
        # Texas: only the partner whose agreement lists Texas
        self.assertEqual(self._offered_to(tx), Counter({self.case["Texas"].id: 1}))
        # a US lead without state: B and the Texas partner list states of the
        # USA, so it is covered by nobody and the fallback takes it
        self.assertFalse(us.prm_offer_id)
        self.assertEqual(result["fallback"], us)
        # A declines: nobody else covers France today, the lead is never offered
        # to another partner and goes to the fallback
        with freeze_time(NOW):
            fr[0].prm_offer_id.action_decline(self.reason, "Too busy")
        self.assertEqual(fr[0].prm_offer_ids.partner_id, self.partner_a)
        self.assertTrue(fr[0].prm_fallback)
        # tomorrow A's agreement has ended, B's French one and the one of
        # "starts tomorrow" have started
        later = self._leads(2, "FR later")
        self._assign_at(later, NOW + timedelta(days=1))
        self.assertEqual(
            self._offered_to(later),
            Counter({self.partner_b.id: 1, self.case["starts tomorrow"].id: 1}),
        )

    def test_flag_off_everyone_eligible(self):
        """Without the flag agreements play no part: round-robin offers one lead
        to each eligible member, covered or not."""
        self.assertFalse(self.rule.require_agreement_territory)
        leads = self._leads(len(self.members), "Anyone")
        self._assign_at(leads)
        self.assertEqual(
            self._offered_to(leads),
            Counter({partner_id: 1 for partner_id in self.members.partner_id.ids}),
        )
        self.assertLessEqual(self.uncovered | self.partner_c, self.members.partner_id)
        # the same leads with the flag on all go to A
        self.rule.require_agreement_territory = True
        leads2 = self._leads(len(self.members), "Covered only")
        self._assign_at(leads2)
        self.assertEqual(
            self._offered_to(leads2), Counter({self.partner_a.id: len(self.members)})
        )

    def test_coverage_one_query(self):
        """The territory of all candidate memberships is read in one query."""
        Rule = self.env["prm.assignment.rule"]
        self.env.invalidate_all()
        with self.assertQueryCount(2):  # the memberships' partner/program, then it
            coverage = Rule._prm_agreement_coverage(self.members, NOW.date())
        membership_of = {m.partner_id: m.id for m in self.members}
        self.assertEqual(
            coverage,
            {
                self.membership_a.id: {self.france.id: None},
                self.membership_b.id: {self.usa.id: {self.california.id}},
                membership_of[self.case["Germany"]]: {self.germany.id: None},
                membership_of[self.case["Texas"]]: {self.usa.id: {self.texas.id}},
            },
        )
        # several agreements add up; a whole country wins over a list of states
        Agreement = self.env["prm.agreement"]
        values = {
            "title": "More",
            "partner_id": self.partner_b.id,
            "program_id": self.program.id,
            "user_id": self.manager.id,
            "state": "active",
            "date_start": date(2026, 6, 1),
            "date_end": date(2026, 6, 30),
        }
        Agreement.create(
            dict(
                values,
                country_ids=[Command.set([self.usa.id, self.germany.id])],
                state_ids=[Command.set([self.texas.id])],
            )
        )
        coverage = Rule._prm_agreement_coverage(self.membership_b, NOW.date())
        self.assertEqual(
            coverage[self.membership_b.id],
            {self.usa.id: {self.california.id, self.texas.id}, self.germany.id: None},
        )
        Agreement.create(dict(values, country_ids=[Command.set([self.usa.id])]))
        coverage = Rule._prm_agreement_coverage(self.membership_b, NOW.date())
        self.assertEqual(
            coverage[self.membership_b.id], {self.usa.id: None, self.germany.id: None}
        )


@tagged("post_install", "-at_install")
class TestLeadPicking(PrmLeadCommon):
    def test_weighted_is_reproducible_and_weighted(self):
        """Weighted choice: ``random.Random(lead.id)`` over tier weight x remaining
        capacity; the same lead in the same situation gets the same partner."""
        for membership in self.membership_a | self.membership_b | self.membership_c:
            membership.lead_capacity = 1000
        lead = self._leads(1)
        rule = self.rule
        memberships = self.membership_a | self.membership_b | self.membership_c
        loads = {mid: load.room() for mid, load in memberships._prm_lead_load().items()}
        candidates = [
            (m.id, m.partner_id.id, m.tier_id.lead_weight) for m in memberships
        ]
        picks = {rule._prm_pick(lead.id, candidates, loads, {}, {}) for _i in range(5)}
        self.assertEqual(len(picks), 1)
        # weight 0 is never drawn
        zero = [
            (mid, pid, 0 if mid != self.membership_b.id else 1)
            for mid, pid, _w in candidates
        ]
        self.assertEqual(
            rule._prm_pick(lead.id, zero, loads, {}, {}), self.membership_b.id
        )

        leads = self._leads(200, "Many")
        self._assign(leads)
        counts = self._offered_to(leads)
        self.assertEqual(sum(counts.values()), 200)
        # weight 3 (Gold) against 1 and 1: about 120 / 40 / 40
        self.assertGreater(counts[self.partner_c.id], 90)
        self.assertGreater(counts[self.partner_a.id], 15)
        self.assertGreater(counts[self.partner_b.id], 15)

    def test_round_robin(self):
        self.rule.pick_method = "round_robin"
        leads = self._leads(6)
        self._assign(leads)
        counts = self._offered_to(leads)
        self.assertEqual(
            counts,
            {self.partner_a.id: 2, self.partner_b.id: 2, self.partner_c.id: 2},
        )
        # ordered: A, B, C, A, B, C (never offered first, then oldest offer)
        self.assertEqual(
            leads.sorted("id").prm_offer_id.mapped("partner_id")[:3],
            self.partner_a | self.partner_b | self.partner_c,
        )

    def test_best_win_rate(self):
        self.rule.pick_method = "win_rate"
        self._won_leads(self.partner_b, [100, 100])
        lost = self._won_leads(self.partner_c, [100, 100])
        lost[0].action_set_lost()
        self.membership_b.lead_capacity = 3
        leads = self._leads(4)
        self._assign(leads)
        counts = self._offered_to(leads)
        # B wins 100%, C 50%, A has no history (0): B until full, then C
        self.assertEqual(counts, {self.partner_b.id: 3, self.partner_c.id: 1})

    def test_capacity_and_monthly_quota(self):
        """Pending offers plus open assigned leads never exceed the capacity; the
        monthly quota caps offers of the month; the rest waits."""
        self.membership_a.lead_capacity = 2
        self.membership_b.lead_capacity = 0
        self.membership_c.write({"lead_capacity": 10, "lead_monthly_quota": 1})
        self._leads(
            1, "Open", type="opportunity", partner_assigned_id=self.partner_a.id
        )
        leads = self._leads(4)
        result = self._assign(leads)
        counts = self._offered_to(leads)
        self.assertEqual(counts, {self.partner_a.id: 1, self.partner_c.id: 1})
        self.assertEqual(len(result["waiting"]), 2)
        self.assertFalse(result["fallback"])
        self.assertEqual(self.membership_a.lead_load, 2)
        self.assertEqual(self.membership_a.lead_pending_count, 1)
        self.assertEqual(self.membership_a.lead_open_count, 1)
        self.assertEqual(self.membership_a.lead_load_percent, 100)
        self.assertEqual(self.membership_c.lead_month_count, 1)
        # capacity frees up: the waiting leads go out on the next run
        self.membership_b.lead_capacity = 5
        self._assign(leads)
        self.assertEqual(len(leads.prm_offer_id), 4)

    def test_negative_capacity_refused(self):
        with self.assertRefused("cannot be negative"):
            self.membership_a.lead_capacity = -1
        self.assertEqual(self.membership_a.lead_capacity, 10)


@tagged("post_install", "-at_install")
class TestOfferLifecycle(PrmLeadCommon):
    def setUp(self):
        super().setUp()
        self.rule.pick_method = "round_robin"

    def test_offer_notifies_and_accept(self):
        with freeze_time(NOW):
            lead = self._leads(1)
            self._assign(lead)
        offer = lead.prm_offer_id
        self.assertEqual(offer.partner_id, self.partner_a)
        self.assertEqual(offer.state, "pending")
        self.assertEqual(offer.date_deadline, NOW + timedelta(hours=24))
        self.assertEqual(lead.prm_offer_deadline, offer.date_deadline)
        mail = self._offer_mails(self.partner_a)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.recipient_ids, self.portal_a.partner_id)
        self.assertIn("New leads offered to Partner A Co", mail.subject)
        self.assertIn(f"/my/lead_offers/{offer.id}", mail.body_html)
        self.assertIn("Lead 0", mail.body_html)
        self.assertTrue(offer.notified)

        with freeze_time(NOW + timedelta(hours=2)):
            offer.with_user(self.portal_a).sudo().action_accept()
        self.assertEqual(offer.state, "accepted")
        self.assertEqual(lead.partner_assigned_id, self.partner_a)
        self.assertEqual(lead.type, "opportunity")
        self.assertEqual(lead.prm_origin, "assigned")
        self.assertEqual(lead.prm_program_id, self.program)
        self.assertTrue(lead.date_partner_assign)
        self.assertFalse(lead.prm_offer_id)
        self.assertIn(self.portal_a.partner_id, lead.message_partner_ids)
        # answered offers cannot be answered again
        with self.assertRefused("already answered", UserError):
            offer.action_decline(self.reason)

    def test_decline_reoffers_then_fallback(self):
        """A decline offers the lead to the next partner, never the same one twice;
        after ``max_offers`` the fallback team and salesperson take it."""
        lead = self._leads(1)
        self._assign(lead)
        first = lead.prm_offer_id
        with self.assertRefused("Give a reason", UserError):
            first.action_decline()
        self.assertEqual(first.state, "pending")
        first.action_decline(self.reason, "Too busy")
        self.assertEqual(first.state, "declined")
        self.assertEqual(first.decline_note, "Too busy")
        self.assertIn(first.partner_id, lead.partner_declined_ids)
        second = lead.prm_offer_id
        self.assertTrue(second)
        self.assertNotEqual(second.partner_id, first.partner_id)
        second.action_decline(note="Not our field")
        # max 2 offers: fallback
        self.assertFalse(lead.prm_offer_id)
        self.assertTrue(lead.prm_fallback)
        self.assertEqual(lead.team_id, self.fallback_team)
        self.assertEqual(lead.user_id, self.fallback_user)
        self.assertFalse(lead.partner_assigned_id)
        self.assertEqual(len(lead.prm_offer_ids), 2)
        # no further distribution of a fallback lead
        self.assertFalse(self._assign(lead)["offers"])

    def test_deadline_expiry_reoffers(self):
        with freeze_time(NOW):
            lead = self._leads(1)
            self._assign(lead)
        first = lead.prm_offer_id
        with freeze_time(NOW + timedelta(hours=23)):
            self.assertFalse(self.env["prm.lead.offer"]._expire_overdue_offers())
        # after the deadline, not yet swept by the cron: refused, nothing changes
        with freeze_time(NOW + timedelta(hours=25)):
            with self.assertRefused("expired", UserError):
                first.action_accept()
            self.assertEqual(first.state, "pending")
            self.assertFalse(lead.partner_assigned_id)
            self.env["prm.assignment.rule"]._cron_assign_partner_leads()
        self.assertEqual(first.state, "expired")
        second = lead.prm_offer_id
        self.assertEqual(second.partner_id, self.partner_b)
        self.assertEqual(second.date_offered, NOW + timedelta(hours=25))
        with self.assertRefused("expired", UserError):
            first.action_accept()
        with freeze_time(NOW + timedelta(hours=50)):
            self.env["prm.assignment.rule"]._cron_assign_partner_leads()
        self.assertEqual(second.state, "expired")
        self.assertTrue(lead.prm_fallback)
        self.assertEqual(
            set(lead.partner_declined_ids.ids), {self.partner_a.id, self.partner_b.id}
        )

    def test_withdrawn_offer_cannot_be_accepted(self):
        lead = self._leads(1)
        self._assign(lead)
        offer = lead.prm_offer_id
        offer.action_withdraw()
        with self.assertRefused("withdrawn", UserError):
            offer.action_accept()
        self.assertFalse(lead.partner_assigned_id)
        # the lead is offered again, to someone else
        self._assign(lead)
        self.assertTrue(lead.prm_offer_id)
        self.assertNotEqual(lead.prm_offer_id.partner_id, offer.partner_id)

    def test_one_pending_offer_per_lead_in_database(self):
        lead = self._leads(1)
        self._assign(lead)
        with (
            self.assertRaises(IntegrityError),
            mute_logger("odoo.sql_db"),
            self.cr.savepoint(),
        ):
            self.env["prm.lead.offer"].create(
                {
                    "lead_id": lead.id,
                    "partner_id": self.partner_c.id,
                    "membership_id": self.membership_c.id,
                    "date_deadline": NOW,
                }
            )
            self.env.flush_all()

    def test_reminder_before_deadline(self):
        with freeze_time(NOW):
            lead = self._leads(1)
            self._assign(lead)
        offer = lead.prm_offer_id
        Offer = self.env["prm.lead.offer"]
        with freeze_time(NOW + timedelta(hours=17)):
            self.assertFalse(Offer._send_deadline_reminders())
        with freeze_time(NOW + timedelta(hours=19)):
            self.assertEqual(Offer._send_deadline_reminders(), offer)
            self.assertFalse(Offer._send_deadline_reminders(), "sent once")
        self.assertTrue(offer.reminder_sent)
        mails = self._offer_mails(offer.partner_id)
        self.assertEqual(len(mails), 2)
        reminder = mails.filtered(lambda m: "Reminder" in m.subject)
        self.assertIn("deadline is near", reminder.body_html)
        self.assertIn(f"/my/lead_offers/{offer.id}", reminder.body_html)

    def test_one_mail_per_partner_and_run(self):
        """Offers of one run are mailed as one digest per partner company; the
        company itself receives it when it has no portal user."""
        leads = self._leads(4)
        result = self._assign(leads)
        self.assertEqual(len(result["offers"]), 4)
        for partner in result["offers"].partner_id:
            mail = self._offer_mails(partner)
            self.assertEqual(len(mail), 1, partner.name)
            for offer in result["offers"].filtered(
                lambda o, p=partner: o.partner_id == p
            ):
                self.assertIn(f"/my/lead_offers/{offer.id}", mail.body_html)
        self.assertEqual(
            self._offer_mails(self.partner_c).recipient_ids, self.partner_c
        )

    def test_forward_wizard(self):
        lead = self._leads(1, "Manual", country_id=self.germany.id)
        wizard = Form(
            self.env["crm.lead.prm.forward"]
            .with_user(self.manager)
            .with_context(default_lead_id=lead.id)
        )
        wizard.membership_id = self.membership_b
        wizard.deadline_hours = 10
        wizard.save().action_forward()
        offer = lead.prm_offer_id
        self.assertEqual(offer.partner_id, self.partner_b)
        self.assertFalse(offer.rule_id)
        # forwarding to another partner withdraws the pending offer
        wizard = Form(
            self.env["crm.lead.prm.forward"].with_context(default_lead_id=lead.id)
        )
        wizard.membership_id = self.membership_c
        wizard.mode = "assign"
        wizard.save().action_forward()
        self.assertEqual(offer.state, "withdrawn")
        self.assertEqual(lead.partner_assigned_id, self.partner_c)
        # never twice the same partner
        lead2 = self._leads(1, "Manual 2")
        self._assign(lead2)
        taken = lead2.prm_offer_id.membership_id
        wizard = self.env["crm.lead.prm.forward"].create(
            {"lead_id": lead2.id, "membership_id": taken.id}
        )
        with self.assertRefused("already offered", UserError):
            wizard.action_forward()

    def test_list_action_and_rights(self):
        leads = self._leads(2)
        with self.assertRefused("Only partner managers", UserError):
            leads.with_user(self.prm_user).action_assign_partner_leads()
        self.assertFalse(leads.prm_offer_id)
        action = leads.with_user(self.manager).action_assign_partner_leads()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(len(leads.prm_offer_id), 2)
        action = self.rule.with_user(self.manager).action_assign_partner_leads()
        self.assertIn("leads offered to partners", action["params"]["message"])


@tagged("post_install", "-at_install")
class TestLeadAssignmentPerformance(PrmLeadCommon):
    """The queries of one chunk do not depend on its size."""

    def _queries(self, leads):
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        with freeze_time(NOW):
            result = self.rule._action_assign_partner_leads(leads=leads)
            self.env.flush_all()
        return self.env.cr.sql_log_count - before, result

    def _check_query_count(self, prefix):
        """Query count of one chunk for 10 and 100 leads: the same; return it."""
        for membership in self.membership_a | self.membership_b | self.membership_c:
            membership.lead_capacity = 1000
        self._queries(self._leads(3, f"{prefix} warm"))
        counts = {}
        for size in (10, 100):
            leads = self._leads(size, f"{prefix} size {size}")
            counts[size], result = self._queries(leads)
            self.assertEqual(len(result["offers"]), size)
        self.assertEqual(counts[10], counts[100])
        for size in (10, 100):
            leads = self._leads(size, f"{prefix} again {size}")
            self.env.flush_all()
            self.env.invalidate_all()
            with freeze_time(NOW), self.assertQueryCount(counts[10]):
                self.rule._action_assign_partner_leads(leads=leads)
                self.env.flush_all()
            self.assertEqual(len(leads.prm_offer_id), size)
        return counts[10]

    def test_query_count_does_not_grow(self):
        self._check_query_count("Plain")

    def test_query_count_with_agreement_territory(self):
        """With *Agreement must cover the territory*, one more query per run
        (the territory of all candidates), whatever the number of leads."""
        without = self._check_query_count("Without")
        self.env["prm.agreement"].create(
            [
                {
                    "title": "France",
                    "partner_id": partner.id,
                    "program_id": self.program.id,
                    "user_id": self.manager.id,
                    "state": "active",
                    "date_start": date(2026, 1, 1),
                    "date_end": date(2026, 12, 31),
                    "country_ids": [Command.link(self.france.id)],
                }
                for partner in self.partner_a | self.partner_b
            ]
        )
        self.rule.require_agreement_territory = True
        self.assertEqual(self._check_query_count("With"), without + 1)
        offered = self.env["prm.lead.offer"].search(
            [("lead_id.name", "=like", "With %")]
        )
        self.assertEqual(offered.partner_id, self.partner_a | self.partner_b)

    def test_bad_input_deadline(self):
        with self.assertRefused("deadline"):
            self.rule.deadline_hours = 0
