from datetime import date, timedelta

from odoo import http
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .performance_common import Q2_FROM, Q2_TO, PrmPerformanceCommon


class PrmPerformanceAccessCommon(PrmPerformanceCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.membership_b.user_id = cls.prm_user
        Review = cls.env["prm.partner.review"]
        cls.review_a, cls.review_b = Review.create(
            [
                {
                    "membership_id": membership.id,
                    "date_from": Q2_FROM,
                    "date_to": Q2_TO - timedelta(days=1),
                }
                for membership in (cls.membership_a, cls.membership_b)
            ]
        )
        (cls.review_a | cls.review_b).action_done()
        cls.feedback_b = cls.env["prm.partner.feedback"].create(
            {"membership_id": cls.membership_b.id}
        )
        cls.feedback_a2 = cls.env["prm.partner.feedback"].create(
            {"membership_id": cls.membership_a.id}
        )
        cls.survey_b = cls.env["prm.lead.satisfaction"].create({"lead_id": cls.wb.id})


@tagged("post_install", "-at_install")
class TestPerformanceAccessOrm(PrmPerformanceAccessCommon):
    def test_portal_sees_own_only(self):
        env = self.env(user=self.portal_a)
        self.assertEqual(env["prm.partner.review"].search([]), self.review_a)
        self.assertEqual(
            env["prm.partner.feedback"].search([]), self.feedback_a | self.feedback_a2
        )
        self.assertEqual(env["prm.lead.satisfaction"].search([]), self.surveys)
        for record in (self.review_b, self.feedback_b, self.survey_b):
            with self.subTest(model=record._name), self.assertRaises(AccessError):
                record.with_user(self.portal_a).read(["partner_id"])
        # portal users write nothing directly, and have no report or costs
        with self.assertRaises(AccessError):
            self.review_a.with_user(self.portal_a).write({"partner_comment": "x"})
        with self.assertRaises(AccessError):
            self.feedback_a2.with_user(self.portal_a).write({"satisfaction_score": 1})
        with self.assertRaises(AccessError):
            env["prm.partner.performance.report"].search([])
        with self.assertRaises(AccessError):
            env["prm.partner.cost"].search([])
        # scorecards only for readable memberships
        with self.assertRaises(AccessError):
            self.membership_b.with_user(self.portal_a)._prm_scorecard(Q2_FROM, Q2_TO)

    def test_prm_user_sees_the_partners_it_manages(self):
        env = self.env(user=self.prm_user)
        Report = env["prm.partner.performance.report"]
        self.assertEqual(Report.search([]).membership_id, self.membership_b)
        self.assertEqual(env["prm.partner.review"].search([]), self.review_b)
        self.assertEqual(env["prm.partner.cost"].search([]).membership_id.ids, [])
        self.assertEqual(env["prm.lead.satisfaction"].search([]), self.survey_b)
        with self.assertRaises(AccessError):
            self.review_a.with_user(self.prm_user).read(["name"])
        with self.assertRaises(AccessError):
            self.env["prm.partner.cost"].with_user(self.prm_user).create(
                {"name": "x", "membership_id": self.membership_b.id, "amount": 5}
            )

    def test_prm_user_scorecard_only_of_managed_memberships(self):
        """Like the performance report: the scorecard of a membership the PRM
        user does not manage is refused by every route."""
        managed = self.membership_b.with_user(self.prm_user)
        other = self.membership_a.with_user(self.prm_user)
        self.assertIn(self.membership_b.id, managed._prm_scorecard(Q2_FROM, Q2_TO))
        self.assertEqual(
            managed.action_open_scorecard()["res_model"], "prm.membership.scorecard"
        )
        Wizard = self.env["prm.membership.scorecard"].with_user(self.prm_user)
        Report = self.env["ir.actions.report"].with_user(self.prm_user)
        report = "prm_partner.action_report_prm_scorecard"
        html, _kind = Report._render_qweb_html(report, self.membership_b.ids)
        self.assertIn(b"Partner B Co", html)
        with self.assertRaises(AccessError):
            other._prm_scorecard(Q2_FROM, Q2_TO)
        with self.assertRaises(AccessError):
            (managed | other)._prm_scorecard(Q2_FROM, Q2_TO)
        with self.assertRaises(AccessError):
            other.action_open_scorecard()
        with self.assertRaises(AccessError):
            Wizard.create({"membership_id": self.membership_a.id})
        with self.assertRaises(AccessError):
            Report._render_qweb_html(report, self.membership_a.ids)
        with self.assertRaises(AccessError):
            Report._render_qweb_pdf(report, self.membership_a.ids)
        # a PRM manager sees every scorecard
        cards = (
            (self.membership_a | self.membership_b)
            .with_user(self.manager)
            ._prm_scorecard(Q2_FROM, Q2_TO)
        )
        self.assertEqual(set(cards), {self.membership_a.id, self.membership_b.id})

    def test_portal_reviews_done_only_by_rule(self):
        draft = self.env["prm.partner.review"].create(
            {
                "membership_id": self.membership_a.id,
                "date_from": Q2_FROM,
                "date_to": Q2_TO - timedelta(days=1),
                "strengths": "<p>Draft strengths</p>",
                "internal_note": "<p>Secret reviewer note</p>",
            }
        )
        self.review_a.internal_note = "<p>Reviewer only</p>"
        Review = self.env["prm.partner.review"].with_user(self.portal_a)
        # the rule itself, not only the page, hides the draft
        self.assertEqual(Review.search([]), self.review_a)
        self.assertEqual(Review.search([("state", "=", "draft")]), Review)
        with self.assertRaises(AccessError):
            draft.with_user(self.portal_a).read(["strengths"])
        # internal fields of a done review are not readable either
        for fname in ("internal_note", "kpi_snapshot"):
            with self.subTest(field=fname), self.assertRaises(AccessError):
                self.review_a.with_user(self.portal_a).read([fname])
        fields_get = Review.fields_get()
        self.assertNotIn("internal_note", fields_get)
        self.assertNotIn("kpi_snapshot", fields_get)
        # once done, the partner sees it
        draft.action_done()
        self.assertEqual(Review.search([]), self.review_a | draft)

    def test_manager_sees_all(self):
        env = self.env(user=self.manager)
        self.assertEqual(
            env["prm.partner.review"].search([]) & (self.review_a | self.review_b),
            self.review_a | self.review_b,
        )
        self.assertEqual(
            set(env["prm.partner.performance.report"].search([]).membership_id.ids)
            >= {self.membership_a.id, self.membership_b.id},
            True,
        )

    def test_internal_user_without_prm_group(self):
        env = self.env(user=self.internal_user)
        for model in (
            "prm.partner.review",
            "prm.partner.performance.report",
            "prm.lead.satisfaction",
            "prm.partner.feedback",
        ):
            with self.subTest(model=model), self.assertRaises(AccessError):
                env[model].search([])


@tagged("post_install", "-at_install")
class TestPerformanceAccessHttp(PrmPerformanceAccessCommon, HttpCase):
    def _post(self, url, data):
        return self.url_open(
            url, data={**data, "csrf_token": http.Request.csrf_token(self)}
        )

    def test_my_performance_shows_own_scorecards(self):
        self.authenticate("portal_partner_a", "portal_partner_a")
        response = self.url_open("/my/performance?period=year")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.text.count("o_prm_portal_scorecard"), 2)
        self.assertIn("Partner A Co", response.text)
        self.assertNotIn("Partner B Co", response.text)
        self.authenticate("portal_partner_b", "portal_partner_b")
        response = self.url_open("/my/performance")
        self.assertEqual(response.text.count("o_prm_portal_scorecard"), 1)
        self.assertNotIn("Partner A Co", response.text)

    def test_reviews_and_acknowledgement(self):
        self.authenticate("portal_partner_a", "portal_partner_a")
        response = self.url_open("/my/reviews")
        self.assertEqual(response.text.count("o_prm_review_row"), 1)
        response = self.url_open(f"/my/reviews/{self.review_a.id}")
        self.assertIn('data-kpi="won_revenue"', response.text)
        # another partner's review: refused, unchanged
        response = self.url_open(f"/my/reviews/{self.review_b.id}")
        self.assertTrue(response.url.endswith("/my"), response.url)
        response = self._post(
            f"/my/reviews/{self.review_b.id}/acknowledge", {"comment": "hacked"}
        )
        self.assertTrue(response.url.endswith("/my"), response.url)
        self.review_b.invalidate_recordset()
        self.assertFalse(self.review_b.partner_acknowledged)
        self.assertFalse(self.review_b.partner_comment)
        # own review
        response = self._post(
            f"/my/reviews/{self.review_a.id}/acknowledge", {"comment": "Thanks"}
        )
        self.assertIn("o_prm_review_acknowledged", response.text)
        self.review_a.invalidate_recordset()
        self.assertTrue(self.review_a.partner_acknowledged)
        self.assertEqual(self.review_a.partner_comment, "Thanks")
        message = self.review_a.message_ids.filtered(
            lambda m: "Acknowledged by" in (m.body or "")
        )
        self.assertEqual(message.author_id, self.contact_a)
        # twice: refused with a message, comment kept
        response = self._post(
            f"/my/reviews/{self.review_a.id}/acknowledge", {"comment": "Again"}
        )
        self.assertIn("already acknowledged", response.text)
        self.review_a.invalidate_recordset()
        self.assertEqual(self.review_a.partner_comment, "Thanks")

    def test_feedback_questionnaire(self):
        self.authenticate("portal_partner_a", "portal_partner_a")
        response = self.url_open("/my/feedback")
        self.assertEqual(response.text.count("o_prm_feedback_row"), 2)
        response = self._post(
            f"/my/feedback/{self.feedback_b.id}/submit",
            {"satisfaction": "2", "recommend": "2"},
        )
        self.assertTrue(response.url.endswith("/my"), response.url)
        self.feedback_b.invalidate_recordset()
        self.assertEqual(self.feedback_b.state, "requested")
        response = self._post(
            f"/my/feedback/{self.feedback_a2.id}/submit",
            {"satisfaction": "12", "recommend": "3"},
        )
        self.assertIn("from 0 to 10", response.text)
        self.feedback_a2.invalidate_recordset()
        self.assertEqual(self.feedback_a2.state, "requested")
        response = self._post(
            f"/my/feedback/{self.feedback_a2.id}/submit",
            {"satisfaction": "7", "recommend": "9", "comment": "Good"},
        )
        self.assertIn("o_prm_feedback_done", response.text)
        self.feedback_a2.invalidate_recordset()
        self.assertEqual(
            (self.feedback_a2.satisfaction_score, self.feedback_a2.recommend_score),
            (7, 9),
        )
        self.assertEqual(self.feedback_a2.answered_by_id, self.portal_a)

    @mute_logger("odoo.http", "werkzeug")
    def test_public_satisfaction_link(self):
        survey = self.survey_b
        token = survey.access_token
        url = survey._get_public_url()
        # anonymous visitor with the right link sees the form
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200)
        self.assertIn('name="score"', response.text)
        self.assertIn("Partner B Co", response.text)
        # wrong token, another survey's token: refused, nothing shown or changed
        for bad_url in (
            f"/prm/satisfaction/{survey.id}/{token[:-1]}x",
            f"/prm/satisfaction/{survey.id}/{self.surveys[0].access_token}",
            f"/prm/satisfaction/{self.surveys[0].id}/{token}",
        ):
            response = self.url_open(bad_url)
            self.assertEqual(response.status_code, 404, bad_url)
            self.assertIn("o_prm_satisfaction_invalid", response.text)
            self.assertNotIn('name="score"', response.text)
        self.authenticate(None, None)
        response = self._post(
            f"/prm/satisfaction/{self.surveys[0].id}/{token}", {"score": "0"}
        )
        self.assertEqual(response.status_code, 404)
        self.surveys[0].invalidate_recordset()
        self.assertEqual(self.surveys[0].score, 10)
        # bad score: refused, unchanged
        response = self._post(url, {"score": "11"})
        self.assertEqual(response.status_code, 400)
        survey.invalidate_recordset()
        self.assertEqual(survey.state, "requested")
        # the answer
        response = self._post(url, {"score": "9", "comment": "Great"})
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_prm_satisfaction_thanks", response.text)
        survey.invalidate_recordset()
        self.assertEqual(
            (survey.state, survey.score, survey.source), ("answered", 9, "customer")
        )
        self.assertEqual(survey.comment, "Great")
        # the link works once
        response = self._post(url, {"score": "1"})
        self.assertEqual(response.status_code, 404)
        survey.invalidate_recordset()
        self.assertEqual(survey.score, 9)
        self.assertEqual(
            self.membership_b._measure_satisfaction(date(2026, 1, 1)),
            {self.partner_b: 9.0},
        )


