import json
from urllib.parse import urlparse

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common_http import PrmHttpCommon, fill_route, prm_routes
from .test_agreement_portal import _signature_png

# How to probe each route of prm_partner with partner B's records, as partner A
# (or, for ``public`` routes, as an anonymous visitor with wrong tokens and
# foreign ids). A route of the routing map without an entry here fails
# ``test_every_route_has_a_probe``: add one when you add a route.
#
#   args     list of URL argument values (each a dict, read from the test ``t``);
#            every set is probed. Omitted: the route has no argument.
#   queries  query strings appended to the URL (default: none)
#   post     form fields sent (with a valid CSRF token) on POST; every route
#            accepting POST is also posted to (with no field if omitted)
#   json     JSON-RPC params, for ``type="json"`` routes
#   refused  the request must be refused (403/404 or a redirect elsewhere);
#            default: True when ``args`` is given
#   public   probed anonymously instead of as partner A
PAGE = {"args": lambda t: [{"page": 1}, {"page": 2}], "refused": False}
PROBES = {
    "/my/memberships": {},
    "/my/memberships/page/<int:page>": PAGE,
    "/my/memberships/<int:membership_id>": {
        "args": lambda t: [{"membership_id": t.membership_b.id}],
    },
    "/my/memberships/<int:membership_id>/onboarding/<int:step_id>/done": {
        "args": lambda t: (
            [
                {"membership_id": t.membership_b.id, "step_id": step.id}
                for step in t.steps_b
            ]
            + [{"membership_id": t.membership_a.id, "step_id": t.steps_b[0].id}]
        ),
        "post": {},
    },
    "/my/certifications": {},
    "/my/certifications/page/<int:page>": PAGE,
    "/my/agreements": {"queries": ["", "?sortby=name"]},
    "/my/agreements/page/<int:page>": PAGE,
    "/my/agreements/<int:agreement_id>": {
        "args": lambda t: [{"agreement_id": t.agreement_b.id}],
        "queries": ["", "?report_type=html", "?report_type=pdf&download=true"],
    },
    "/my/agreements/<int:agreement_id>/sign": {
        "args": lambda t: [{"agreement_id": t.agreement_b.id}],
        "json": lambda t: {"name": "Alice A", "signature": _signature_png()},
    },
    "/my/agreements/<int:agreement_id>/documents/<int:attachment_id>": {
        "args": lambda t: [
            {"agreement_id": t.agreement_b.id, "attachment_id": t.doc_b.id},
            {"agreement_id": t.agreement_a.id, "attachment_id": t.doc_b.id},
            {"agreement_id": t.agreement_b.id, "attachment_id": t.doc_a.id},
        ],
    },
    "/my/lead_offers": {},
    "/my/lead_offers/page/<int:page>": PAGE,
    "/my/lead_offers/<int:offer_id>": {
        "args": lambda t: [{"offer_id": t.offer_b.id}],
    },
    "/my/lead_offers/<int:offer_id>/accept": {
        "args": lambda t: [{"offer_id": t.offer_b.id}],
        "post": {},
    },
    "/my/lead_offers/<int:offer_id>/decline": {
        "args": lambda t: [{"offer_id": t.offer_b.id}],
        "post": lambda t: {"reason_id": str(t.decline_reason.id), "note": "not ours"},
    },
    "/my/partner_opportunities": {},
    "/my/partner_opportunities/page/<int:page>": PAGE,
    "/my/partner_opportunities/<int:lead_id>": {
        "args": lambda t: [
            {"lead_id": lead.id}
            for lead in (t.opportunity_b, t.lost_b, t.wb, t.offer_b.lead_id)
        ],
    },
    "/my/partner_opportunities/<int:lead_id>/update": {
        "args": lambda t: [
            {"lead_id": lead.id} for lead in (t.opportunity_b, t.lost_b, t.wb)
        ],
        "post": lambda t: {
            "outcome": "won",
            "expected_revenue": "5000000",
            "stage_id": str(t.won_stage.id),
            "note": "forged",
        },
    },
    "/my/deal_registrations": {},
    "/my/deal_registrations/page/<int:page>": PAGE,
    "/my/deal_registrations/new": {
        # a registration of A for B's customer: B's registration is not revealed
        "post": {
            "customer_name": "Customer of the other partner",
            "contact_name": "Someone",
            "email": "someone@xyzzy-corp.test",
        },
        "refused": False,
    },
    "/my/deal_registrations/<int:registration_id>": {
        "args": lambda t: [{"registration_id": t.registration_b.id}],
    },
    "/my/deal_registrations/<int:registration_id>/extend": {
        "args": lambda t: [{"registration_id": t.registration_b.id}],
        "post": {},
    },
    "/my/performance": {"queries": ["", "?period=year", "?period=month"]},
    "/my/reviews": {},
    "/my/reviews/page/<int:page>": PAGE,
    "/my/reviews/<int:review_id>": {
        "args": lambda t: [{"review_id": t.review_b.id}],
    },
    "/my/reviews/<int:review_id>/acknowledge": {
        "args": lambda t: [{"review_id": t.review_b.id}],
        "post": {"comment": "forged"},
    },
    "/my/feedback": {},
    "/my/feedback/page/<int:page>": PAGE,
    "/my/feedback/<int:feedback_id>": {
        "args": lambda t: [{"feedback_id": t.feedback_b.id}],
    },
    "/my/feedback/<int:feedback_id>/submit": {
        "args": lambda t: [{"feedback_id": t.feedback_b.id}],
        "post": {"satisfaction": "10", "recommend": "10", "comment": "forged"},
    },
    # public routes, probed anonymously
    "/prm/satisfaction/<int:survey_id>/<string:token>": {
        "public": True,
        "args": lambda t: [
            {"survey_id": t.survey_b.id, "token": "0" * 36},
            {"survey_id": t.survey_b.id, "token": t.survey_a.sudo().access_token},
            {"survey_id": t.survey_a.id, "token": t.survey_b.sudo().access_token},
            {"survey_id": t.survey_b.id, "token": "-"},
        ],
        "post": {"score": "10", "comment": "forged"},
    },
    "/partners/programs": {"public": True},
    "/partners/programs/<int:program_id>": {
        "public": True,
        # not published
        "args": lambda t: [{"program_id": t.program_referral.id}],
    },
    "/partners/apply": {
        "public": True,
        "queries": ["", "?program_id=1"],
        # an applicant using the e-mail domain of partner B
        "post": lambda t: {
            "program_id": str(t.program.id),
            "name": "Another company",
            "country_id": str(t.belgium.id),
            "contact_name": "Mallory",
            "email": "mallory@b.test",
            "company_size": "2",
            "motivation": "Let me in.",
        },
        "refused": False,
    },
}


