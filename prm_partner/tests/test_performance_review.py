from datetime import date, timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .performance_common import Q2_FROM, Q2_TO, PrmPerformanceCommon


@tagged("post_install", "-at_install")
class TestPerformanceReview(PrmPerformanceCommon):
    def _review(self, membership=None):
        return self.env["prm.partner.review"].create(
            {
                "membership_id": (membership or self.membership_a).id,
                "date_from": Q2_FROM,
                "date_to": Q2_TO - timedelta(days=1),
                "date": date(2026, 7, 3),
            }
        )

    def test_review_freezes_kpis(self):
        review = self._review()
        self.assertFalse(review.kpi_snapshot)
        review.action_done()
        self.assertEqual(review.state, "done")
        frozen = {k["name"]: k["value"] for k in review.kpi_snapshot["kpis"]}
        self.assertEqual(frozen["won_revenue"], 48000.0)
        self.assertIn("o_prm_scorecard", review.snapshot_html)
        # later deals do not change the frozen snapshot
        self._won_leads(
            self.partner_a, [99000], closed=date(2026, 5, 2), program=self.program
        )
        review.invalidate_recordset()
        frozen = {k["name"]: k["value"] for k in review.kpi_snapshot["kpis"]}
        self.assertEqual(frozen["won_revenue"], 48000.0)
        # the next review is planned
        self.assertEqual(self.membership_a.date_review_next, date(2026, 10, 3))
        with self.assertRefused("frozen", exception=UserError):
            review.date_from = date(2026, 1, 1)
        self.assertEqual(review.date_from, Q2_FROM)

    def test_snapshot_shows_no_forbidden_median(self):
        """A snapshot frozen before the median policy shows no median; a current
        one never shows the median of peers' costs."""
        review = self._review()
        review.action_done()
        self.assertEqual(review.kpi_snapshot["median_policy"], 5)
        kpis = [
            {
                "name": "won_revenue",
                "label": "Won revenue",
                "kind": "amount",
                "value": 1.0,
                "previous": None,
                "median": 4321.0,
            },
            {
                "name": "partner_costs",
                "label": "Partner costs",
                "kind": "amount",
                "value": 2.0,
                "previous": None,
                "median": 8765.0,
            },
        ]
        old = dict(review.kpi_snapshot, kpis=kpis)
        del old["median_policy"]
        review.with_context(prm_review_freeze=True).kpi_snapshot = old
        card = review._get_display_card()
        self.assertEqual([kpi["median"] for kpi in card["kpis"]], [None, None])
        review.invalidate_recordset(["snapshot_html"])
        self.assertNotIn("4,321.00", review.snapshot_html)
        review.with_context(prm_review_freeze=True).kpi_snapshot = dict(
            old, median_policy=5
        )
        card = review._get_display_card()
        self.assertEqual([kpi["median"] for kpi in card["kpis"]], [4321.0, None])
        review.invalidate_recordset(["snapshot_html"])
        self.assertIn("4,321.00", review.snapshot_html)
        self.assertNotIn("8,765.00", review.snapshot_html)

    def test_acknowledge_once_and_only_done(self):
        review = self._review()
        with self.assertRefused("not finished", exception=UserError):
            review.with_user(self.portal_a).sudo()._acknowledge("ok")
        review.action_done()
        review.with_user(self.portal_a).sudo()._acknowledge("  Agreed  ")
        self.assertTrue(review.partner_acknowledged)
        self.assertEqual(review.partner_comment, "Agreed")
        with self.assertRefused("already acknowledged", exception=UserError):
            review.with_user(self.portal_a).sudo()._acknowledge("again")
        self.assertEqual(review.partner_comment, "Agreed")

    def test_cron_schedules_review_activity_once(self):
        activity_type = self.env.ref("prm_partner.mail_activity_type_prm_review")
        self.membership_a.date_review_next = date(2026, 6, 20)
        self.membership_b.date_review_next = date(2026, 9, 1)  # not due yet
        with freeze_time("2026-06-15"):
            scheduled = self.env["prm.membership"]._schedule_reviews()
            self.assertEqual(scheduled, self.membership_a)
            again = self.env["prm.membership"]._schedule_reviews()
            self.assertFalse(again)
        activity = self.membership_a.activity_ids.filtered(
            lambda a: a.activity_type_id == activity_type
        )
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.manager)
        self.assertEqual(activity.date_deadline, date(2026, 6, 20))
        self.assertFalse(self.membership_b.activity_ids)
        # doing the review closes the activity
        self._review().action_done()
        self.assertFalse(activity.exists() and activity.active)

    def test_scorecard_wizard_and_pdf(self):
        wizard = Form(
            self.env["prm.membership.scorecard"].with_context(
                default_membership_id=self.membership_a.id
            )
        )
        wizard.period = "quarter"
        wizard.date_ref = date(2026, 5, 10)
        record = wizard.save()
        self.assertEqual(
            (record.date_from, record.date_to), (Q2_FROM, date(2026, 6, 30))
        )
        self.assertIn('data-kpi="won_revenue"', record.scorecard_html)
        action = record.action_start_review()
        review = self.env["prm.partner.review"].browse(action["res_id"])
        self.assertEqual(review.date_from, Q2_FROM)
        html, _kind = self.env["ir.actions.report"]._render_qweb_html(
            "prm_partner.action_report_prm_scorecard",
            self.membership_a.ids,
            data={"date_from": "2026-04-01", "date_to": "2026-06-30"},
        )
        self.assertIn(b"Partner scorecard", html)
        self.assertIn(b"48,000.00", html)

    def test_request_surveys_and_feedback(self):
        self.w4.partner_id.email = "c4@example.com"
        surveys = self.env["prm.lead.satisfaction"]._request_for_leads(
            self.w1 | self.w4 | self.r1
        )
        # W1 already has one, R1 is not won: only W4
        self.assertEqual(surveys.lead_id, self.w4)
        self.assertEqual(surveys.state, "requested")
        # the link goes by mail to the customer, never to the chatter
        self.assertFalse(
            surveys.message_ids.filtered(
                lambda m: "/prm/satisfaction/" in (m.body or "")
            )
        )
        mail = self.env["mail.mail"].search(
            [("body_html", "ilike", surveys.sudo().access_token)]
        )
        self.assertEqual(mail.email_to, '"Customer 4" <c4@example.com>')
        feedbacks = self.env["prm.partner.feedback"]._request_for_memberships(
            self.membership_a | self.membership_b
        )
        # A answered its last questionnaire: both get a new one
        self.assertEqual(feedbacks.membership_id, self.membership_a | self.membership_b)
        again = self.env["prm.partner.feedback"]._request_for_memberships(
            self.membership_a | self.membership_b
        )
        self.assertFalse(again)  # still open
        with self.assertRefused("from 0 to 10"):
            feedbacks[0]._submit_answer(11, 5)
        self.assertEqual(feedbacks[0].state, "requested")

    def test_dashboard_fields(self):
        self.env["crm.lead"].create(
            {
                "name": "Open deal",
                "type": "opportunity",
                "partner_assigned_id": self.partner_b.id,
                "expected_revenue": 7000,
                "stage_id": self.open_stage.id,
            }
        )
        self.assertEqual(self.membership_b.prm_pipeline_revenue, 7000.0)
        self.assertEqual(self.membership_a.prm_pipeline_revenue, 0.0)
        held = self._certify(
            self.contact_b, self.cert_tech, date.today() - timedelta(days=350)
        )
        self.assertEqual(held.state, "expiring")
        Membership = self.env["prm.membership"]
        found = Membership.search([("prm_expiring_certification_count", ">", 0)])
        self.assertIn(self.membership_b, found)
        self.assertNotIn(self.membership_a, found)
        self.membership_b.invalidate_recordset()
        self.assertEqual(self.membership_b.prm_expiring_certification_count, 1)
