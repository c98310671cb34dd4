import inspect
import json
import random
from urllib.parse import urlencode

from odoo.tests import HttpCase, tagged
from odoo.tools import SQL, mute_logger

from .common_http import ROUTE_ARG_RE, PrmHttpCommon, fill_route, prm_routes
from .test_agreement_portal import _signature_png

SEED = 20261205
SCRIPT = '<script>alert("prm-fuzz")</script>'
RAW_MARKUP = "<script>alert("
NUL = "a\x00b"
LONG = "x" * 10000
HUGE_IDS = [2**31, 2**63]
# what each kind of form field receives; "invalid" values must be refused with
# nothing written, "text" values may be accepted but must be rendered escaped
INVALID = {
    "text": [NUL],
    "id": ["abc", "-1", "1.5", str(2**31), str(2**63), NUL, SCRIPT],
    "number": ["abc", "-1", "1e309", "nan", "inf", NUL, SCRIPT],
    "score": ["-1", "11", "abc", str(2**63), "nan", NUL],
    "date": ["2026-13-45", "abc", "99999-01-01", NUL],
    "choice": ["abc", SCRIPT, NUL],
    "email": ["not-an-email", NUL, SCRIPT],
}
TEXT = [SCRIPT + '<img src=x onerror="alert(1)">', "Ünïcødé ✓ 日本語 🚀 \u202e", LONG]
QUERY_VALUES = [SCRIPT, NUL, LONG, "-1", str(2**63), "Ünïcødé ✓ 🚀"]
# JSON values sent to type="json" routes
JSON_INVALID = {
    "name": [123, 1.5, True, [], {"a": 1}, LONG, NUL],
    "signature": [123, True, ["x"], {"a": 1}, "!!not base64!!", "bm90IGFuIGltYWdl"],
}
# models whose rows record attempts (rate limiting), not data from the input
COUNT_EXCLUDED = {"prm.application.attempt"}
MAX_CASES_PER_FORM = 18

# The values of URL arguments on partner A's own records, by argument name.
A_ARGS = {
    "page": lambda t: 1,
    "membership_id": lambda t: t.membership_a.id,
    "step_id": lambda t: t.steps_a.filtered(lambda s: s.owner == "partner")[0].id,
    "agreement_id": lambda t: t.agreement_a.id,
    "attachment_id": lambda t: t.doc_a.id,
    "offer_id": lambda t: t.offer_a.id,
    "lead_id": lambda t: t.opportunity_a.id,
    "registration_id": lambda t: t.registration_a.id,
    "review_id": lambda t: t.review_a.id,
    "feedback_id": lambda t: t.feedback_a2.id,
    "survey_id": lambda t: t.survey_a.id,
    "token": lambda t: t.survey_a.sudo().access_token,
    "program_id": lambda t: t.program.id,
}
# the same arguments on partner B's records (foreign ids)
B_ARGS = {
    "membership_id": lambda t: t.membership_b.id,
    "step_id": lambda t: t.steps_b[0].id,
    "agreement_id": lambda t: t.agreement_b.id,
    "attachment_id": lambda t: t.doc_b.id,
    "offer_id": lambda t: t.offer_b.id,
    "lead_id": lambda t: t.opportunity_b.id,
    "registration_id": lambda t: t.registration_b.id,
    "review_id": lambda t: t.review_b.id,
    "feedback_id": lambda t: t.feedback_b.id,
    "survey_id": lambda t: t.survey_b.id,
    "program_id": lambda t: t.program_referral.id,
}
ARG_MODELS = {
    "membership_id": "prm.membership",
    "step_id": "prm.membership.onboarding.step",
    "agreement_id": "prm.agreement",
    "attachment_id": "ir.attachment",
    "offer_id": "prm.lead.offer",
    "lead_id": "crm.lead",
    "registration_id": "prm.deal.registration",
    "review_id": "prm.partner.review",
    "feedback_id": "prm.partner.feedback",
    "survey_id": "prm.lead.satisfaction",
    "program_id": "prm.program",
}

