import math

from odoo import fields, http
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

from ..models.prm_deal_registration import PORTAL_FIELDS

PAGE_SIZE = 20
MAX_ID = 2**31 - 1  # PostgreSQL integer: larger ids are no record


class PrmLeadPortal(CustomerPortal):
    """Partner pages for leads: "Lead offers" (accept / decline), "My
    opportunities" (progress of open deals; won / lost reported as a claim a
    partner manager decides on) and "Deal registrations".

    Plain HTML forms with a CSRF token, no JavaScript needed. Records are
    searched as the portal user (record rules decide); a record is used as sudo
    only after ``_document_check_access``; another partner's id gives a 404 and
    changes nothing. Business rules live in the models.
    """

    # ---- home counters ----
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        partner = request.env.user.partner_id
        for counter, model, domain in (
            (
                "prm_lead_offer_count",
                "prm.lead.offer",
                self._prepare_prm_offer_domain(partner),
            ),
            (
                "prm_opportunity_count",
                "crm.lead",
                self._prepare_prm_opportunity_domain(partner),
            ),
            (
                "prm_registration_count",
                "prm.deal.registration",
                self._prepare_prm_registration_domain(partner),
            ),
        ):
            if counter in counters:
                Model = request.env[model]
                values[counter] = (
                    Model.search_count(domain) if Model.has_access("read") else 0
                )
        return values

    # ---- domains ----
    def _prepare_prm_offer_domain(self, partner):
        return [
            ("partner_id", "=", partner.commercial_partner_id.id),
            ("state", "=", "pending"),
        ]

    def _prepare_prm_opportunity_domain(self, partner):
        return [("partner_assigned_id", "=", partner.commercial_partner_id.id)]

    def _prepare_prm_registration_domain(self, partner):
        return [("partner_id", "=", partner.commercial_partner_id.id)]

    def _prm_render_list(self, model, domain, url, template, *, key, page, **values):
        """Render a paged list of ``model`` records matching ``domain``, searched
        as the portal user (record rules apply); with ``sudo=True`` the records
        found are rendered as sudo (to show related data the user may not
        read, such as the stage of a lead)."""
        Model = request.env[model]
        pager = portal_pager(
            url=url, total=Model.search_count(domain), page=page, step=PAGE_SIZE
        )
        order = values.pop("order", None)
        records = Model.search(
            domain, limit=PAGE_SIZE, offset=pager["offset"], order=order
        )
        if values.pop("sudo", False):
            records = records.sudo()
        render_values = self._prepare_portal_layout_values()
        render_values.update(
            {key: records, "pager": pager, "default_url": url, **values}
        )
        return request.render(template, render_values)

    def _prm_check(self, model, record_id):
        """The record as sudo after the portal user's access check, or ``None``."""
        try:
            return self._document_check_access(model, record_id)
        except (AccessError, MissingError):
            return None

    # ---- lead offers ----
    @http.route(
        ["/my/lead_offers", "/my/lead_offers/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_lead_offers(self, page=1, **kw):
        return self._prm_render_list(
            "prm.lead.offer",
            self._prepare_prm_offer_domain(request.env.user.partner_id),
            "/my/lead_offers",
            "prm_partner.portal_my_lead_offers",
            key="offers",
            page=page,
            order="date_deadline, id",
            reasons=request.env["prm.lead.decline.reason"].search([]),
            page_name="prm_lead_offer",
            message=kw.get("message"),
        )

    @http.route(
        "/my/lead_offers/<int:offer_id>", type="http", auth="user", website=True
    )
    def portal_my_lead_offer(self, offer_id, error=None, **kw):
        offer_sudo = self._prm_check("prm.lead.offer", offer_id)
        if offer_sudo is None:
            raise request.not_found()
        return self._render_offer(offer_sudo, error)

    def _render_offer(self, offer_sudo, error=None, status=200):
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "offer": offer_sudo,
                "reasons": request.env["prm.lead.decline.reason"].search([]),
                "page_name": "prm_lead_offer",
                "error": error,
            }
        )
        return request.render("prm_partner.portal_my_lead_offer", values, status=status)

    @http.route(
        "/my/lead_offers/<int:offer_id>/accept",
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_lead_offer_accept(self, offer_id, **kw):
        offer_sudo = self._prm_check("prm.lead.offer", offer_id)
        if offer_sudo is None:
            raise request.not_found()
        try:
            with request.env.cr.savepoint():
                offer_sudo.action_accept()
        except UserError as error:
            return self._render_offer(offer_sudo, error.args[0], status=409)
        return request.redirect(f"/my/partner_opportunities/{offer_sudo.lead_id.id}")

    @http.route(
        "/my/lead_offers/<int:offer_id>/decline",
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_lead_offer_decline(self, offer_id, reason_id=None, note=None, **kw):
        offer_sudo = self._prm_check("prm.lead.offer", offer_id)
        if offer_sudo is None:
            raise request.not_found()
        try:
            reason = request.env["prm.lead.decline.reason"]
            reason_id = self._int(reason_id)
            if reason_id:
                reason = reason.search([("id", "=", reason_id)])
            note = self._str(note)
            with request.env.cr.savepoint():
                offer_sudo.action_decline(reason, note)
        except UserError as error:
            return self._render_offer(offer_sudo, error.args[0], status=409)
        return request.redirect("/my/lead_offers?message=declined")

    # ---- my opportunities ----
    @http.route(
        ["/my/partner_opportunities", "/my/partner_opportunities/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_partner_opportunities(self, page=1, **kw):
        return self._prm_render_list(
            "crm.lead",
            self._prepare_prm_opportunity_domain(request.env.user.partner_id),
            "/my/partner_opportunities",
            "prm_partner.portal_my_partner_opportunities",
            key="leads",
            page=page,
            order="id desc",
            sudo=True,
            page_name="prm_opportunity",
        )

    @http.route(
        "/my/partner_opportunities/<int:lead_id>",
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_partner_opportunity(self, lead_id, **kw):
        lead_sudo = self._prm_check("crm.lead", lead_id)
        if lead_sudo is None:
            raise request.not_found()
        return self._render_opportunity(lead_sudo, message=kw.get("message"))

    def _render_opportunity(self, lead_sudo, error=None, message=None, status=200):
        values = self._prepare_portal_layout_values()
        is_open = lead_sudo._prm_is_open()
        claims = lead_sudo.prm_claim_ids
        values.update(
            {
                "lead": lead_sudo,
                "is_open": is_open,
                "stages": lead_sudo._prm_portal_stages() if is_open else [],
                "lost_reasons": request.env["crm.lost.reason"].sudo().search([]),
                "pending_claim": claims.filtered(lambda c: c.state == "pending")[:1],
                "last_claim": claims.filtered(lambda c: c.state != "pending")[:1],
                "page_name": "prm_opportunity",
                "error": error,
                "message": message,
            }
        )
        return request.render(
            "prm_partner.portal_my_partner_opportunity", values, status=status
        )

    @http.route(
        "/my/partner_opportunities/<int:lead_id>/update",
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_partner_opportunity_update(self, lead_id, **post):
        """Progress of an open opportunity, or a reported outcome (a claim).
        The model refuses closed opportunities whatever the POST holds."""
        lead_sudo = self._prm_check("crm.lead", lead_id)
        if lead_sudo is None:
            raise request.not_found()
        try:
            values = {
                "stage_id": self._int(post.get("stage_id")),
                "expected_revenue": self._float(post.get("expected_revenue")),
                "activity_date": self._date(post.get("activity_date")),
                "date_deadline": self._date(post.get("date_deadline")),
                "note": self._str(post.get("note")),
                "outcome": self._str(post.get("outcome")),
                "lost_reason_id": self._int(post.get("lost_reason_id")),
                "author_id": request.env.user.partner_id.id,
            }
            with request.env.cr.savepoint():
                claim = lead_sudo._prm_portal_update(values)
        except AccessError as error:
            raise request.not_found() from error
        except (UserError, ValidationError) as error:
            message = error.args[0] if error.args else str(error)
            return self._render_opportunity(lead_sudo, error=message, status=400)
        message = "claimed" if claim else "saved"
        return request.redirect(
            f"/my/partner_opportunities/{lead_id}?message={message}"
        )

    # ---- deal registrations ----
    @http.route(
        ["/my/deal_registrations", "/my/deal_registrations/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_deal_registrations(self, page=1, **kw):
        return self._prm_render_list(
            "prm.deal.registration",
            self._prepare_prm_registration_domain(request.env.user.partner_id),
            "/my/deal_registrations",
            "prm_partner.portal_my_deal_registrations",
            key="registrations",
            page=page,
            page_name="prm_registration",
        )

    @http.route(
        "/my/deal_registrations/new",
        type="http",
        auth="user",
        methods=["GET", "POST"],
        website=True,
    )
    def portal_deal_registration_new(self, **post):
        error = None
        if request.httprequest.method == "POST":
            try:
                vals = {key: self._str(post.get(key)) for key in PORTAL_FIELDS}
                vals.update(
                    {
                        "country_id": self._int(vals["country_id"]),
                        "state_id": self._int(vals["state_id"]),
                        "expected_revenue": self._float(vals["expected_revenue"])
                        or 0.0,
                        "date_close_expected": self._date(vals["date_close_expected"]),
                    }
                )
                with request.env.cr.savepoint():
                    registration = request.env[
                        "prm.deal.registration"
                    ]._prm_portal_register(request.env.user.partner_id, vals)
                return request.redirect(f"/my/deal_registrations/{registration.id}")
            except (UserError, ValidationError) as exc:
                error = exc.args[0] if exc.args else str(exc)
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "prm_registration",
                "countries": request.env["res.country"].sudo().search([]),
                "states": request.env["res.country.state"].sudo().search([]),
                "error": error,
                "post": post,
            }
        )
        return request.render(
            "prm_partner.portal_deal_registration_form",
            values,
            status=400 if error else 200,
        )

    @http.route(
        "/my/deal_registrations/<int:registration_id>",
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_deal_registration(self, registration_id, **kw):
        registration_sudo = self._prm_check("prm.deal.registration", registration_id)
        if registration_sudo is None:
            raise request.not_found()
        return self._render_registration(registration_sudo)

    def _render_registration(self, registration_sudo, error=None, status=200):
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "registration": registration_sudo,
                "page_name": "prm_registration",
                "error": error,
            }
        )
        return request.render(
            "prm_partner.portal_my_deal_registration", values, status=status
        )

    @http.route(
        "/my/deal_registrations/<int:registration_id>/extend",
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_deal_registration_extend(self, registration_id, **kw):
        registration_sudo = self._prm_check("prm.deal.registration", registration_id)
        if registration_sudo is None:
            raise request.not_found()
        try:
            with request.env.cr.savepoint():
                registration_sudo.action_request_extension()
        except UserError as error:
            return self._render_registration(
                registration_sudo, error.args[0], status=409
            )
        return request.redirect(f"/my/deal_registrations/{registration_id}")

    # ---- parsing ----
    @staticmethod
    def _int(value):
        """``False`` when empty; a translated error when not a record id."""
        if not value:
            return False
        text = str(value).strip()
        if not (text.isascii() and text.isdigit()) or int(text) > MAX_ID:
            raise UserError(
                request.env._("%(value)s is not a valid choice.", value=text[:40])
            )
        return int(text)

    @staticmethod
    def _str(value):
        """The text posted (``None`` if not text); NUL characters refused."""
        if not isinstance(value, str):
            return None
        if "\x00" in value:
            raise UserError(
                request.env._("The text holds a character that is not allowed.")
            )
        return value

    @staticmethod
    def _float(value):
        """``None`` when empty; a translated error when not a finite number."""
        if value in (None, ""):
            return None
        try:
            number = float(value)
        except (TypeError, ValueError) as error:
            raise UserError(
                request.env._("%(value)s is not a number.", value=str(value)[:40])
            ) from error
        if not math.isfinite(number):
            raise UserError(
                request.env._("%(value)s is not a number.", value=str(value)[:40])
            )
        return number

    @staticmethod
    def _date(value):
        try:
            return fields.Date.to_date(value) if value else False
        except (TypeError, ValueError) as error:
            raise UserError(
                request.env._("%(value)s is not a date.", value=str(value)[:40])
            ) from error