@tagged("post_install", "-at_install")
class TestRouteIsolation(PrmHttpCommon, HttpCase):
    """Every route of prm_partner, taken from Odoo's routing map, called by
    partner A with partner B's ids: no page with B's data, nothing of B changed.
    """

    def test_every_route_has_a_probe(self):
        routes = {route[0] for route in prm_routes(self.env)}
        self.assertGreater(len(routes), 30, "the routing map was not read")
        self.assertFalse(
            sorted(routes - set(PROBES)),
            "routes without a probe: add them to PROBES in test_route_isolation",
        )
        self.assertFalse(
            sorted(set(PROBES) - routes), "probes of routes that no longer exist"
        )

    @mute_logger("odoo.http", "odoo.addons.base.models.ir_http", "werkzeug")
    def test_partner_a_cannot_reach_partner_b(self):
        markers = self._b_markers()
        b_records = self._b_records()
        users_of_b = self._users_of_b()
        probed = 0
        for pattern, methods, routing, _endpoint in prm_routes(self.env):
            probe = PROBES.get(pattern)
            if probe is None:
                continue  # reported by test_every_route_has_a_probe
            with self.subTest(route=pattern):
                before = self._snapshot(b_records)
                if probe.get("public"):
                    self.authenticate(None, None)
                else:
                    self.authenticate("portal_partner_a", "portal_partner_a")
                for url, kind in self._probe_requests(pattern, methods, routing, probe):
                    response = self._call(url, kind, probe)
                    probed += 1
                    self._assert_nothing_of_b(response, url, kind, probe, markers)
                self.assertSnapshotEqual(
                    before, self._snapshot(b_records), f"after {pattern}"
                )
                self.assertEqual(self._users_of_b(), users_of_b, pattern)
        self.assertGreater(probed, 40)

    def _users_of_b(self):
        return (
            self.env["res.users"]
            .sudo()
            .with_context(active_test=False)
            .search([("partner_id", "child_of", self.partner_b.id)])
        )

    def _probe_requests(self, pattern, methods, routing, probe):
        """``(url, kind)`` pairs to call; ``kind`` is GET, POST or JSON."""
        args_list = probe["args"](self) if "args" in probe else [{}]
        queries = probe.get("queries", [""])
        if routing["type"] == "json":
            kinds = ["JSON"]
        else:
            kinds = [
                kind for kind in ("GET", "POST") if methods is None or kind in methods
            ]
        for args in args_list:
            path = fill_route(pattern, args)
            for kind in kinds:
                for query in queries if kind == "GET" else [""]:
                    yield path + query, kind

    def _call(self, url, kind, probe):
        if kind == "JSON":
            params = probe["json"](self)
            return self.url_open(
                url,
                data=json.dumps(
                    {"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}
                ),
                headers={"Content-Type": "application/json"},
            )
        if kind == "POST":
            data = probe.get("post", {})
            data = data(self) if callable(data) else data
            return self.url_open(url, data={**data, "csrf_token": self._csrf()})
        return self.url_open(url)

    def _assert_nothing_of_b(self, response, url, kind, probe, markers):
        label = f"{kind} {url}"
        self.assertLess(response.status_code, 500, label)
        text = response.text
        revealed = [marker for marker in markers if marker in text]
        self.assertFalse(revealed, f"{label} reveals partner B's data")
        if not probe.get("refused", "args" in probe):
            return
        if kind == "JSON":
            self.assertIn("error", response.json().get("result", {}), label)
            return
        redirected = urlparse(response.url).path != urlparse(url).path.rstrip("/")
        self.assertTrue(
            response.status_code in (403, 404) or redirected,
            f"{label} answered {response.status_code} at {response.url}",
        )
