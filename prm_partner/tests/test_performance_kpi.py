import re
from datetime import date, timedelta

from odoo.tests import tagged
from odoo.tools import SQL

from .performance_common import Q2_FROM, Q2_TO, PrmPerformanceCommon, dt


@tagged("post_install", "-at_install")
class TestPerformanceKpi(PrmPerformanceCommon):
    def _card(self, membership):
        card = membership._prm_scorecard(Q2_FROM, Q2_TO)[membership.id]
        return {kpi["name"]: kpi for kpi in card["kpis"]}, card

    def test_scorecard_every_kpi(self):
        kpis, card = self._card(self.membership_a)
        expected = {
            "won_count": 4,
            "won_revenue": 48000.0,
            "avg_deal_size": 12000.0,  # the deal without revenue counts
            "win_rate": 80.0,
            "sales_cycle_days": 15.25,  # (10 + 30 + 20 + 1) / 4
            "lead_count": 2,
            "conversion_rate": 50.0,
            "new_customer_count": 3,  # customer 2 had an earlier win
            "offer_count": 0,
            "acceptance_rate": None,  # no offers: empty, not zero
            "sla_compliance": None,
            "response_hours_median": None,
            "registration_count": 0,
            "registration_approval_rate": None,
            "csat": 8.0,
            "nps": 100.0 / 3,  # 2 promoters, 1 detractor of 3
            "psat": 8.0,
            "partner_costs": 5400.0,  # 2000 + 1000 + 5% of 48000
            "cac": 1800.0,
            "roi": (48000 - 5400) / 5400 * 100,
            "certified_people": 2,
        }
        self.assertEqual(set(expected), set(kpis))
        for name, value in expected.items():
            with self.subTest(kpi=name):
                if value is None:
                    self.assertIsNone(kpis[name]["value"])
                else:
                    self.assertAlmostEqual(kpis[name]["value"], value, places=6)
        # previous period (Q1): one win of 5000 for a new customer
        self.assertEqual(kpis["won_count"]["previous"], 1)
        self.assertEqual(kpis["won_revenue"]["previous"], 5000.0)
        self.assertEqual(kpis["new_customer_count"]["previous"], 1)
        self.assertIsNone(kpis["csat"]["previous"])
        # one other Silver membership in Reseller (B): too few for a median
        self.assertTrue(all(kpi["median"] is None for kpi in kpis.values()))
        self.assertEqual(card["tier"], "Silver")
        self.assertEqual(card["next_tier"], "Gold")
        self.assertEqual(card["certifications"]["valid"], 3)
        self.assertEqual(
            (card["date_from"], card["date_to"]), ("2026-04-01", "2026-06-30")
        )

    def _add_silver_peers(self, revenues):
        """Silver memberships of Reseller, one won deal and one cost each in Q2."""
        partners = self.env["res.partner"].create(
            [{"name": f"Peer {n}", "is_company": True} for n in range(len(revenues))]
        )
        peers = self.env["prm.membership"].create(
            [
                {
                    "partner_id": partner.id,
                    "program_id": self.program.id,
                    "state": "active",
                    "user_id": self.manager.id,
                }
                for partner in partners
            ]
        )
        peers.tier_id = self.silver
        for partner, revenue in zip(partners, revenues, strict=True):
            self._won_leads(
                partner, [revenue], closed=date(2026, 5, 2), program=self.program
            )
        self.env["prm.partner.cost"].create(
            [
                {
                    "name": "Peer fee",
                    "membership_id": peer.id,
                    "amount": 777 * (index + 1),
                    "date": date(2026, 5, 3),
                }
                for index, peer in enumerate(peers)
            ]
        )
        self.env.flush_all()
        return peers

    def test_scorecard_median_needs_five_other_members(self):
        # B and 3 peers: 4 other Silver memberships for A, no median at all
        self._add_silver_peers([1000, 2000, 3000])
        kpis, _card = self._card(self.membership_a)
        self.assertTrue(all(kpi["median"] is None for kpi in kpis.values()))
        # a 5th other member: the median of the 6 (A 48000, B 20000, 1000-4000)
        self._add_silver_peers([4000])
        kpis, _card = self._card(self.membership_a)
        self.assertEqual(kpis["won_revenue"]["median"], 3500.0)
        self.assertEqual(kpis["won_count"]["median"], 1)
        # never the peers' costs, CAC or ROI, though every peer has costs
        for name in ("partner_costs", "cac", "roi"):
            with self.subTest(kpi=name):
                self.assertIsNotNone(kpis[name]["value"])
                self.assertIsNone(kpis[name]["median"])
        # nor in the rendered scorecard: the median cell of those rows is empty
        html = str(self.membership_a._prm_scorecard_html(Q2_FROM, Q2_TO))
        for name, median in (
            ("won_revenue", "3,500.00"),
            ("partner_costs", "-"),
            ("cac", "-"),
            ("roi", "-"),
        ):
            row = html.split(f'data-kpi="{name}"', 1)[1].split("</tr>", 1)[0]
            cells = re.findall(r'<td class="text-end text-muted">(.*?)</td>', row, re.S)
            with self.subTest(row=name):
                self.assertIn(median, cells[-1])
                if median == "-":
                    self.assertNotRegex(cells[-1], r"\d")

    def test_partner_in_several_programs(self):
        """The deal without program counts in each program of the partner; the
        programmed ones only in theirs."""
        kpis, _card = self._card(self.membership_a_ref)
        self.assertEqual(kpis["won_count"]["value"], 1)
        self.assertEqual(kpis["won_revenue"]["value"], 8000.0)
        self.assertEqual(kpis["win_rate"]["value"], 100.0)
        self.assertEqual(kpis["new_customer_count"]["value"], 1)
        self.assertEqual(kpis["partner_costs"]["value"], 0.0)  # Affiliate: 0%
        self.assertEqual(kpis["cac"]["value"], 0.0)
        self.assertIsNone(kpis["roi"]["value"])  # no costs: no ROI
        self.assertIsNone(kpis["conversion_rate"]["value"])  # no lead received
        self.assertIsNone(kpis["csat"]["value"])
        self.assertIsNone(kpis["psat"]["value"])

    def test_report_rates_are_ratios_of_sums(self):
        Report = self.env["prm.partner.performance.report"]
        period = [("date", ">=", Q2_FROM), ("date", "<", Q2_TO)]
        rows = Report._read_group(
            [*period, ("program_id", "=", self.program.id)],
            ["program_id", "tier_id"],
            [
                "won_count:sum",
                "lost_count:sum",
                "won_revenue:sum",
                "win_rate:sum",
                "avg_deal_size:avg",
                "acceptance_rate:sum",
            ],
        )
        self.assertEqual(len(rows), 1)
        _program, tier, won, lost, revenue, win_rate, avg_size, acceptance = rows[0]
        self.assertEqual(tier, self.silver)
        self.assertEqual((won, lost, revenue), (5, 1, 68000.0))
        # 5 / 6, not the mean of 80% and 100%
        self.assertAlmostEqual(win_rate, 500.0 / 6)
        self.assertAlmostEqual(avg_size, 68000.0 / 5)
        self.assertFalse(acceptance)  # no offers: empty
        # by month, the pivot of the views
        by_month = dict(
            Report._read_group(
                [*period, ("membership_id", "=", self.membership_a.id)],
                ["date:month"],
                ["won_revenue:sum"],
            )
        )
        self.assertEqual(
            by_month,
            {
                date(2026, 4, 1): 10000.0,
                date(2026, 5, 1): 30000.0,
                date(2026, 6, 1): 8000.0,
            },
        )
        # grouped by partner, A's deal without program counts once per program
        rows = Report._read_group(
            [*period, ("partner_id", "=", self.partner_a.id)],
            ["partner_id"],
            ["won_count:sum", "commission_amount:sum", "cost_mdf:sum", "cost_fee:sum"],
        )
        self.assertEqual(rows[0][1:], (5, 2400.0, 2000.0, 1000.0))

    def test_report_sees_pending_writes(self):
        """Source writes not yet flushed are flushed before the report query."""
        self.w1.expected_revenue = 12345
        self.surveys[0].score = 2
        row = self.env["prm.partner.performance.report"].search(
            [("lead_id", "=", self.w1.id), ("kind", "=", "won")]
        )
        self.assertEqual(row.won_revenue, 12345.0)
        csat = self.env["prm.partner.performance.report"]._read_group(
            [("lead_id", "=", self.w1.id), ("kind", "=", "csat")], [], ["csat:sum"]
        )
        self.assertEqual(csat[0][0], 2.0)

    def test_report_columns_without_offer_models(self):
        Report = self.env["prm.partner.performance.report"]
        for fname in (
            "offer_count",
            "acceptance_rate",
            "sla_compliance",
            "response_hours_median",
            "registration_count",
            "registration_flagged",
            "won_revenue_registered",
        ):
            self.assertIn(fname, Report._fields)
        row = Report.search([("lead_id", "=", self.w1.id), ("kind", "=", "won")])
        self.assertEqual(len(row), 1)
        self.assertEqual(row.won_revenue, 10000.0)
        self.assertFalse(row.acceptance_rate)
        self.assertEqual(row.win_rate, 100.0)

    def test_measure_satisfaction_feeds_tier_criterion(self):
        scores = self.membership_a._measure_satisfaction(date(2026, 1, 1))
        self.assertEqual(scores, {self.partner_a: 8.0})
        self.assertEqual(self.membership_b._measure_satisfaction(date(2026, 1, 1)), {})
        # answers before the window do not count
        self.assertEqual(
            self.membership_a._measure_satisfaction(date(2026, 5, 1)),
            {self.partner_a: 7.0},
        )
        (self.silver | self.gold).min_satisfaction = 8.5
        self.silver.min_satisfaction = 7.5
        values = self.membership_a._prm_measure(date(2026, 6, 15))[self.membership_a.id]
        self.assertEqual(values[self.silver.id]["satisfaction"], 8.0)
        criteria = self.membership_a._criteria_met(self.silver, values[self.silver.id])
        self.assertEqual(criteria[-1][1:4], (8.0, 7.5, True))
        criteria = self.membership_a._criteria_met(self.gold, values[self.gold.id])
        self.assertEqual(criteria[-1][1:4], (8.0, 8.5, False))
        self.assertIsNone(
            self.membership_b._prm_measure(date(2026, 6, 15))[self.membership_b.id][
                self.silver.id
            ]["satisfaction"]
        )

    def test_commission_rates(self):
        both = self.membership_a | self.membership_a_ref
        expected = {self.membership_a.id: 5.0, self.membership_a_ref.id: 0.0}
        self.assertEqual(both._effective_commission_rates(), expected)
        Membership = self.env["prm.membership"]
        self.assertEqual(Membership._effective_commission_rates(both), expected)
        # the report's commissions follow the same rates
        rows = self.env["prm.partner.performance.report"]._read_group(
            [("membership_id", "in", both.ids), ("kind", "=", "won")],
            ["membership_id"],
            ["won_revenue:sum", "commission_amount:sum"],
        )
        for membership, revenue, commission in rows:
            self.assertAlmostEqual(commission, revenue * expected[membership.id] / 100)

    def test_scorecard_query_count_does_not_grow(self):
        membership = self.membership_a.with_user(self.manager)
        membership._prm_scorecard(Q2_FROM, Q2_TO)  # warm the caches
        self.env.invalidate_all()
        with self.assertQueryCount(18):
            membership._prm_scorecard(Q2_FROM, Q2_TO)
        self._won_leads(
            self.partner_a, [100] * 60, closed=date(2026, 5, 3), program=self.program
        )
        self.env.flush_all()
        self.env.invalidate_all()
        with self.assertQueryCount(18):
            kpis = {
                kpi["name"]: kpi["value"]
                for kpi in membership._prm_scorecard(Q2_FROM, Q2_TO)[membership.id][
                    "kpis"
                ]
            }
        self.assertEqual(kpis["won_count"], 64)

    def test_satisfaction_bad_input(self):
        with self.assertRefused("0 to 10"):
            self.surveys[0].score = 11
        self.assertEqual(self.surveys[0].score, 10)
        with self.assertRefused("won partner deals only"):
            self.env["prm.lead.satisfaction"].create({"lead_id": self.r1.id})
        with self.assertRefused("positive amount"):
            self.env["prm.partner.cost"].create(
                {"name": "x", "membership_id": self.membership_a.id, "amount": -5}
            )
        survey = self.surveys[1]
        with self.assertRefused("already answered", exception=Exception):
            survey._submit_customer_answer(3)
        self.assertEqual(survey.score, 9)
        self.assertEqual(survey.date_answered, dt(date(2026, 5, 5)))


