from datetime import timedelta

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import ValidationError
from odoo.fields import Command
from odoo.sql_db import db_connect
from odoo.tests import Form, tagged

from .common import TODAY, PrmCommon


@tagged("post_install", "-at_install")
class TestTierEvaluation(PrmCommon):
    def _evaluate(self, memberships=None, day=TODAY):
        memberships = memberships or (self.membership_a | self.membership_b)
        with freeze_time(day):
            return memberships._evaluate_tiers()

    def test_entry_tier_on_create(self):
        self.assertEqual(self.membership_a.tier_id, self.registered)
        self.assertEqual(self.membership_b.tier_id, self.registered)

    def test_promotion_is_immediate_with_history_and_chatter(self):
        self._won_leads(self.partner_a, [20000, 20000, 15000])
        self._certify(self.contact_a | self.contact_a2, self.cert_sales)
        self._won_leads(self.partner_b, [6000, 5000])
        result = self._evaluate()
        self.assertEqual(self.membership_a.tier_id, self.gold)
        self.assertEqual(self.membership_b.tier_id, self.silver)
        self.assertEqual(result["promoted"], self.membership_a | self.membership_b)
        history = self.membership_a.tier_history_ids
        self.assertEqual(len(history), 1)
        self.assertRecordValues(
            history,
            [
                {
                    "old_tier_id": self.registered.id,
                    "new_tier_id": self.gold.id,
                    "kind": "automatic",
                    "direction": "promotion",
                    "won_revenue": 55000.0,
                    "won_deals": 3,
                    "certified_people": 2,
                    "date": TODAY,
                }
            ],
        )
        message = self.membership_a.message_ids.filtered(
            lambda m: (
                m.subtype_id == self.env.ref("prm_partner.mt_membership_tier_changed")
            )
        )
        self.assertEqual(len(message), 1)
        self.assertIn("Registered", message.body)
        self.assertIn("Gold", message.body)
        # a second evaluation with nothing new changes nothing
        result = self._evaluate()
        self.assertFalse(result["promoted"] | result["demoted"] | result["at_risk"])
        self.assertEqual(len(self.membership_a.tier_history_ids), 1)

    def test_criteria_each_needed(self):
        # revenue and deals of Gold but only one certified person: Silver
        self._won_leads(self.partner_a, [20000, 20000, 15000])
        self._certify(self.contact_a, self.cert_sales)
        self._evaluate()
        self.assertEqual(self.membership_a.tier_id, self.silver)
        # the second person is certified with a certification Gold does not count
        self._certify(self.contact_a2, self.cert_tech)
        self._evaluate()
        self.assertEqual(self.membership_a.tier_id, self.silver)

    def test_only_window_and_won_leads_count(self):
        # closed 13 months ago: outside the 12 months window
        self._won_leads(
            self.partner_a, [30000, 30000], closed=TODAY - relativedelta(months=13)
        )
        # lost (archived) and open leads do not count
        lost = self._won_leads(self.partner_a, [50000])
        lost.action_set_lost()
        self.env["crm.lead"].create(
            {
                "name": "Open deal",
                "expected_revenue": 90000,
                "partner_assigned_id": self.partner_a.id,
                "stage_id": self.open_stage.id,
            }
        )
        # leads of another program do not count
        self._won_leads(self.partner_a, [40000, 40000], program=self.program_referral)
        self._evaluate()
        self.assertEqual(self.membership_a.tier_id, self.registered)
        # the same program counts
        self._won_leads(self.partner_a, [6000, 6000], program=self.program)
        self._evaluate()
        self.assertEqual(self.membership_a.tier_id, self.silver)

    def test_expired_certifications_do_not_count(self):
        self._won_leads(self.partner_a, [20000, 20000, 15000])
        self._certify(self.contact_a, self.cert_sales)
        self._certify(
            self.contact_a2, self.cert_sales, obtained=TODAY - relativedelta(months=25)
        )
        self._evaluate()
        self.assertEqual(self.membership_a.tier_id, self.silver)

    def test_demotion_waits_grace_period(self):
        self._won_leads(self.partner_a, [6000, 6000])
        self._evaluate()
        self.assertEqual(self.membership_a.tier_id, self.silver)
        # 13 months later the leads left the window: at risk, not demoted yet
        later = TODAY + relativedelta(months=13)
        result = self._evaluate(self.membership_a, day=later)
        self.assertEqual(result["at_risk"], self.membership_a)
        self.assertEqual(self.membership_a.tier_id, self.silver)
        self.assertTrue(self.membership_a.at_risk)
        self.assertEqual(self.membership_a.demotion_date, later + timedelta(days=30))
        self.assertEqual(self.membership_a.demotion_tier_id, self.registered)
        activity = self.membership_a.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.manager)
        # a day before the demotion date: still Silver, no second activity
        self._evaluate(self.membership_a, day=later + timedelta(days=29))
        self.assertEqual(self.membership_a.tier_id, self.silver)
        self.assertEqual(len(self.membership_a.activity_ids), 1)
        # on the demotion date: demoted, flag cleared, history written
        result = self._evaluate(self.membership_a, day=later + timedelta(days=30))
        self.assertEqual(result["demoted"], self.membership_a)
        self.assertEqual(self.membership_a.tier_id, self.registered)
        self.assertFalse(self.membership_a.at_risk)
        self.assertFalse(self.membership_a.demotion_date)
        last = self.membership_a.tier_history_ids[0]
        self.assertEqual(last.direction, "demotion")
        self.assertEqual(last.old_tier_id, self.silver)
        self.assertEqual(last.won_deals, 0)

    def test_recovery_clears_risk(self):
        self._won_leads(self.partner_a, [6000, 6000])
        self._evaluate()
        later = TODAY + relativedelta(months=13)
        self._evaluate(self.membership_a, day=later)
        self.assertTrue(self.membership_a.at_risk)
        self._won_leads(self.partner_a, [7000, 7000], closed=later)
        result = self._evaluate(self.membership_a, day=later + timedelta(days=3))
        self.assertEqual(result["recovered"], self.membership_a)
        self.assertFalse(self.membership_a.at_risk)
        self.assertEqual(self.membership_a.tier_id, self.silver)

    def test_no_grace_period_demotes_at_once(self):
        self.program.demotion_grace_days = 0
        self._won_leads(self.partner_a, [6000, 6000])
        self._evaluate()
        result = self._evaluate(self.membership_a, day=TODAY + relativedelta(months=13))
        self.assertEqual(result["demoted"], self.membership_a)
        self.assertEqual(self.membership_a.tier_id, self.registered)

    def test_locked_and_inactive_memberships_are_skipped(self):
        self._won_leads(self.partner_a, [20000, 20000])
        self._won_leads(self.partner_b, [20000, 20000])
        self.membership_a.write({"tier_locked": True, "tier_lock_reason": "Strategic"})
        self.membership_b.action_suspend()
        result = self._evaluate()
        self.assertFalse(result["evaluated"])
        self.assertEqual(self.membership_a.tier_id, self.registered)
        self.assertEqual(self.membership_b.tier_id, self.registered)
        self.membership_a.action_unlock_tier()
        self._evaluate()
        self.assertEqual(self.membership_a.tier_id, self.silver)

    def test_manual_tier_with_wizard(self):
        wizard = Form(
            self.env["prm.membership.tier.lock"]
            .with_user(self.manager)
            .with_context(default_membership_id=self.membership_a.id)
        )
        wizard.tier_id = self.gold
        wizard.reason = "Signed a strategic deal"
        wizard.save().action_apply()
        self.assertEqual(self.membership_a.tier_id, self.gold)
        self.assertTrue(self.membership_a.tier_locked)
        self.assertRecordValues(
            self.membership_a.tier_history_ids,
            [
                {
                    "kind": "manual",
                    "user_id": self.manager.id,
                    "reason": "Signed a strategic deal",
                    "old_tier_id": self.registered.id,
                    "new_tier_id": self.gold.id,
                }
            ],
        )
        # locked: evaluation keeps Gold although criteria are not met
        self._evaluate()
        self.assertEqual(self.membership_a.tier_id, self.gold)
        with self.assertRaises(ValidationError):
            self.membership_a._set_tier_manually(self.silver, "  ")

    def test_extra_partner_domain(self):
        self.silver.partner_domain = "[('country_id.code', '=', 'BR')]"
        self._won_leads(self.partner_a, [6000, 6000])
        self._evaluate()
        self.assertEqual(self.membership_a.tier_id, self.registered)
        self.partner_a.country_id = self.env.ref("base.br")
        self._evaluate()
        self.assertEqual(self.membership_a.tier_id, self.silver)

    def test_program_button_and_cron(self):
        self._won_leads(self.partner_a, [6000, 6000])
        action = self.program.with_user(self.manager).action_evaluate_tiers()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(self.membership_a.tier_id, self.silver)
        self._won_leads(self.partner_b, [6000, 6000])
        with freeze_time(TODAY):
            self.env["prm.membership"]._cron_evaluate_tiers()
        self.assertEqual(self.membership_b.tier_id, self.silver)

    def test_progress_toward_next_tier(self):
        self._won_leads(self.partner_a, [6000])
        with freeze_time(TODAY):
            self.membership_a.invalidate_recordset()
            self.assertEqual(self.membership_a.next_tier_id, self.silver)
            self.assertEqual(self.membership_a.won_deals, 1)
            self.assertEqual(self.membership_a.won_revenue, 6000)
            self.assertIn("Won deals", self.membership_a.next_tier_progress)


