from odoo import http
from odoo.exceptions import AccessError, MissingError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

PAGE_SIZE = 20


class PrmPortal(CustomerPortal):
    """Partner pages under "My account": memberships and certifications.

    Records are searched as the portal user, so record rules decide what is
    visible; a record is read with sudo only after ``_document_check_access``.
    """

    # ---- home counters ----
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        partner = request.env.user.partner_id
        if "prm_membership_count" in counters:
            Membership = request.env["prm.membership"]
            values["prm_membership_count"] = (
                Membership.search_count(self._prepare_prm_membership_domain(partner))
                if Membership.has_access("read")
                else 0
            )
        if "prm_certification_count" in counters:
            Certification = request.env["prm.partner.certification"]
            values["prm_certification_count"] = (
                Certification.search_count(
                    self._prepare_prm_certification_domain(partner)
                )
                if Certification.has_access("read")
                else 0
            )
        return values

    # ---- domains ----
    def _prepare_prm_membership_domain(self, partner):
        return [
            ("partner_id", "=", partner.commercial_partner_id.id),
            ("state", "!=", "applicant"),
        ]

    def _prepare_prm_certification_domain(self, partner):
        return [("commercial_partner_id", "=", partner.commercial_partner_id.id)]

    # ---- memberships ----
    @http.route(
        ["/my/memberships", "/my/memberships/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_memberships(self, page=1, **kw):
        Membership = request.env["prm.membership"]
        domain = self._prepare_prm_membership_domain(request.env.user.partner_id)
        pager = portal_pager(
            url="/my/memberships",
            total=Membership.search_count(domain),
            page=page,
            step=PAGE_SIZE,
        )
        memberships = Membership.search(
            domain, limit=PAGE_SIZE, offset=pager["offset"], order="program_id, id"
        )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "memberships": memberships,
                "page_name": "prm_membership",
                "pager": pager,
                "default_url": "/my/memberships",
            }
        )
        return request.render("prm_partner.portal_my_memberships", values)

    @http.route(
        "/my/memberships/<int:membership_id>", type="http", auth="user", website=True
    )
    def portal_my_membership(self, membership_id, **kw):
        try:
            membership_sudo = self._document_check_access(
                "prm.membership", membership_id
            )
        except (AccessError, MissingError):
            return request.redirect("/my")
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "membership": membership_sudo,
                "tiers": membership_sudo.program_id.tier_ids.sorted("sequence"),
                "page_name": "prm_membership",
            }
        )
        return request.render("prm_partner.portal_my_membership", values)

    # ---- certifications ----
    @http.route(
        ["/my/certifications", "/my/certifications/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_certifications(self, page=1, **kw):
        Certification = request.env["prm.partner.certification"]
        domain = self._prepare_prm_certification_domain(request.env.user.partner_id)
        pager = portal_pager(
            url="/my/certifications",
            total=Certification.search_count(domain),
            page=page,
            step=PAGE_SIZE,
        )
        certifications = Certification.search(
            domain, limit=PAGE_SIZE, offset=pager["offset"]
        )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "certifications": certifications,
                "page_name": "prm_certification",
                "pager": pager,
                "default_url": "/my/certifications",
            }
        )
        return request.render("prm_partner.portal_my_certifications", values)