# Every route accepting POST: its fields (name: kind), a valid submission and
# the fields it requires. A POST route without an entry fails the test.
FORMS = {
    "/my/memberships/<int:membership_id>/onboarding/<int:step_id>/done": {},
    "/my/agreements/<int:agreement_id>/sign": {
        "json": True,
        "valid": lambda t: {"name": "Alice A", "signature": _signature_png()},
        "fields": {"name": "text"},
    },
    "/my/lead_offers/<int:offer_id>/accept": {},
    "/my/lead_offers/<int:offer_id>/decline": {
        "fields": {"reason_id": "id", "note": "text"},
        "valid": lambda t: {"reason_id": str(t.decline_reason.id)},
        "required": ["reason_id"],
    },
    "/my/partner_opportunities/<int:lead_id>/update": {
        "fields": {
            "stage_id": "id",
            "expected_revenue": "number",
            "date_deadline": "date",
            "activity_date": "date",
            "note": "text",
            "outcome": "choice",
            "lost_reason_id": "id",
        },
        "valid": lambda t: {
            "stage_id": str(t.open_stage.id),
            "expected_revenue": "1500",
            "note": "Meeting done",
        },
    },
    "/my/deal_registrations/new": {
        "fields": {
            "customer_name": "text",
            "contact_name": "text",
            "email": "email",
            "phone": "text",
            "vat": "text",
            "country_id": "id",
            "state_id": "id",
            "expected_revenue": "number",
            "date_close_expected": "date",
            "description": "text",
        },
        "valid": lambda t: {
            "customer_name": "Fuzz Customer",
            "contact_name": "Fuzz Contact",
            "email": "fuzz@fuzz-customer.test",
            "country_id": str(t.france.id),
            "expected_revenue": "1000",
            "date_close_expected": "2026-09-30",
        },
        "required": ["customer_name", "contact_name"],
    },
    "/my/deal_registrations/<int:registration_id>/extend": {},
    "/my/reviews/<int:review_id>/acknowledge": {
        "fields": {"comment": "text"},
        "valid": {"comment": "Thanks"},
    },
    "/my/feedback/<int:feedback_id>/submit": {
        "fields": {"satisfaction": "score", "recommend": "score", "comment": "text"},
        "valid": {"satisfaction": "7", "recommend": "8", "comment": "Good"},
        "required": ["satisfaction", "recommend"],
    },
    "/prm/satisfaction/<int:survey_id>/<string:token>": {
        "public": True,
        "fields": {"score": "score", "comment": "text"},
        "valid": {"score": "9", "comment": "Great"},
        "required": ["score"],
    },
    "/partners/apply": {
        "public": True,
        "fields": {
            "program_id": "id",
            "name": "text",
            "vat": "text",
            "country_id": "id",
            "website": "text",
            "contact_name": "text",
            "email": "email",
            "phone": "text",
            "company_size": "choice",
            "markets": "text",
            "offering": "text",
            "motivation": "text",
        },
        "valid": lambda t: {
            "program_id": str(t.program.id),
            "name": "Fuzz Web",
            "vat": "FR40303265045",
            "country_id": str(t.belgium.id),
            "website": "www.fuzz-web.test",
            "contact_name": "Fiona Fuzz",
            "email": "fiona@fuzz-web.test",
            "phone": "+32 2 555 12 12",
            "company_size": "3",
            "markets": "E-commerce",
            "offering": "Integrations",
            "motivation": "Our customers need your product.",
        },
        "required": ["program_id", "name", "contact_name", "email"],
    },
}