@tagged("post_install", "-at_install")
class TestPerformanceOfferSql(PrmPerformanceCommon):
    """The SQL of the offer and registration parts of the report, checked against
    a known dataset in temporary tables of the same shape as ``prm_lead_offer`` and
    ``prm_deal_registration`` (they shadow the real tables in this transaction and
    are rolled back)."""

    def _aggregate(self, part, fnames):
        Report = self.env["prm.partner.performance.report"]
        selects = [
            Report._ratio_sql(fname, agg=True, table="f")
            if fname in Report._prm_rate_fields() and fname != "response_hours_median"
            else SQL("SUM(%s)", SQL.identifier("f", fname))
            for fname in fnames
        ]
        selects.append(
            SQL("PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY f.response_hours)")
        )
        self.env.cr.execute(
            SQL(
                "SELECT %s FROM (%s) f WHERE f.membership_id = %s",
                SQL(", ").join(selects),
                part,
                self.membership_a.id,
            )
        )
        return self.env.cr.fetchone()

    def test_offer_kpis(self):
        cr = self.env.cr
        cr.execute(
            """
            CREATE TEMPORARY TABLE prm_lead_offer (
                id serial, lead_id int, partner_id int, rule_id int,
                date_offered timestamp, date_deadline timestamp,
                date_answered timestamp, state varchar) ON COMMIT DROP
            """
        )
        offered = dt(date(2026, 4, 2))
        hour = timedelta(hours=1)
        cr.executemany(
            "INSERT INTO prm_lead_offer (lead_id, partner_id, date_offered, "
            "date_deadline, date_answered, state) VALUES (%s, %s, %s, %s, %s, %s)",
            [
                (
                    self.w1.id,
                    self.partner_a.id,
                    offered,
                    offered + 24 * hour,
                    offered + 2 * hour,
                    "accepted",
                ),
                (
                    self.w2.id,
                    self.partner_a.id,
                    offered,
                    offered + 24 * hour,
                    offered + 30 * hour,
                    "declined",
                ),
                (
                    self.w3.id,
                    self.partner_a.id,
                    offered,
                    offered + 24 * hour,
                    None,
                    "expired",
                ),
                (
                    self.w3.id,
                    self.partner_a.id,
                    offered,
                    offered + 24 * hour,
                    None,
                    "withdrawn",
                ),
            ],
        )
        Report = self.env["prm.partner.performance.report"]
        values = self._aggregate(
            Report._query_offers(),
            [
                "offer_count",
                "offer_accepted",
                "offer_declined",
                "offer_expired",
                "offer_in_time",
                "acceptance_rate",
                "sla_compliance",
            ],
        )
        self.assertEqual(values[:5], (3, 1, 1, 1, 1))
        self.assertAlmostEqual(values[5], 100.0 / 3)
        self.assertAlmostEqual(values[6], 100.0 / 3)
        self.assertAlmostEqual(values[7], 16.0)  # median of 2 and 30 hours

    def test_registration_kpis(self):
        cr = self.env.cr
        cr.execute(
            """
            CREATE TEMPORARY TABLE prm_deal_registration (
                id serial, partner_id int, create_date timestamp, state varchar,
                conflict_count int) ON COMMIT DROP
            """
        )
        cr.executemany(
            "INSERT INTO prm_deal_registration (partner_id, create_date, state, "
            "conflict_count) VALUES (%s, %s, %s, %s)",
            [
                (self.partner_a.id, dt(date(2026, 4, 3)), "approved", 2),
                (self.partner_a.id, dt(date(2026, 4, 4)), "submitted", 0),
                (self.partner_a.id, dt(date(2026, 4, 5)), "rejected", None),
            ],
        )
        Report = self.env["prm.partner.performance.report"]
        values = self._aggregate(
            Report._query_registrations(),
            [
                "registration_count",
                "registration_approved",
                "registration_flagged",
                "registration_approval_rate",
                "registration_conflict_rate",
            ],
        )
        self.assertEqual(values[:3], (3, 1, 1))
        self.assertAlmostEqual(values[3], 100.0 / 3)
        self.assertAlmostEqual(values[4], 100.0 / 3)
        self.assertIsNone(values[5])  # no offers, no response time
