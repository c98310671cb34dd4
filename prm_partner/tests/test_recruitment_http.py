import re

from odoo.exceptions import UserError
from odoo.tests import Form, HttpCase, tagged
from odoo.tools import mute_logger

from .common_recruitment import PrmRecruitmentCommon

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@tagged("post_install", "-at_install")
class TestRecruitmentHttp(PrmRecruitmentCommon, HttpCase):
    """The public program page and application form, and the portal onboarding
    checklist, through real HTTP requests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # every submission counts in the rate limit: the tests of the limit set it
        cls.env["ir.config_parameter"].set_param(
            "prm_partner.application_rate_limit", "0"
        )

    def _csrf(self, url="/partners/apply"):
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200)
        return CSRF_RE.search(response.text).group(1)

    def _form(self, **values):
        return {
            "program_id": str(self.program.id),
            "name": "Delta Web",
            "vat": "FR40303265045",
            "country_id": str(self.belgium.id),
            "website": "www.delta-web.test",
            "contact_name": "Diane Delta",
            "email": "diane@delta-web.test",
            "phone": "+32 2 555 12 12",
            "company_size": "3",
            "markets": "E-commerce in Benelux",
            "offering": "Shop integrations",
            "motivation": "Our customers need your product.",
            **values,
        }

    def _post(self, csrf=True, **values):
        data = self._form(**values)
        if csrf:
            data["csrf_token"] = self._csrf()
        return self.url_open("/partners/apply", data=data)

    def _count(self):
        return self.env["prm.application"].search_count([])

    # ------------------------------------------------------------------
    # public pages
    # ------------------------------------------------------------------
    def test_program_pages(self):
        response = self.url_open("/partners/programs")
        self.assertEqual(response.status_code, 200)
        self.assertIn(f"/partners/programs/{self.program.id}", response.text)
        self.assertNotIn(
            f"/partners/programs/{self.program_referral.id}", response.text
        )
        response = self.url_open(f"/partners/programs/{self.program.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Become a partner", response.text)
        self.assertEqual(response.text.count('class="o_prm_program_tier"'), 3)
        for tier in ("Registered", "Silver", "Gold"):
            self.assertIn(tier, response.text)
        self.assertIn(f"/partners/apply?program_id={self.program.id}", response.text)
        # unpublished, archived or missing programs are not found
        with mute_logger("odoo.http"):
            for program_id in (self.program_referral.id, 999999):
                response = self.url_open(f"/partners/programs/{program_id}")
                self.assertEqual(response.status_code, 404)
            self.program.active = False
            response = self.url_open(f"/partners/programs/{self.program.id}")
            self.assertEqual(response.status_code, 404)

    def test_form_lists_published_programs_only(self):
        response = self.url_open(f"/partners/apply?program_id={self.program.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn('name="csrf_token"', response.text)
        self.assertIn('name="fax_number"', response.text)
        self.assertRegex(response.text, rf'<option value="{self.program.id}" selected=')
        self.assertNotIn(
            f'<option value="{self.program_referral.id}">Referral', response.text
        )

    # ------------------------------------------------------------------
    # submissions
    # ------------------------------------------------------------------
    def test_valid_application(self):
        before = self._count()
        response = self._post()
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_prm_apply_thanks", response.text)
        self.assertEqual(self._count(), before + 1)
        app = self.env["prm.application"].search([], order="id desc", limit=1)
        self.assertEqual(app.name, "Delta Web")
        self.assertEqual(app.program_id, self.program)
        self.assertEqual(app.email, "diane@delta-web.test")
        self.assertEqual(app.email_domain, "delta-web.test")
        self.assertEqual(app.website, "https://www.delta-web.test")
        self.assertEqual(app.vat_normalized, "FR40303265045")
        self.assertEqual(app.country_id, self.belgium)
        self.assertEqual(app.company_size, "3")
        self.assertEqual(app.remote_addr, "127.0.0.1")
        self.assertEqual(app.stage_id, self.stage_new)
        self.assertEqual(app.user_id, self.manager)
        self.assertEqual(len(app.score_ids), 2)

    def test_each_invalid_field(self):
        cases = [
            ("program_id", ""),
            ("program_id", str(self.program_referral.id)),  # not published
            ("program_id", "abc"),
            ("name", ""),
            ("name", "x" * 129),
            ("contact_name", "   "),
            ("email", "diane-at-delta"),
            ("email", ""),
            ("email", "a@b.test, c@d.test"),
            ("vat", "12"),
            ("vat", "<script>"),
            ("country_id", ""),
            ("country_id", "999999"),
            ("website", "javascript:alert(1)"),
            ("website", "not a site"),
            ("phone", "call me maybe"),
            ("company_size", "9"),
            ("company_size", ""),
            ("markets", "m" * 2001),
            ("offering", "o" * 2001),
            ("motivation", ""),
            ("motivation", "x" * 5001),
            ("offering", "a\x00b"),
            ("name", "Delta\x00Web"),
            ("vat", "BE0477\x00472701"),
        ]
        before = self._count()
        for field, value in cases:
            with self.subTest(field=field, value=value[:20]):
                response = self._post(**{field: value})
                self.assertEqual(response.status_code, 400)
                self.assertIn(f'data-field="{field}"', response.text)
                self.assertEqual(response.text.count("o_prm_field_error"), 1)
                self.assertEqual(self._count(), before)
        # the submitted answers are kept in the form
        response = self._post(email="bad")
        self.assertIn('value="Delta Web"', response.text)

    def test_csrf_required(self):
        before = self._count()
        with mute_logger("odoo.http"):
            response = self._post(csrf=False)
            self.assertEqual(response.status_code, 400)
            data = dict(self._form(), csrf_token="forged")
            response = self.url_open("/partners/apply", data=data)
            self.assertEqual(response.status_code, 400)
        self.assertEqual(self._count(), before)

    def test_honeypot(self):
        before = self._count()
        response = self._post(fax_number="+1 555 0100")
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_prm_apply_thanks", response.text)
        self.assertEqual(self._count(), before)

    def test_rate_limit(self):
        """Every submission from 127.0.0.1 counts: valid, duplicate or invalid."""
        self.env["ir.config_parameter"].set_param(
            "prm_partner.application_rate_limit", "3"
        )
        before = self._count()
        response = self._post(vat="", email="x@site0.test", name="Co 0")
        self.assertEqual(response.status_code, 200)
        response = self._post(vat="", email="y@site0.test", name="Co 0 again")
        self.assertEqual(response.status_code, 200)  # a duplicate
        response = self._post(vat="BR 12.345.678/0001-90")
        self.assertEqual(response.status_code, 400)  # invalid
        response = self._post(vat="", email="x@site9.test")
        self.assertEqual(response.status_code, 429)
        self.assertIn("Too many applications", response.text)
        self.assertEqual(self._count(), before + 1)
        attempts = self.env["prm.application.attempt"].search(
            [("network", "=", "127.0.0.1")]
        )
        self.assertEqual(
            sorted(attempts.mapped("outcome")),
            ["attached", "created", "invalid", "rate_limited"],
        )
        # older submissions no longer count
        attempts.write({"date": "2020-01-01 00:00:00"})
        response = self._post(vat="", email="x@site9.test")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self._count(), before + 2)

    # ------------------------------------------------------------------
    # tax IDs
    # ------------------------------------------------------------------
    def test_brazilian_tax_ids(self):
        brazil = str(self.env.ref("base.br").id)
        before = self._count()
        for vat, message in (
            ("12.345.678/0001-90", "This CNPJ is not valid"),
            ("529.982.247-24", "This CPF is not valid"),
            ("123.456", "A Brazilian tax ID is a CNPJ (14 digits) or a CPF"),
        ):
            with self.subTest(vat=vat):
                response = self._post(vat=vat, country_id=brazil)
                self.assertEqual(response.status_code, 400)
                self.assertIn('data-field="vat"', response.text)
                self.assertIn(message, response.text)
                self.assertIn(f'value="{vat}"', response.text)
        self.assertEqual(self._count(), before)
        for index, vat in enumerate(("12.345.678/0001-95", "529.982.247-25")):
            response = self._post(
                vat=vat, country_id=brazil, email=f"ok@br{index}.test"
            )
            self.assertEqual(response.status_code, 200)
            self.assertIn("o_prm_apply_thanks", response.text)
        apps = self.env["prm.application"].search([], order="id desc", limit=2)
        self.assertEqual(
            apps.mapped("vat_normalized"), ["BR52998224725", "BR12345678000195"]
        )

    def test_eu_vat_checked(self):
        before = self._count()
        response = self._post(vat="BE0477472702")
        self.assertEqual(response.status_code, 400)
        self.assertIn("This VAT number is not valid for BE", response.text)
        self.assertEqual(self._count(), before)
        response = self._post(vat="0477.472.701")  # Belgium: prefix added
        self.assertEqual(response.status_code, 200)
        app = self.env["prm.application"].search([], order="id desc", limit=1)
        self.assertEqual(app.vat_normalized, "BE0477472701")

    # ------------------------------------------------------------------
    # the forgery: an applicant with an existing company's tax ID
    # ------------------------------------------------------------------
    def _forge(self):
        """Give Partner A a CNPJ and apply with it under another name and mail."""
        brazil = self.env.ref("base.br")
        self.partner_a.write({"vat": "33.444.555/0001-81", "country_id": brazil.id})
        agreement = self.env["prm.agreement"].create(
            {
                "title": "Partner A agreement",
                "partner_id": self.partner_a.id,
                "program_id": self.program.id,
                "user_id": self.manager.id,
                "date_start": "2026-01-01",
                "date_end": "2026-12-31",
            }
        )
        response = self._post(
            name="Totally Not A",
            vat="33444555000181",
            country_id=str(brazil.id),
            contact_name="Mallory",
            email="mallory@forger.test",
        )
        self.assertEqual(response.status_code, 200)
        app = self.env["prm.application"].search([], order="id desc", limit=1)
        self.assertEqual(app.email, "mallory@forger.test")
        app.write({"score_override": True, "score_override_reason": "Test"})
        return app, agreement

    def _no_access_to_partner_a(self, agreement):
        """Mallory has no user under Partner A; logged in (if she has a user at
        all) she reads nothing of Partner A."""
        users = self.env["res.users"].search([("login", "=", "mallory@forger.test")])
        self.assertNotEqual(users.commercial_partner_id, self.partner_a)
        self.assertFalse(
            self.env["res.users"].search(
                [
                    ("partner_id.commercial_partner_id", "=", self.partner_a.id),
                    ("login", "=", "mallory@forger.test"),
                ]
            )
        )
        if not users:
            return
        users.password = "mallory-password"
        self.authenticate("mallory@forger.test", "mallory-password")
        for url in (
            f"/my/agreements/{agreement.id}",
            f"/my/memberships/{self.membership_a.id}",
        ):
            response = self.url_open(url)
            self.assertNotIn("Partner A", response.text, url)
        response = self.url_open("/my/agreements")
        self.assertNotIn("Partner A agreement", response.text)
        self.assertFalse(
            self.env["prm.agreement"]
            .with_user(users)
            .search([("partner_id", "=", self.partner_a.id)])
        )
        self.assertFalse(
            self.env["prm.membership"]
            .with_user(users)
            .search([("partner_id", "=", self.partner_a.id)])
        )

    def test_forged_tax_id_default_approval(self):
        app, agreement = self._forge()
        self.assertEqual(app.matched_partner_id, self.partner_a)
        self.assertEqual(app.match_reason, "vat")
        # the approval screen, left as it opens, refuses
        action = app.with_user(self.prm_user).action_approve()
        self.assertEqual(action["res_model"], "prm.application.approve")
        wizard = Form(
            self.env["prm.application.approve"]
            .with_user(self.prm_user)
            .with_context(**action["context"])
        )
        self.assertIn("Partner A Co", wizard.summary)
        with self.assertRaises(UserError):
            self.env["prm.application.approve"].with_user(self.prm_user).create(
                {"application_ids": app.ids}
            ).action_approve()
        with self.assertRaises(UserError):
            app.with_user(self.prm_user)._approve()
        self.assertEqual(app.kind, "open")
        self._no_access_to_partner_a(agreement)
        # "create a new company": Mallory gets her own company, nothing of A
        wizard.company_choice = "new"
        wizard.save().action_approve()
        self.assertEqual(app.kind, "approved")
        self.assertNotEqual(app.partner_id, self.partner_a)
        self._no_access_to_partner_a(agreement)

    def test_forged_tax_id_link_waits_for_confirmation(self):
        app, agreement = self._forge()
        # Partner A is a member of Reseller already: apply to another program
        app.program_id = self.program_referral
        app._approve("link")
        self.assertEqual(app.partner_id, self.partner_a)
        self.assertEqual(app.contact_id.parent_id, self.partner_a)
        self.assertEqual(app.contact_state, "pending")
        self._no_access_to_partner_a(agreement)
        app.with_user(self.manager).action_confirm_contact()
        user = app.contact_id.user_ids
        self.assertEqual(user.login, "mallory@forger.test")
        self.assertEqual(user.commercial_partner_id, self.partner_a)

    def test_duplicate_attached(self):
        before = self._count()
        self.assertEqual(self._post().status_code, 200)
        app = self.env["prm.application"].search([], order="id desc", limit=1)
        # same VAT written differently, other mail domain
        response = self._post(
            vat="fr 403 032 650 45", email="boss@other.test", motivation="Again!"
        )
        self.assertEqual(response.status_code, 200)
        # same mail domain, no VAT
        response = self._post(vat="", email="sales@delta-web.test")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self._count(), before + 1)
        notes = app.message_ids.filtered(lambda m: "applied again" in (m.body or ""))
        self.assertEqual(len(notes), 2)
        self.assertTrue(any("Again!" in note.body for note in notes))
        # public mail domains are not companies: two applications
        self._post(vat="", email="one@gmail.com", name="Solo One")
        self._post(vat="", email="two@gmail.com", name="Solo Two")
        self.assertEqual(self._count(), before + 3)

    # ------------------------------------------------------------------
    # portal onboarding checklist
    # ------------------------------------------------------------------
    def _onboard(self, membership):
        membership.write({"state": "onboarding"})
        membership._instantiate_onboarding()
        return membership.onboarding_step_ids

    def _tick(self, membership, step):
        url = f"/my/memberships/{membership.id}"
        token = self._csrf(url)
        return self.url_open(
            f"{url}/onboarding/{step.id}/done", data={"csrf_token": token}
        )

    def test_portal_checklist_completion(self):
        sign, kickoff, certify = self._onboard(self.membership_a)
        steps_b = self._onboard(self.membership_b)
        self.authenticate("portal_partner_a", "portal_partner_a")
        response = self.url_open("/my/memberships")
        self.assertIn("o_prm_onboarding_badge", response.text)
        response = self.url_open(f"/my/memberships/{self.membership_a.id}")
        self.assertEqual(response.text.count("o_prm_onboarding_step "), 3)
        self.assertEqual(response.text.count("o_prm_step_done_button"), 2)
        self.assertIn("Sign agreement", response.text)
        # tick a partner-side step
        response = self._tick(self.membership_a, sign)
        self.assertEqual(response.status_code, 200)
        self.env.invalidate_all()
        self.assertTrue(sign.is_done)
        self.assertEqual(sign.done_by_id, self.portal_a)
        self.assertIn("33 %", response.text)
        # the company-side step is not the partner's to tick
        response = self._tick(self.membership_a, kickoff)
        self.assertTrue(response.url.endswith("/my"), response.url)
        self.env.invalidate_all()
        self.assertFalse(kickoff.is_done)
        # the certification step waits for a certified person
        response = self._tick(self.membership_a, certify)
        self.assertIn("o_prm_onboarding_error", response.text)
        self.env.invalidate_all()
        self.assertFalse(certify.is_done)
        self._certify(self.contact_a2, self.cert_sales)
        kickoff.with_user(self.manager).action_mark_done()
        self.assertEqual(self.membership_a.state, "onboarding")
        response = self._tick(self.membership_a, certify)
        self.env.invalidate_all()
        self.assertTrue(certify.is_done)
        self.assertEqual(self.membership_a.state, "active")
        self.assertEqual(self.membership_a.onboarding_progress, 100.0)
        self.assertIn("100 %", response.text)
        self.assertFalse(any(steps_b.mapped("is_done")))

    def test_portal_checklist_isolation(self):
        self._onboard(self.membership_a)
        steps_b = self._onboard(self.membership_b)
        self.authenticate("portal_partner_a", "portal_partner_a")
        # B's page and B's steps, through B's membership or through A's
        response = self.url_open(f"/my/memberships/{self.membership_b.id}")
        self.assertTrue(response.url.endswith("/my"), response.url)
        self.assertNotIn("Partner B Co", response.text)
        token = self._csrf(f"/my/memberships/{self.membership_a.id}")
        for membership in (self.membership_b, self.membership_a):
            response = self.url_open(
                f"/my/memberships/{membership.id}/onboarding/{steps_b[0].id}/done",
                data={"csrf_token": token},
            )
            self.assertTrue(response.url.endswith("/my"), response.url)
        response = self.url_open(
            f"/my/memberships/{self.membership_a.id}/onboarding/999999/done",
            data={"csrf_token": token},
        )
        self.assertTrue(response.url.endswith("/my"), response.url)
        self.env.invalidate_all()
        self.assertFalse(any(steps_b.mapped("is_done")))
        self.assertEqual(self.membership_b.state, "onboarding")
        # no CSRF token, no change
        with mute_logger("odoo.http"):
            response = self.url_open(
                f"/my/memberships/{self.membership_a.id}/onboarding/"
                f"{self.membership_a.onboarding_step_ids[0].id}/done",
                data={"csrf_token": ""},
            )
        self.assertEqual(response.status_code, 400)
        self.env.invalidate_all()
        self.assertFalse(self.membership_a.onboarding_step_ids[0].is_done)

    def test_anonymous_checklist_redirects_to_login(self):
        step = self._onboard(self.membership_a)[0]
        token = self._csrf()
        response = self.url_open(
            f"/my/memberships/{self.membership_a.id}/onboarding/{step.id}/done",
            data={"csrf_token": token},
        )
        self.assertIn("/web/login", response.url)
        self.env.invalidate_all()
        self.assertFalse(step.is_done)
