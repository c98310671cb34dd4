from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal

from ..models.prm_application import CONTROL_RE, HONEYPOT_FIELD


class PrmRecruitmentPortal(CustomerPortal):
    """Public program pages and the "Become a partner" form (no login), and the
    onboarding checklist partners tick off in their portal.

    Programs are read with sudo only once ``is_published`` is checked; the
    submission rules (honeypot, validation, rate limit, duplicates) live in
    ``prm.application._submit_public_application``.
    """

    # ---- public pages ----
    def _prm_published_programs(self):
        return (
            request.env["prm.program"]
            .sudo()
            .search([("is_published", "=", True)], order="sequence, name, id")
        )

    @http.route("/partners/programs", type="http", auth="public", website=True)
    def prm_programs(self, **kw):
        return request.render(
            "prm_partner.prm_recruitment_programs",
            {"programs": self._prm_published_programs()},
        )

    @http.route(
        "/partners/programs/<int:program_id>",
        type="http",
        auth="public",
        website=True,
    )
    def prm_program(self, program_id, **kw):
        program_sudo = request.env["prm.application"]._public_program(program_id)
        if not program_sudo:
            raise NotFound()
        return request.render(
            "prm_partner.prm_recruitment_program",
            {
                "program": program_sudo,
                "tiers": program_sudo.tier_ids.sorted("sequence"),
            },
        )

    def _prm_apply_values(self, post, errors=None):
        return {
            "programs": self._prm_published_programs(),
            "countries": request.env["res.country"].sudo().search([]),
            "company_sizes": request.env["prm.application"]
            ._fields["company_size"]
            ._description_selection(request.env),
            "post": post,
            "errors": errors or {},
            "honeypot_field": HONEYPOT_FIELD,
        }

    @http.route(
        "/partners/apply", type="http", auth="public", methods=["GET"], website=True
    )
    def prm_apply_form(self, program_id=None, **kw):
        return request.render(
            "prm_partner.prm_recruitment_apply",
            self._prm_apply_values({"program_id": program_id or ""}),
        )

    @http.route(
        "/partners/apply",
        type="http",
        auth="public",
        methods=["POST"],
        website=True,
        csrf=True,
    )
    def prm_apply_submit(self, **post):
        Application_sudo = request.env["prm.application"].sudo()
        result = Application_sudo._submit_public_application(
            post, request.httprequest.remote_addr
        )
        # a robot caught by the honeypot ("spam") sees the same thanks as a person
        status = {"invalid": 400, "rate_limited": 429}.get(result["status"])
        if status:
            # the answers go back into the form, without control characters
            shown = {
                name: CONTROL_RE.sub("", value) if isinstance(value, str) else ""
                for name, value in post.items()
            }
            return request.render(
                "prm_partner.prm_recruitment_apply",
                self._prm_apply_values(shown, result["errors"]),
                status=status,
            )
        return request.render("prm_partner.prm_recruitment_thanks", {})

    # ---- onboarding checklist ----
    @http.route(
        "/my/memberships/<int:membership_id>/onboarding/<int:step_id>/done",
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_onboarding_step_done(self, membership_id, step_id, **kw):
        try:
            membership_sudo = self._document_check_access(
                "prm.membership", membership_id
            )
            step = request.env["prm.membership.onboarding.step"].browse(step_id)
            step.check_access("read")
        except (AccessError, MissingError):
            return request.redirect("/my")
        step_sudo = step.sudo()
        if (
            step_sudo.membership_id != membership_sudo
            or step_sudo.owner != "partner"
            or step_sudo.is_done
        ):
            return request.redirect("/my")
        url = f"{membership_sudo.access_url}#onboarding"
        try:
            step_sudo._mark_done(request.env.user)
        except (UserError, ValidationError):
            # refused before anything is written (see _mark_done)
            url = (
                f"{membership_sudo.access_url}?onboarding_error={step_sudo.id}"
                "#onboarding"
            )
        return request.redirect(url)
