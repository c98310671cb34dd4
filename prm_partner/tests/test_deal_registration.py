import re
from datetime import date, timedelta

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, JsonRpcException, tagged
from odoo.tools import mute_logger

from .common import TODAY
from .common_lead import PrmLeadCommon

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class DealCommon(PrmLeadCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Registration = cls.env["prm.deal.registration"]
        cls.customer = cls.env["res.partner"].create(
            {"name": "Globex Corporation", "is_company": True, "vat": "BE 0477.472.701"}
        )

    @classmethod
    def _register(cls, partner_contact, when=TODAY, **values):
        vals = {
            "customer_name": "Initech Systems",
            "contact_name": "Peter Gibbons",
            "email": "peter@initech.example",
            "expected_revenue": 25000,
            "date_close_expected": when + timedelta(days=60),
        }
        vals.update(values)
        with freeze_time(when):
            return cls.Registration._prm_portal_register(partner_contact, vals)


@tagged("post_install", "-at_install")
class TestDealRegistration(DealCommon):
    def test_conflicts_each_case(self):
        """Same email, same email domain (public domains ignored), same VAT,
        similar company name: against open leads of other partners and of the
        internal team, and other partners' registrations."""
        Lead = self.env["crm.lead"]
        internal = Lead.create(
            {
                "name": "Internal deal",
                "type": "opportunity",
                "email_from": "bill@initech.example",
            }
        )
        other_partner = Lead.create(
            {
                "name": "B deal",
                "type": "opportunity",
                "email_from": "Peter <peter@initech.example>",
                "partner_assigned_id": self.partner_b.id,
            }
        )
        by_vat = Lead.create(
            {
                "name": "Globex deal",
                "type": "opportunity",
                "partner_id": self.customer.id,
            }
        )
        by_name = Lead.create(
            {
                "name": "Named deal",
                "type": "opportunity",
                "partner_name": "Initech System",
            }
        )
        own = Lead.create(
            {
                "name": "Own deal",
                "type": "opportunity",
                "email_from": "peter@initech.example",
                "partner_assigned_id": self.partner_a.id,
            }
        )
        public = Lead.create(
            {"name": "Gmail deal", "type": "opportunity", "email_from": "joe@gmail.com"}
        )
        unrelated = Lead.create(
            {"name": "Unrelated", "type": "opportunity", "partner_name": "Umbrella"}
        )
        registration = self._register(self.contact_a, vat="BE0477472701")
        conflicts = {
            (c.lead_id, c.match_type) for c in registration.conflict_ids if c.lead_id
        }
        self.assertIn((other_partner, "email"), conflicts)
        self.assertIn((internal, "domain"), conflicts)
        self.assertIn((by_vat, "vat"), conflicts)
        self.assertIn((by_name, "name"), conflicts)
        found = {c.lead_id for c in registration.conflict_ids}
        self.assertNotIn(own, found, "own deals are no conflict")
        self.assertNotIn(public, found)
        self.assertNotIn(unrelated, found)
        by_name_conflict = registration.conflict_ids.filtered(
            lambda c: c.lead_id == by_name
        )
        self.assertGreaterEqual(by_name_conflict.similarity, 0.6)
        self.assertEqual(
            registration.conflict_ids.filtered(
                lambda c: c.lead_id == other_partner
            ).owner_label,
            "Partner B Co",
        )
        self.assertEqual(
            registration.conflict_ids.filtered(
                lambda c: c.lead_id == internal
            ).owner_label,
            "Internal team",
        )
        # a public mail domain is ignored
        gmail = self._register(
            self.contact_a, customer_name="Zzyzx Unique", email="someone@gmail.com"
        )
        self.assertFalse(gmail.email_domain)
        self.assertFalse(gmail.conflict_ids.filtered(lambda c: c.lead_id == public))
        # another partner registering the same customer sees A's registration
        second = self._register(self.contact_b, customer_name="Initech Systems Inc")
        others = second.conflict_ids.other_registration_id
        self.assertIn(registration, others)

    def test_threshold_setting(self):
        Lead = self.env["crm.lead"]
        lead = Lead.create(
            {"name": "Close name", "type": "opportunity", "partner_name": "Initech Sys"}
        )
        self.env["ir.config_parameter"].set_param(
            "prm_partner.deal_similarity_threshold", "0.95"
        )
        registration = self._register(self.contact_a, email=False)
        self.assertNotIn(lead, registration.conflict_ids.lead_id)
        self.env["ir.config_parameter"].set_param(
            "prm_partner.deal_similarity_threshold", "0.3"
        )
        registration.action_check_conflicts()
        self.assertIn(lead, registration.conflict_ids.lead_id)

    def test_similar_names_without_trigram(self):
        """Without pg_trgm, similar names fall back to ILIKE containment."""
        Lead = self.env["crm.lead"]
        short = Lead.create(
            {"name": "Short", "type": "opportunity", "partner_name": "Initech"}
        )
        other = Lead.create(
            {"name": "Other", "type": "opportunity", "partner_name": "Umbrella"}
        )
        registration = self._register(self.contact_a, email=False)
        found = registration._similar_names(
            "crm_lead",
            "COALESCE(NULLIF(partner_name, ''), contact_name, '')",
            [short.id, other.id],
            False,
            0.6,
        )
        self.assertEqual([lead_id for lead_id, _score in found], [short.id])

    def test_bad_input_refused(self):
        count = self.Registration.search_count([])
        for values, pattern in (
            ({"customer_name": "  "}, "customer company's name"),
            ({"contact_name": ""}, "customer contact's name"),
            ({"email": "not-an-email"}, "not a valid email"),
            ({"expected_revenue": -1}, "cannot be negative"),
            ({"date_close_expected": TODAY - timedelta(days=1)}, "in the past"),
            (
                {
                    "country_id": self.env.ref("base.fr").id,
                    "state_id": self.env.ref("base.state_us_5").id,
                },
                "is not in France",
            ),
        ):
            with self.assertRefused(pattern):
                self._register(self.contact_a, **values)
        self.assertEqual(self.Registration.search_count([]), count)
        # a company that is no active partner cannot register
        outsider = self.env["res.partner"].create(
            {"name": "Outsider", "is_company": True}
        )
        with self.assertRefused("Only active partners", UserError):
            self._register(outsider)

    def test_approve_protect_extend_expire(self):
        with freeze_time(TODAY):
            registration = self._register(self.contact_a)
            self.assertEqual(registration.state, "submitted")
            self.assertEqual(registration.user_id, self.manager)
            self.assertTrue(registration.activity_ids)
            registration.with_user(self.manager).action_approve()
        lead = registration.lead_id
        self.assertEqual(registration.state, "approved")
        self.assertEqual(lead.partner_assigned_id, self.partner_a)
        self.assertEqual(lead.prm_origin, "registered")
        self.assertEqual(lead.type, "opportunity")
        self.assertEqual(lead.partner_name, "Initech Systems")
        until = TODAY + timedelta(days=90)
        self.assertEqual(registration.protection_until, until)
        self.assertEqual(lead.prm_protected_until, until)
        self.assertIn(self.portal_a.partner_id, lead.message_partner_ids)
        self.assertIn("approved", registration.message_ids[0].subject or "")
        with self.assertRefused("already reviewed", UserError):
            registration.action_approve()

        # while protected: another partner cannot register the customer ...
        with self.assertRefused("already registered") as caught:
            self._register(
                self.contact_b, customer_name="Initech", email="x@initech.example"
            )
        # ... and is never told by whom nor until when
        refusal = str(caught.exception)
        self.assertNotIn("Partner A", refusal)
        self.assertNotIn(str(until), refusal)
        self.assertNotIn(until.strftime("%m/%d/%Y"), refusal)
        # ... nor be offered a new lead of that customer: it waits for A
        self.membership_a.lead_capacity = 0
        with freeze_time(TODAY):
            new_lead = self._leads(1, "Initech again", email_from="ceo@initech.example")
            result = self._assign(new_lead)
        self.assertFalse(new_lead.prm_offer_id)
        self.assertIn(new_lead, result["waiting"])
        self.membership_a.lead_capacity = 10
        with freeze_time(TODAY):
            self._assign(new_lead)
        self.assertEqual(new_lead.prm_offer_id.partner_id, self.partner_a)

        # one extension, on request
        registration.with_user(self.portal_a).sudo().action_request_extension()
        with self.assertRefused("already requested", UserError):
            registration.action_request_extension()
        registration.with_user(self.manager).action_grant_extension()
        self.assertEqual(registration.protection_until, until + timedelta(days=90))
        self.assertEqual(lead.prm_protected_until, until + timedelta(days=90))

        # the cron ends the protection once the date has passed
        with freeze_time(until + timedelta(days=89)):
            self.assertFalse(self.Registration._cron_expire_protection())
        with freeze_time(until + timedelta(days=91)):
            self.assertEqual(self.Registration._cron_expire_protection(), registration)
        self.assertEqual(registration.state, "expired")
        again = self._register(
            self.contact_b,
            when=until + timedelta(days=91),
            customer_name="Initech",
            email="x@initech.example",
        )
        self.assertEqual(again.state, "submitted")

    def test_approve_links_existing_lead(self):
        lead = self.env["crm.lead"].create(
            {
                "name": "Existing",
                "type": "lead",
                "email_from": "peter@initech.example",
                "country_id": self.france.id,
            }
        )
        self._assign(lead)
        offer = lead.prm_offer_id
        registration = self._register(self.contact_a)
        self.assertIn(lead, registration.conflict_ids.lead_id)
        registration.lead_id = lead
        registration.action_approve()
        self.assertEqual(offer.state, "withdrawn")
        self.assertEqual(lead.partner_assigned_id, self.partner_a)
        self.assertEqual(lead.prm_registration_id, registration)
        self.assertEqual(lead.type, "opportunity")

    def test_reject_needs_reason(self):
        registration = self._register(self.contact_a)
        with self.assertRefused("Write the reason", UserError):
            registration.action_reject()
        self.assertEqual(registration.state, "submitted")
        registration.reject_reason = "Already followed by our team"
        registration.action_reject()
        self.assertEqual(registration.state, "rejected")
        self.assertFalse(registration.lead_id)
        self.assertIn("rejected", registration.message_ids[0].subject or "")

    def test_isolation_orm(self):
        registration_b = self._register(self.contact_b, customer_name="Hooli")
        Registration = self.Registration.with_user(self.portal_a)
        self.assertFalse(Registration.search([("id", "=", registration_b.id)]))
        with self.assertRaises(AccessError):
            registration_b.with_user(self.portal_a).read(["customer_name"])
        with self.assertRaises(AccessError):
            registration_b.with_user(self.portal_a).write({"customer_name": "Mine"})
        with self.assertRaises(AccessError):
            self.env["prm.deal.conflict"].with_user(self.portal_a).search([])
        self.assertEqual(registration_b.customer_name, "Hooli")


@tagged("post_install", "-at_install")
class TestDealRegistrationPortal(DealCommon, HttpCase):
    def _csrf(self, url):
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200, url)
        return CSRF_RE.search(response.text).group(1)

    def _form(self, **values):
        data = {
            "customer_name": "Vandelay Industries",
            "contact_name": "Art Vandelay",
            "email": "art@vandelay.example",
            "phone": "+1 555 0100",
            "vat": "US123",
            "country_id": str(self.env.ref("base.us").id),
            "state_id": "",
            "expected_revenue": "8000",
            "date_close_expected": str(date.today() + timedelta(days=30)),
            "description": "Latex import",
        }
        data.update(values)
        data["csrf_token"] = self._csrf("/my/deal_registrations/new")
        return data

    def test_register_through_portal(self):
        self.authenticate("portal_partner_a", "portal_partner_a")
        response = self.url_open("/my/deal_registrations/new", data=self._form())
        self.assertEqual(response.status_code, 200)
        registration = self.Registration.search(
            [("customer_name", "=", "Vandelay Industries")]
        )
        self.assertEqual(len(registration), 1)
        self.assertEqual(registration.partner_id, self.partner_a)
        self.assertEqual(registration.submitted_by_id, self.contact_a)
        self.assertEqual(registration.program_id, self.program)
        self.assertEqual(registration.expected_revenue, 8000)
        self.assertTrue(
            response.url.endswith(f"/my/deal_registrations/{registration.id}")
        )
        self.assertIn("Under review", response.text)
        response = self.url_open("/my/deal_registrations")
        self.assertEqual(response.text.count("o_prm_registration_row"), 1)

    def test_bad_input_through_portal(self):
        self.authenticate("portal_partner_a", "portal_partner_a")
        for values, message in (
            ({"customer_name": ""}, "customer company"),
            ({"contact_name": ""}, "customer contact"),
            ({"email": "art@"}, "not a valid email"),
            ({"expected_revenue": "-10"}, "cannot be negative"),
            ({"expected_revenue": "lots"}, "not a number"),
            ({"date_close_expected": "2020-01-01"}, "in the past"),
        ):
            response = self.url_open(
                "/my/deal_registrations/new", data=self._form(**values)
            )
            self.assertEqual(response.status_code, 400, values)
            self.assertIn(message, response.text)
        # fields left out of the POST altogether: a message, no database error
        for missing, message in (
            ("customer_name", "customer company"),
            ("contact_name", "customer contact"),
        ):
            data = self._form()
            del data[missing]
            response = self.url_open("/my/deal_registrations/new", data=data)
            self.assertEqual(response.status_code, 400, missing)
            self.assertIn(message, response.text)
        self.assertFalse(
            self.Registration.search([("partner_id", "=", self.partner_a.id)])
        )

    def test_other_partner_registration_refused(self):
        registration_b = self._register(self.contact_b, customer_name="Hooli")
        registration_b.action_approve()
        self.authenticate("portal_partner_a", "portal_partner_a")
        self.assertEqual(
            self.url_open(f"/my/deal_registrations/{registration_b.id}").status_code,
            404,
        )
        token = self._csrf("/my/deal_registrations/new")
        response = self.url_open(
            f"/my/deal_registrations/{registration_b.id}/extend",
            data={"csrf_token": token},
        )
        self.assertEqual(response.status_code, 404)
        self.assertFalse(registration_b.extension_requested)
        response = self.url_open("/my/deal_registrations")
        self.assertNotIn("Hooli", response.text)
        # B's lead is not readable by A either
        self.assertEqual(
            self.url_open(
                f"/my/partner_opportunities/{registration_b.lead_id.id}"
            ).status_code,
            404,
        )

    def test_request_extension_through_portal(self):
        registration = self._register(self.contact_a)
        registration.action_approve()
        self.authenticate("portal_partner_a", "portal_partner_a")
        url = f"/my/deal_registrations/{registration.id}"
        token = self._csrf(url)
        response = self.url_open(f"{url}/extend", data={"csrf_token": token})
        self.assertEqual(response.status_code, 200)
        self.assertTrue(registration.extension_requested)
        self.assertIn("Extension requested", response.text)
        response = self.url_open(f"{url}/extend", data={"csrf_token": token})
        self.assertEqual(response.status_code, 409)
        self.assertIn("already requested", response.text)

    def test_conflict_refusal_reveals_nothing(self):
        """B registers a customer protected for A: refused, without A's name nor
        the end of the protection."""
        registration = self._register(self.contact_a, when=date.today())
        registration.action_approve()
        until = registration.protection_until
        self.authenticate("portal_partner_b", "portal_partner_b")
        response = self.url_open(
            "/my/deal_registrations/new",
            data=self._form(customer_name="Initech", email="boss@initech.example"),
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("already registered", response.text)
        self.assertNotIn("Partner A Co", response.text)
        self.assertNotIn(str(until), response.text)
        self.assertNotIn(until.strftime("%m/%d/%Y"), response.text)
        self.assertFalse(
            self.Registration.search([("partner_id", "=", self.partner_b.id)])
        )

    def test_business_methods_refused_over_rpc(self):
        """A portal user reading its own registration cannot run its business
        methods through JSON-RPC; nothing changes."""
        registration = self._register(self.contact_a)
        conflicts = registration.conflict_ids
        self.authenticate("portal_partner_a", "portal_partner_a")
        for method in (
            "action_check_conflicts",
            "action_approve",
            "action_request_extension",
        ):
            with (
                self.subTest(method=method),
                mute_logger("odoo.http"),
                self.assertRaises(JsonRpcException) as caught,
            ):
                self.make_jsonrpc_request(
                    "/web/dataset/call_kw",
                    {
                        "model": "prm.deal.registration",
                        "method": method,
                        "args": [[registration.id]],
                        "kwargs": {},
                    },
                )
            self.assertIn("AccessError", str(caught.exception))
        registration.invalidate_recordset()
        self.assertEqual(registration.state, "submitted")
        self.assertEqual(registration.conflict_ids, conflicts)