@tagged("post_install", "-at_install")
class TestPortalFuzz(PrmHttpCommon, HttpCase):
    """Bounded, deterministic fuzzing of every public and portal form and of
    the query parameters of every page: never an HTTP 500, nothing written from
    invalid input, no markup rendered unescaped."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.count_tables = sorted(
            {
                Model._table
                for name, Model in cls.env.registry.items()
                if (name.startswith("prm.") or name == "crm.lead")
                and name not in COUNT_EXCLUDED
                and Model._auto
                and not Model._abstract
                and not Model._transient
            }
            | {"mail_message", "res_partner", "res_users", "ir_attachment"}
        )

    def setUp(self):
        super().setUp()
        self.rng = random.Random(SEED)
        self.requests = 0

    # ---- helpers ----
    def _row_counts(self):
        self.env.flush_all()
        self.env.cr.execute(
            SQL(" UNION ALL ").join(
                SQL("SELECT %s, count(*) FROM %s", table, SQL.identifier(table))
                for table in self.count_tables
            )
        )
        return dict(self.env.cr.fetchall())

    def _login(self, public):
        if public:
            self.authenticate(None, None)
        else:
            self.authenticate("portal_partner_a", "portal_partner_a")

    def _a_args(self, pattern):
        names = ROUTE_ARG_RE.findall(pattern)
        missing = [name for name in names if name not in A_ARGS]
        self.assertFalse(missing, f"{pattern}: add {missing} to A_ARGS")
        return {name: A_ARGS[name](self) for name in names}

    def _targets(self, args):
        return [
            self.env[ARG_MODELS[name]].browse(value)
            for name, value in args.items()
            if name in ARG_MODELS and isinstance(value, int) and value < 2**31
        ]

    def _sample(self, cases, limit=MAX_CASES_PER_FORM):
        return cases if len(cases) <= limit else self.rng.sample(cases, limit)

    def _request(self, url, kind, data=None, csrf=True):
        self.requests += 1
        if kind == "JSON":
            payload = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": data}
            return self.url_open(
                url,
                data=json.dumps(payload),
                headers={"Content-Type": "application/json"},
            )
        if kind == "POST":
            # a field always: ``url_open`` sends a GET when there is no data
            data = {"prm_fuzz": "1", **(data or {})}
            if csrf:
                data["csrf_token"] = self._csrf()
            return self.url_open(url, data=data)
        return self.url_open(url)

    def _check(self, response, label):
        self.assertLess(response.status_code, 500, label)
        self.assertFalse(RAW_MARKUP in response.text, f"{label}: markup unescaped")

    def _assert_nothing_written(self, counts, targets, snapshot, label):
        after = self._row_counts()
        written = {
            table: after[table] - counts[table]
            for table in after
            if after[table] != counts[table]
        }
        self.assertFalse(written, f"{label}: rows written")
        self.assertSnapshotEqual(snapshot, self._snapshot(targets), label)

    def _assert_no_raw_markup_stored(self):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT id FROM mail_message WHERE body::text LIKE %s",
            [f"%{RAW_MARKUP}%"],
        )
        self.assertFalse(self.env.cr.fetchall(), "a message holds raw markup")

    # ---- forms ----
    def _form_cases(self, form):
        """``(label, data, csrf, valid_text)`` cases of one form."""
        valid = form.get("valid", {})
        valid = valid(self) if callable(valid) else valid
        cases = []
        for name, kind in form.get("fields", {}).items():
            for value in INVALID[kind]:
                cases.append((f"{name}={value[:20]!r}", {**valid, name: value}))
        for name in form.get("required", []):
            cases.append(
                (f"missing {name}", {k: v for k, v in valid.items() if k != name})
            )
        if form.get("required"):
            cases.append(("no field", {}))
        cases = [(label, data, True, False) for label, data in self._sample(cases)]
        cases.insert(0, ("no CSRF token", valid, False, False))
        # free text last: it may be accepted (and change the record's state)
        text_fields = [n for n, k in form.get("fields", {}).items() if k == "text"]
        for value in TEXT if text_fields else []:
            name = self.rng.choice(text_fields)
            cases.append((f"{name}={value[:20]!r}", {**valid, name: value}, True, True))
        return valid, cases

    def _fuzz_form(self, pattern, form):
        self._login(form.get("public"))
        args = self._a_args(pattern)
        url = fill_route(pattern, args)
        targets = self._targets(args)
        valid, cases = self._form_cases(form)
        # foreign and huge ids in the URL, with a valid submission
        for name in [n for n in args if n in B_ARGS]:
            for value in [B_ARGS[name](self), *HUGE_IDS]:
                cases.insert(
                    1,
                    (f"{name}={value}", valid, True, False, {**args, name: value}),
                )
        for case in cases:
            label, data, csrf, valid_text = case[:4]
            case_url = fill_route(pattern, case[4]) if len(case) > 4 else url
            label = f"POST {case_url} {label}"
            counts, snapshot = self._row_counts(), self._snapshot(targets)
            response = self._request(case_url, "POST", data, csrf=csrf)
            self._check(response, label)
            if not csrf:
                self.assertIn(response.status_code, (400, 403), label)
            if not valid_text:
                self._assert_nothing_written(counts, targets, snapshot, label)

    def _fuzz_json_form(self, pattern, form):
        self._login(False)
        args = self._a_args(pattern)
        url = fill_route(pattern, args)
        targets = self._targets(args)
        valid = form["valid"](self)
        cases = [
            (f"{name}={value!r:.20}", {**valid, name: value}, url)
            for name, values in JSON_INVALID.items()
            for value in values
        ]
        cases += [
            (f"{name}={value}", valid, fill_route(pattern, {**args, name: value}))
            for name in args
            if name in B_ARGS
            for value in [B_ARGS[name](self), *HUGE_IDS]
        ]
        for what, params, case_url in cases:
            label = f"JSON {case_url} {what}"
            counts, snapshot = self._row_counts(), self._snapshot(targets)
            response = self._request(case_url, "JSON", params)
            self._check(response, label)
            self.assertIn(response.status_code, (200, 400), label)
            body = response.json()
            self.assertTrue(
                body.get("error") or (body.get("result") or {}).get("error"), label
            )
            self._assert_nothing_written(counts, targets, snapshot, label)
        # a name holding markup is a name: signed, and shown escaped
        response = self._request(url, "JSON", {**valid, "name": SCRIPT})
        self._check(response, f"JSON {url} name=markup")
        self.assertIn("redirect_url", response.json()["result"])
        for page in (f"/my/agreements/{args['agreement_id']}", "/my/agreements"):
            self._check(self._request(page, "GET"), f"GET {page} after signing")

    @mute_logger("odoo.http", "odoo.addons.base.models.ir_http", "werkzeug")
    def test_fuzz_forms(self):
        routes = prm_routes(self.env)
        posted = {
            pattern
            for pattern, methods, routing, _endpoint in routes
            if routing["type"] == "json" or (methods and "POST" in methods)
        }
        self.assertFalse(
            sorted(posted - set(FORMS)), "POST routes without a FORMS entry"
        )
        for pattern in sorted(posted):
            form = FORMS[pattern]
            with self.subTest(route=pattern):
                if form.get("json"):
                    self._fuzz_json_form(pattern, form)
                else:
                    self._fuzz_form(pattern, form)
        self._assert_no_raw_markup_stored()
        self.assertLess(self.requests, 260)

    # ---- pages: URL arguments and query parameters ----
    def _query_params(self, endpoint, pattern):
        """The named parameters of a page besides its URL arguments."""
        url_args = set(ROUTE_ARG_RE.findall(pattern))
        return [
            name
            for name, param in inspect.signature(endpoint).parameters.items()
            if name != "self"
            and name not in url_args
            and param.kind is param.POSITIONAL_OR_KEYWORD
        ]

    @mute_logger("odoo.http", "odoo.addons.base.models.ir_http", "werkzeug")
    def test_fuzz_pages(self):
        for pattern, methods, routing, endpoint in prm_routes(self.env):
            if routing["type"] != "http" or (methods and "GET" not in methods):
                continue
            with self.subTest(route=pattern):
                self._login(routing["auth"] == "public")
                args = self._a_args(pattern)
                urls = [
                    fill_route(pattern, {**args, name: value})
                    for name in args
                    if name != "token"
                    for value in HUGE_IDS
                ]
                base = fill_route(pattern, args)
                for name in self._query_params(endpoint, pattern):
                    for value in self.rng.sample(QUERY_VALUES, 3):
                        urls.append(f"{base}?{urlencode({name: value})}")
                counts = self._row_counts()
                for url in urls:
                    response = self._request(url, "GET")
                    self._check(response, f"GET {url[:120]}")
                after = self._row_counts()
                written = {
                    t: after[t] - counts[t] for t in after if after[t] != counts[t]
                }
                self.assertFalse(written, f"GET {pattern}: rows written")
        self.assertLess(self.requests, 160)
