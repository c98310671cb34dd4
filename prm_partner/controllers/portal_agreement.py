import base64
import binascii
import io

import werkzeug.exceptions
from PIL import Image

from odoo import http
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

PAGE_SIZE = 20
REPORT = "prm_partner.action_report_prm_agreement"
SIGNER_NAME_MAX = 128


class PrmAgreementPortal(CustomerPortal):
    """Partnership agreements under "My account": list, detail, print, sign and
    documents. Searches run as the portal user (record rules decide); a record is
    read with sudo only after ``_document_check_access``."""

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "prm_agreement_count" in counters:
            Agreement = request.env["prm.agreement"]
            values["prm_agreement_count"] = (
                Agreement.search_count(
                    self._prepare_prm_agreement_domain(request.env.user.partner_id)
                )
                if Agreement.has_access("read")
                else 0
            )
        return values

    def _prepare_prm_agreement_domain(self, partner):
        return [
            ("partner_id", "=", partner.commercial_partner_id.id),
            ("state", "!=", "draft"),
        ]

    def _get_prm_agreement_searchbar_sortings(self):
        return {
            "date": {"label": request.env._("Start date"), "order": "date_start desc"},
            "end": {"label": request.env._("End date"), "order": "date_end desc"},
            "name": {"label": request.env._("Reference"), "order": "name"},
        }

    @http.route(
        ["/my/agreements", "/my/agreements/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_agreements(self, page=1, sortby=None, **kw):
        Agreement = request.env["prm.agreement"]
        domain = self._prepare_prm_agreement_domain(request.env.user.partner_id)
        sortings = self._get_prm_agreement_searchbar_sortings()
        sortby = sortby if sortby in sortings else "date"
        pager = portal_pager(
            url="/my/agreements",
            url_args={"sortby": sortby},
            total=Agreement.search_count(domain),
            page=page,
            step=PAGE_SIZE,
        )
        agreements = Agreement.search(
            domain,
            order=sortings[sortby]["order"],
            limit=PAGE_SIZE,
            offset=pager["offset"],
        )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "agreements": agreements,
                "page_name": "prm_agreement",
                "pager": pager,
                "default_url": "/my/agreements",
                "searchbar_sortings": sortings,
                "sortby": sortby,
            }
        )
        return request.render("prm_partner.portal_my_agreements", values)

    @http.route(
        "/my/agreements/<int:agreement_id>", type="http", auth="user", website=True
    )
    def portal_my_agreement(
        self, agreement_id, report_type=None, download=False, message=None, **kw
    ):
        try:
            agreement_sudo = self._document_check_access("prm.agreement", agreement_id)
        except (AccessError, MissingError):
            return request.redirect("/my")
        if report_type in ("html", "pdf", "text"):
            return self._show_report(
                model=agreement_sudo,
                report_type=report_type,
                report_ref=REPORT,
                download=download,
            )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "agreement": agreement_sudo,
                "page_name": "prm_agreement",
                "message": message,
                "can_sign": agreement_sudo._is_signable_by(request.env.user),
            }
        )
        return request.render("prm_partner.portal_my_agreement", values)

    @http.route(
        "/my/agreements/<int:agreement_id>/sign",
        type="json",
        auth="user",
        website=True,
    )
    def portal_agreement_sign(self, agreement_id, name=None, signature=None, **kw):
        """Odoo's portal signature form posts ``name`` and ``signature`` (base64
        PNG) here as JSON-RPC; refusals come back as ``{"error": message}``, a
        name or signature of the wrong type or shape as an HTTP 400."""
        try:
            agreement_sudo = self._document_check_access("prm.agreement", agreement_id)
        except (AccessError, MissingError):
            return {"error": request.env._("Invalid agreement.")}
        if signature in (None, ""):
            return {"error": request.env._("Signature is missing.")}
        input_error = self._prm_sign_input_error(name, signature)
        if input_error:
            self._prm_json_bad_request(input_error)
        try:
            # a refusal rolls back to the savepoint: nothing of it is written
            with request.env.cr.savepoint():
                agreement_sudo._action_sign(
                    name, request.env.user.partner_id, signature=signature
                )
        except UserError as error:
            return {"error": str(error)}
        return {
            "force_refresh": True,
            "redirect_url": agreement_sudo.get_portal_url(
                query_string="&message=sign_ok"
            ),
        }

    def _prm_sign_input_error(self, name, signature):
        """A translated message when ``name`` or ``signature`` (as posted over
        JSON-RPC, so of any JSON type) cannot be a signer's name and a base64
        image; ``None`` when they can. An empty name is left to the model."""
        env = request.env
        if name is not None and not isinstance(name, str):
            return env._("The signer's name must be text.")
        if name and ("\x00" in name or len(name) > SIGNER_NAME_MAX):
            return env._(
                "The signer's name must be at most %(max)s characters of text.",
                max=SIGNER_NAME_MAX,
            )
        if not isinstance(signature, str):
            return env._("The signature must be an image encoded in base64.")
        try:
            with Image.open(io.BytesIO(base64.b64decode(signature, validate=True))):
                pass
        except (binascii.Error, OSError, ValueError, Image.DecompressionBombError):
            return env._("The signature must be an image encoded in base64.")
        return None

    def _prm_json_bad_request(self, message):
        """Answer the JSON-RPC call with HTTP 400 and ``message`` as its error."""
        error = {
            "code": 400,
            "message": message,
            "data": {
                "name": "werkzeug.exceptions.BadRequest",
                "message": message,
                "arguments": [message],
            },
        }
        werkzeug.exceptions.abort(
            request.make_json_response(
                {"jsonrpc": "2.0", "id": request.dispatcher.request_id, "error": error},
                status=400,
            )
        )

    @http.route(
        "/my/agreements/<int:agreement_id>/documents/<int:attachment_id>",
        type="http",
        auth="user",
        website=True,
    )
    def portal_agreement_document(self, agreement_id, attachment_id, **kw):
        try:
            agreement_sudo = self._document_check_access("prm.agreement", agreement_id)
        except (AccessError, MissingError):
            return request.redirect("/my")
        attachment_sudo = agreement_sudo.attachment_ids.filtered(
            lambda a: a.id == attachment_id
        )
        if not attachment_sudo:
            return request.redirect("/my")
        return (
            request.env["ir.binary"]
            ._get_stream_from(attachment_sudo)
            .get_response(as_attachment=True)
        )