@tagged("post_install", "-at_install")
class TestTierEvaluationPerformance(PrmCommon):
    def _make_memberships(self, count, tag):
        partners = self.env["res.partner"].create(
            [{"name": f"Perf {tag} {i}", "is_company": True} for i in range(count)]
        )
        contacts = self.env["res.partner"].create(
            [
                {"name": f"Person {tag} {i}", "parent_id": p.id}
                for i, p in enumerate(partners)
            ]
        )
        memberships = self.env["prm.membership"].create(
            [
                {"partner_id": p.id, "program_id": self.program.id, "state": "active"}
                for p in partners
            ]
        )
        for partner in partners:
            self._won_leads(partner, [6000, 6000])
        self._certify(contacts, self.cert_sales)
        return memberships

    def _queries(self, memberships):
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        with freeze_time(TODAY):
            result = memberships._evaluate_tiers()
            self.env.flush_all()
        return self.env.cr.sql_log_count - before, result

    def test_query_count_does_not_grow(self):
        """The evaluation runs a fixed number of queries whatever the number of
        memberships. The only growth is the ORM's own batching of INSERT/UPDATE
        statements by 100 rows (history lines, chatter messages, membership
        updates): 3 more statements per extra 100 memberships changed."""
        # warm the caches (ir.model ids, xml ids, ...) on a first batch
        self._queries(self._make_memberships(3, "warm"))
        counts, results = {}, {}
        for size in (10, 100, 200):
            memberships = self._make_memberships(size, f"n{size}")
            counts[size], results[size] = self._queries(memberships)
            self.assertEqual(len(results[size]["promoted"]), size)
            self.assertEqual(set(memberships.tier_id.ids), {self.silver.id})
        self.assertEqual(counts[10], counts[100])
        self.assertEqual(counts[200], counts[10] + 3)
        # the same bounds through assertQueryCount, after a reset to the entry tier
        for size in (10, 200):
            memberships = results[size]["promoted"]
            memberships.write({"tier_id": self.registered.id})
            self.env.flush_all()
            self.env.invalidate_all()
            with freeze_time(TODAY), self.assertQueryCount(counts[size]):
                memberships._evaluate_tiers()


