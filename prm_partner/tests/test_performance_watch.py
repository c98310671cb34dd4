from datetime import date, datetime, timedelta

from freezegun import freeze_time

from odoo.fields import Command
from odoo.tests import HttpCase, tagged

from .common import PrmCommon

NOW = datetime(2026, 6, 15, 12, 0, 0)
TODAY = NOW.date()


class PrmWatchCommon(PrmCommon):
    """A known dataset for the agreement goals on scorecards and the "partners to
    watch" flags, on 2026-06-15 (45.5% of the year 2026 elapsed).

    - A's active agreement: revenue 3,000 / 10,000 (30%: behind), deals 1 / 2
      (50%: on plan), a goal starting in July (not started: never behind);
    - B's active agreement: revenue 900 / 1,000 (90%); B's draft agreement has a
      goal far behind, which never counts;
    - offers of A: 4 / 4 in time in the previous 30 days, 2 / 4 in the last 30
      days (falling); of B: 4 / 4 then 0 / 2 (too few offers to judge)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agreement_a = cls._agreement(
            cls.partner_a,
            "Agreement of A",
            [
                {"measure": "won_revenue", "target": 10000, "name": "Revenue A"},
                {"measure": "won_deals", "target": 2},
                {
                    "measure": "won_deals",
                    "target": 5,
                    "date_from": date(2026, 7, 1),
                    "date_to": date(2026, 12, 31),
                },
            ],
        )
        cls.agreement_b = cls._agreement(
            cls.partner_b,
            "Agreement of B",
            [{"measure": "won_revenue", "target": 1000, "name": "Revenue B"}],
        )
        (cls.agreement_a | cls.agreement_b).sudo().state = "active"
        cls.draft_b = cls._agreement(
            cls.partner_b, "Draft of B", [{"measure": "won_deals", "target": 100}]
        )
        cls._won_leads(cls.partner_a, [3000], closed=date(2026, 3, 1))
        cls._won_leads(cls.partner_b, [900], closed=date(2026, 3, 1))
        in_time, late = 2, 30  # hours to answer; the deadline is 24 hours
        cls._offers(
            cls.membership_a,
            [
                (date(2026, 4, 1), "accepted", late),  # older than 60 days
                *[(date(2026, 5, day), "accepted", in_time) for day in (1, 2, 3, 4)],
                (date(2026, 6, 1), "accepted", in_time),
                (date(2026, 6, 2), "declined", in_time),
                (date(2026, 6, 3), "expired", None),
                (date(2026, 6, 4), "accepted", late),
                (date(2026, 6, 5), "withdrawn", in_time),  # never counts
                (NOW - timedelta(hours=3), "pending", None),  # deadline not passed
            ],
        )
        cls._offers(
            cls.membership_b,
            [
                *[(date(2026, 5, day), "accepted", in_time) for day in (1, 2, 3, 4)],
                (date(2026, 6, 1), "expired", None),
                (date(2026, 6, 2), "expired", None),
            ],
        )

    @classmethod
    def _agreement(cls, partner, title, goals):
        return cls.env["prm.agreement"].create(
            {
                "title": title,
                "partner_id": partner.id,
                "program_id": cls.program.id,
                "date_start": date(2026, 1, 1),
                "date_end": date(2026, 12, 31),
                "user_id": cls.manager.id,
                "goal_ids": [Command.create(goal) for goal in goals],
            }
        )

    @classmethod
    def _offers(cls, membership, specs):
        leads = cls.env["crm.lead"].create(
            [{"name": f"Offered lead {n}", "type": "lead"} for n in range(len(specs))]
        )
        offers = []
        for lead, (when, state, hours) in zip(leads, specs, strict=True):
            offered = (
                when
                if isinstance(when, datetime)
                else datetime.combine(when, datetime.min.time())
            )
            offers.append(
                {
                    "lead_id": lead.id,
                    "partner_id": membership.partner_id.id,
                    "membership_id": membership.id,
                    "date_offered": offered,
                    "date_deadline": offered + timedelta(hours=24),
                    "date_answered": hours and offered + timedelta(hours=hours),
                    "state": state,
                }
            )
        return cls.env["prm.lead.offer"].create(offers)


@tagged("post_install", "-at_install")
class TestPerformanceWatch(PrmWatchCommon):
    def test_scorecard_goals(self):
        cards = (self.membership_a | self.membership_b)._prm_scorecard(
            date(2026, 4, 1), date(2026, 7, 1)
        )
        goals_a = cards[self.membership_a.id]["goals"]
        self.assertEqual(
            [
                (g["measure"], g["name"], g["date_from"], g["target"], g["achieved"])
                for g in goals_a
            ],
            [
                ("Won revenue", "Revenue A", "2026-01-01", 10000, 3000),
                ("Won deals", "", "2026-01-01", 2, 1),
                ("Won deals", "", "2026-07-01", 5, 0),
            ],
        )
        self.assertEqual([g["progress"] for g in goals_a], [30.0, 50.0, 0.0])
        self.assertEqual({g["agreement"] for g in goals_a}, {self.agreement_a.name})
        # only the active agreement of B, never its draft
        goals_b = cards[self.membership_b.id]["goals"]
        self.assertEqual(
            [(g["name"], g["progress"]) for g in goals_b], [("Revenue B", 90.0)]
        )
        # no active agreement: no goals
        self.agreement_b.sudo().state = "terminated"
        card = self.membership_b._prm_scorecard(date(2026, 4, 1), date(2026, 7, 1))
        self.assertEqual(card[self.membership_b.id]["goals"], [])

    def test_scorecard_goals_rendered(self):
        html, _kind = self.env["ir.actions.report"]._render_qweb_html(
            "prm_partner.action_report_prm_scorecard",
            self.membership_a.ids,
            data={"date_from": "2026-04-01", "date_to": "2026-06-30"},
        )
        html = html.decode()
        self.assertIn("Agreement goals", html)
        self.assertEqual(html.count('o_prm_scorecard_goal"'), 3)
        for text in (
            self.agreement_a.name,
            "Revenue A",
            "10,000.00",
            "3,000.00",
            "30.0",
            "50.0",
        ):
            self.assertIn(text, html)
        self.assertNotIn(self.agreement_b.name, html)
        self.assertNotIn("Revenue B", html)
        # back-office wizard: same content
        wizard = self.env["prm.membership.scorecard"].create(
            {"membership_id": self.membership_b.id}
        )
        self.assertIn("Revenue B", wizard.scorecard_html)
        self.assertIn("90.0", wizard.scorecard_html)
        self.assertNotIn("Revenue A", wizard.scorecard_html)

    def test_scorecard_goals_query_count(self):
        """All goal lines of a scorecard are measured at once: more goals, no
        more queries."""
        self.env.flush_all()
        self.env.invalidate_all()
        count = self.cr.sql_log_count
        self.membership_a._prm_scorecard_goals()
        queries = self.cr.sql_log_count - count
        self.agreement_a.goal_ids = [
            Command.create({"measure": measure, "target": 10})
            for measure in ("won_revenue", "won_deals", "new_customers") * 2
        ] + [Command.create({"measure": "certified_people", "target": 3})]
        self.env.flush_all()
        self.env.invalidate_all()
        with self.assertQueryCount(queries):
            goals = self.membership_a._prm_scorecard_goals()[self.membership_a.id]
        self.assertEqual(len(goals), 10)

    def test_goals_behind(self):
        with freeze_time(NOW):
            behind = (self.membership_a | self.membership_b)._prm_goals_behind(TODAY)
            self.assertEqual(list(behind), [self.membership_a.id])
            self.assertEqual(behind[self.membership_a.id].mapped("name"), ["Revenue A"])
            self.assertTrue(self.membership_a.prm_goals_behind)
            self.assertEqual(self.membership_a.prm_goals_behind_count, 1)
            self.assertFalse(self.membership_b.prm_goals_behind)
            Membership = self.env["prm.membership"]
            both = self.membership_a | self.membership_b
            self.assertEqual(
                Membership.search(
                    [("id", "in", both.ids), ("prm_goals_behind", "=", True)]
                ),
                self.membership_a,
            )
            self.assertIn(
                self.membership_b, Membership.search([("prm_goals_behind", "=", False)])
            )
        # on 10 January 10 days of 365 elapsed (3%): A's 30% is on plan
        with freeze_time("2026-01-10"):
            self.assertFalse(
                (self.membership_a | self.membership_b)._prm_goals_behind(
                    date(2026, 1, 10)
                )
            )
        # in December (95%), B's 90% is behind too
        with freeze_time("2026-12-15"):
            behind = (self.membership_a | self.membership_b)._prm_goals_behind(
                date(2026, 12, 15)
            )
            self.assertEqual(set(behind), {self.membership_a.id, self.membership_b.id})
            # A: also the deals of the year (50%) and the July goal (0 / 5)
            self.assertEqual(len(behind[self.membership_a.id]), 3)

    def test_sla_falling(self):
        with freeze_time(NOW):
            trend = (self.membership_a | self.membership_b)._prm_sla_trend(TODAY)
            self.assertEqual(
                trend[self.membership_a.id],
                {"recent": 50.0, "previous": 100.0, "falling": True},
            )
            # B dropped from 100% to 0% but on 2 offers only
            self.assertEqual(
                trend[self.membership_b.id],
                {"recent": 0.0, "previous": 100.0, "falling": False},
            )
            self.assertEqual(
                (self.membership_a.prm_sla_recent, self.membership_a.prm_sla_previous),
                (50.0, 100.0),
            )
            self.assertTrue(self.membership_a.prm_sla_falling)
            self.assertFalse(self.membership_b.prm_sla_falling)
            Membership = self.env["prm.membership"]
            both = self.membership_a | self.membership_b
            domain = [("id", "in", both.ids), ("prm_sla_falling", "=", True)]
            self.assertEqual(Membership.search(domain), self.membership_a)
            params = self.env["ir.config_parameter"].sudo()
            params.set_param("prm_partner.sla_min_offers", 2)
            self.assertEqual(Membership.search(domain), both)
            # a drop of exactly the threshold does not count: A drops 50 points
            params.set_param("prm_partner.sla_drop_points", 50)
            trend = self.membership_a._prm_sla_trend(TODAY)
            self.assertFalse(trend[self.membership_a.id]["falling"])

    def test_watch_query_count_does_not_grow(self):
        """The dashboard flags of 2 or of 8 memberships cost the same queries."""
        partners = self.env["res.partner"].create(
            [{"name": f"Watch partner {n}", "is_company": True} for n in range(6)]
        )
        memberships = self.env["prm.membership"].create(
            [
                {
                    "partner_id": partner.id,
                    "program_id": self.program.id,
                    "state": "active",
                }
                for partner in partners
            ]
        )
        for partner, membership in zip(partners, memberships, strict=True):
            agreement = self._agreement(partner, "Watch", [{"target": 100}])
            agreement.sudo().state = "active"
            self._offers(membership, [(date(2026, 6, 1), "expired", None)])
        small = self.membership_a | self.membership_b
        large = small | memberships
        fnames = ["prm_goals_behind_count", "prm_sla_recent", "prm_sla_falling"]
        self.env.flush_all()
        with freeze_time(NOW):
            self.env.invalidate_all()
            count = self.cr.sql_log_count
            small.read(fnames)
            small_count = self.cr.sql_log_count - count
            self.env.invalidate_all()
            with self.assertQueryCount(small_count):
                large.read(fnames)
            self.assertEqual(
                self.env["prm.membership"].search(
                    [("id", "in", large.ids), ("prm_goals_behind", "=", True)]
                ),
                self.membership_a | memberships,
            )


@tagged("post_install", "-at_install")
class TestPerformanceWatchPortal(PrmWatchCommon, HttpCase):
    def test_my_performance_shows_own_goals(self):
        self.authenticate("portal_partner_a", "portal_partner_a")
        response = self.url_open("/my/performance")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Agreement goals", response.text)
        for text in (self.agreement_a.name, "Revenue A", "10,000.00", "30.0"):
            self.assertIn(text, response.text)
        self.assertNotIn(self.agreement_b.name, response.text)
        self.assertNotIn("Revenue B", response.text)
        self.authenticate("portal_partner_b", "portal_partner_b")
        response = self.url_open("/my/performance")
        self.assertIn("Revenue B", response.text)
        self.assertIn("90.0", response.text)
        for text in (self.agreement_a.name, "Revenue A", self.draft_b.name):
            self.assertNotIn(text, response.text)