@tagged("post_install", "-at_install")
class TestPerformanceMenus(PrmPerformanceCommon):
    def _visible(self, user, xmlid):
        menu = self.env.ref(xmlid)
        return menu.id in self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()

    def test_menu_visibility(self):
        for xmlid in (
            "prm_partner.prm_menu_dashboard",
            "prm_partner.prm_partner_performance_report_menu",
            "prm_partner.prm_partner_review_menu",
            "prm_partner.prm_lead_satisfaction_menu",
        ):
            with self.subTest(menu=xmlid):
                self.assertTrue(self._visible(self.prm_user, xmlid))
                self.assertTrue(self._visible(self.manager, xmlid))
                self.assertFalse(self._visible(self.internal_user, xmlid))
        cost_menu = "prm_partner.prm_partner_cost_menu"
        self.assertTrue(self._visible(self.manager, cost_menu))
        self.assertFalse(self._visible(self.prm_user, cost_menu))

    def test_views_open_for_prm_user(self):
        for model, views in (
            ("prm.partner.performance.report", ["pivot", "graph", "list", "search"]),
            ("prm.partner.review", ["list", "form", "search"]),
            ("prm.lead.satisfaction", ["list", "form", "search"]),
            ("prm.partner.feedback", ["list", "form"]),
        ):
            with self.subTest(model=model):
                result = (
                    self.env[model]
                    .with_user(self.prm_user)
                    .get_views([(False, view) for view in views])
                )
                self.assertEqual(set(result["views"]), set(views))
        dashboard = self.env.ref("prm_partner.prm_membership_view_list_dashboard")
        result = (
            self.env["prm.membership"]
            .with_user(self.prm_user)
            .get_views([(dashboard.id, "list")])
        )
        self.assertIn("prm_pipeline_revenue", result["views"]["list"]["arch"])
        rows = (
            self.env["prm.membership"]
            .with_user(self.prm_user)
            .search_read(
                [("prm_expiring_certification_count", ">", 0)],
                ["prm_pipeline_revenue", "prm_expiring_certification_count"],
            )
        )
        # the search and the computed count agree (whatever other data exists)
        self.assertTrue(all(row["prm_expiring_certification_count"] for row in rows))
        self.assertNotIn(self.membership_a.id, [row["id"] for row in rows])