@tagged("post_install", "-at_install")
class TestTierEvaluationConcurrency(PrmCommon):
    """Two workers (two real database transactions) evaluate the same memberships
    at the same time: rows are locked with SKIP LOCKED, so each membership is
    evaluated once, with one history line."""

    def test_two_workers_at_once(self):
        dbname = self.env.cr.dbname
        setup_cr = db_connect(dbname).cursor()
        ids = {}
        try:
            env0 = api.Environment(setup_cr, SUPERUSER_ID, {})
            program = env0["prm.program"].create(
                {
                    "name": "Concurrency program",
                    "tier_ids": [
                        Command.create({"name": "Base", "sequence": 1}),
                        Command.create(
                            {"name": "Top", "sequence": 2, "min_won_deals": 1}
                        ),
                    ],
                }
            )
            stage = env0["crm.stage"].create(
                {"name": "Concurrency won", "is_won": True}
            )
            partners = env0["res.partner"].create(
                [{"name": f"Concurrent {i}", "is_company": True} for i in range(5)]
            )
            leads = env0["crm.lead"].create(
                [
                    {
                        "name": f"Won {p.name}",
                        "partner_assigned_id": p.id,
                        "stage_id": stage.id,
                        "expected_revenue": 100,
                        "date_closed": fields.Datetime.now(),
                    }
                    for p in partners
                ]
            )
            memberships = env0["prm.membership"].create(
                [
                    {"partner_id": p.id, "program_id": program.id, "state": "active"}
                    for p in partners
                ]
            )
            ids = {
                "program": program.id,
                "stage": stage.id,
                "partners": partners.ids,
                "leads": leads.ids,
                "memberships": memberships.ids,
            }
            setup_cr.commit()

            with db_connect(dbname).cursor() as cr1, db_connect(dbname).cursor() as cr2:
                env1 = api.Environment(cr1, SUPERUSER_ID, {})
                env2 = api.Environment(cr2, SUPERUSER_ID, {})
                first = (
                    env1["prm.membership"].browse(ids["memberships"])._evaluate_tiers()
                )
                env1.flush_all()
                # worker 2 runs while worker 1 still holds its row locks
                second = (
                    env2["prm.membership"].browse(ids["memberships"])._evaluate_tiers()
                )
                env2.flush_all()
                self.assertEqual(len(first["promoted"]), 5)
                self.assertFalse(second["evaluated"])
                cr1.commit()
                cr2.commit()

            # a later run sees the committed tiers: nothing left to change
            with db_connect(dbname).cursor() as cr3:
                env3 = api.Environment(cr3, SUPERUSER_ID, {})
                third = (
                    env3["prm.membership"].browse(ids["memberships"])._evaluate_tiers()
                )
                self.assertEqual(len(third["evaluated"]), 5)
                self.assertFalse(third["promoted"])
                cr3.commit()

            setup_cr.rollback()
            env0.invalidate_all()
            history = env0["prm.tier.history"].search(
                [("membership_id", "in", ids["memberships"])]
            )
            self.assertEqual(len(history), 5)
            self.assertEqual(
                set(
                    env0["prm.membership"]
                    .browse(ids["memberships"])
                    .tier_id.mapped("name")
                ),
                {"Top"},
            )
        finally:
            setup_cr.rollback()
            if ids:
                env0 = api.Environment(setup_cr, SUPERUSER_ID, {})
                env0["mail.message"].search(
                    [
                        ("model", "=", "prm.membership"),
                        ("res_id", "in", ids["memberships"]),
                    ]
                ).unlink()
                env0["mail.activity"].search(
                    [
                        ("res_model", "=", "prm.membership"),
                        ("res_id", "in", ids["memberships"]),
                    ]
                ).unlink()
                memberships = env0["prm.membership"].browse(ids["memberships"])
                memberships.write({"state": "ended"})
                memberships.unlink()
                env0["crm.lead"].browse(ids["leads"]).unlink()
                env0["res.partner"].browse(ids["partners"]).unlink()
                env0["prm.program"].browse(ids["program"]).unlink()
                env0["crm.stage"].browse(ids["stage"]).unlink()
                setup_cr.commit()
            setup_cr.close()
