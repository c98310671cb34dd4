from odoo import http
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

PAGE_SIZE = 20


class PrmPerformancePortal(CustomerPortal):
    """Partner pages: "My performance" (scorecards), reviews to acknowledge,
    feedback questionnaires; and the public customer satisfaction link.

    Records are searched as the portal user (record rules decide); a record is
    used with sudo only after ``_document_check_access``."""

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        partner = request.env.user.partner_id
        for counter, model, domain_method in (
            ("prm_review_count", "prm.partner.review", self._prepare_prm_review_domain),
            (
                "prm_feedback_count",
                "prm.partner.feedback",
                self._prepare_prm_feedback_domain,
            ),
        ):
            if counter in counters:
                Model = request.env[model]
                values[counter] = (
                    Model.search_count(domain_method(partner))
                    if Model.has_access("read")
                    else 0
                )
        return values

    def _prepare_prm_review_domain(self, partner):
        return [
            ("partner_id", "=", partner.commercial_partner_id.id),
            ("state", "=", "done"),
        ]

    def _prepare_prm_feedback_domain(self, partner):
        return [("partner_id", "=", partner.commercial_partner_id.id)]

    def _get_prm_periods(self):
        env = request.env
        return [
            ("month", env._("Month")),
            ("quarter", env._("Quarter")),
            ("year", env._("Year")),
        ]

    # ---- scorecards ----
    @http.route("/my/performance", type="http", auth="user", website=True)
    def portal_my_performance(self, period="quarter", **kw):
        periods = self._get_prm_periods()
        if period not in dict(periods):
            period = "quarter"
        Membership = request.env["prm.membership"]
        memberships = Membership.search(
            self._prepare_prm_membership_domain(request.env.user.partner_id),
            order="program_id, id",
        )
        date_from, date_to = Membership._prm_period(period)
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "memberships": memberships,
                "cards": memberships._prm_scorecard(date_from, date_to),
                "period": period,
                "periods": periods,
                "page_name": "prm_performance",
            }
        )
        return request.render("prm_partner.portal_my_performance", values)

    # ---- reviews ----
    @http.route(
        ["/my/reviews", "/my/reviews/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_reviews(self, page=1, **kw):
        return self._render_prm_list(
            "prm.partner.review",
            self._prepare_prm_review_domain(request.env.user.partner_id),
            page,
            url="/my/reviews",
            key="reviews",
            page_name="prm_review",
            template="prm_partner.portal_my_reviews",
        )

    def _render_prm_list(self, model, domain, page, *, url, key, page_name, template):
        """A paged portal list of ``model`` records, searched as the user."""
        Model = request.env[model]
        pager = portal_pager(
            url=url, total=Model.search_count(domain), page=page, step=PAGE_SIZE
        )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                key: Model.search(domain, limit=PAGE_SIZE, offset=pager["offset"]),
                "page_name": page_name,
                "pager": pager,
                "default_url": url,
            }
        )
        return request.render(template, values)

    def _prm_review_check(self, review_id):
        review_sudo = self._document_check_access("prm.partner.review", review_id)
        if review_sudo.state != "done":
            raise MissingError(request.env._("This review is not available."))
        return review_sudo

    @http.route("/my/reviews/<int:review_id>", type="http", auth="user", website=True)
    def portal_my_review(self, review_id, **kw):
        try:
            review_sudo = self._prm_review_check(review_id)
        except (AccessError, MissingError):
            return request.redirect("/my")
        return self._render_prm_review(review_sudo)

    def _render_prm_review(self, review_sudo, error=None):
        values = self._prepare_portal_layout_values()
        values.update(
            {"review": review_sudo, "page_name": "prm_review", "error": error}
        )
        return request.render("prm_partner.portal_my_review", values)

    @http.route(
        "/my/reviews/<int:review_id>/acknowledge",
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_my_review_acknowledge(self, review_id, comment=None, **kw):
        try:
            review_sudo = self._prm_review_check(review_id)
        except (AccessError, MissingError):
            return request.redirect("/my")
        try:
            review_sudo._acknowledge(comment, user=request.env.user)
        except UserError as error:
            return self._render_prm_review(review_sudo, error=str(error))
        return request.redirect(f"/my/reviews/{review_id}")

    # ---- partner feedback ----
    @http.route(
        ["/my/feedback", "/my/feedback/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_feedbacks(self, page=1, **kw):
        return self._render_prm_list(
            "prm.partner.feedback",
            self._prepare_prm_feedback_domain(request.env.user.partner_id),
            page,
            url="/my/feedback",
            key="feedbacks",
            page_name="prm_feedback",
            template="prm_partner.portal_my_feedbacks",
        )

    @http.route(
        "/my/feedback/<int:feedback_id>", type="http", auth="user", website=True
    )
    def portal_my_feedback(self, feedback_id, **kw):
        try:
            feedback_sudo = self._document_check_access(
                "prm.partner.feedback", feedback_id
            )
        except (AccessError, MissingError):
            return request.redirect("/my")
        return self._render_prm_feedback(feedback_sudo)

    def _render_prm_feedback(self, feedback_sudo, error=None):
        values = self._prepare_portal_layout_values()
        values.update(
            {"feedback": feedback_sudo, "page_name": "prm_feedback", "error": error}
        )
        return request.render("prm_partner.portal_my_feedback", values)

    @http.route(
        "/my/feedback/<int:feedback_id>/submit",
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_my_feedback_submit(
        self, feedback_id, satisfaction=None, recommend=None, comment=None, **kw
    ):
        try:
            feedback_sudo = self._document_check_access(
                "prm.partner.feedback", feedback_id
            )
        except (AccessError, MissingError):
            return request.redirect("/my")
        try:
            feedback_sudo._submit_answer(
                satisfaction, recommend, comment, user=request.env.user
            )
        except (UserError, ValidationError) as error:
            return self._render_prm_feedback(feedback_sudo, error=str(error))
        return request.redirect(f"/my/feedback/{feedback_id}")

    # ---- public customer satisfaction link ----
    @http.route(
        "/prm/satisfaction/<int:survey_id>/<string:token>",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        website=True,
        sitemap=False,
    )
    def prm_satisfaction(self, survey_id, token, score=None, comment=None, **kw):
        survey_sudo = request.env["prm.lead.satisfaction"]._get_by_token(
            survey_id, token
        )
        values = {"survey": survey_sudo, "token": token, "error": None}
        status = 200 if survey_sudo else 404
        if survey_sudo and request.httprequest.method == "POST":
            try:
                survey_sudo._submit_customer_answer(score, comment)
            except (UserError, ValidationError) as error:
                values["error"] = str(error)
                status = 400
        return request.render(
            "prm_partner.prm_satisfaction_page", values, status=status
        )
