from datetime import date, datetime

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.tests import Form, new_test_user, tagged

from ..tools import tax_id
from .common import TODAY
from .common_recruitment import PrmRecruitmentCommon


@tagged("post_install", "-at_install")
class TestRecruitment(PrmRecruitmentCommon):
    # ------------------------------------------------------------------
    # qualification
    # ------------------------------------------------------------------
    def test_score_lines_and_weighted_score(self):
        app = self.application
        self.assertEqual(app.score_ids.criterion_id, self.crit_fit | self.crit_track)
        self.assertEqual(app.score, 0.0)
        self._score(app, {self.crit_fit: 5})
        # 3 x 5 / (5 x (3 + 1)) = 75 %
        self.assertEqual(app.score, 75.0)
        self._score(app, {self.crit_fit: 4, self.crit_track: 2})
        # (3 x 4 + 1 x 2) / 20 = 70 %
        self.assertEqual(app.score, 70.0)
        self.crit_track.weight = 3
        # (3 x 4 + 3 x 2) / 30 = 60 %
        self.assertEqual(app.score, 60.0)
        with self.assertRefused("must be positive"):
            self.crit_track.weight = 0
        with self.assertRefused("due offset must be 0 or more"):
            self.template.step_ids[0].due_days = -1
        self.assertEqual(self.crit_track.weight, 3)
        self.assertEqual(self.template.step_ids[0].due_days, 7)
        # a program without criteria scores 0 and needs no minimum
        other = self.env["prm.application"].create(
            self._application_vals(program_id=self.program_referral.id)
        )
        self.assertFalse(other.score_ids)
        self.assertEqual(other.score, 0.0)

    def test_minimum_score_and_override(self):
        app = self.application.with_user(self.prm_user)
        self._score(app, {self.crit_fit: 2, self.crit_track: 5})  # 55 %
        with self.assertRefused("below the minimum of 60"):
            app._approve()
        app.invalidate_recordset()
        self.assertEqual(app.kind, "open")
        self.assertFalse(app.partner_id)
        self.assertFalse(
            self.env["prm.membership"].search([("partner_id.vat", "=", app.vat)])
        )
        # a recruiter cannot waive the minimum
        with self.assertRefused("Only a partner manager", AccessError):
            app.write({"score_override": True, "score_override_reason": "Strategic"})
        # a manager must give a reason
        as_manager = self.application.with_user(self.manager)
        with self.assertRefused("Give a reason"):
            as_manager.write({"score_override": True})
        with self.assertRefused("Give a reason"):
            as_manager.write({"score_override": True, "score_override_reason": "  "})
        as_manager.write(
            {"score_override": True, "score_override_reason": "Strategic account"}
        )
        membership = app._approve()
        self.assertEqual(membership.state, "onboarding")
        self.assertEqual(app.kind, "approved")

    def test_scores_frozen_once_decided(self):
        self._score(self.application, {self.crit_fit: 5, self.crit_track: 5})
        self.application._approve()
        with self.assertRefused("decided", UserError):
            self.application.score_ids[0].score = "1"
        self.assertEqual(self.application.score, 100.0)

    # ------------------------------------------------------------------
    # approval
    # ------------------------------------------------------------------
    @freeze_time(TODAY)
    def test_approval_side_effects(self):
        app = self.application.with_user(self.prm_user)
        self._score(app, {self.crit_fit: 4, self.crit_track: 4})  # 80 %
        # keep the sent invitation to inspect it (the portal wizard sends it at once)
        self.env.ref("portal.mail_template_data_portal_welcome").auto_delete = False
        mails_before = self.env["mail.mail"].search([])
        membership = app._approve()
        company, contact = app.partner_id, app.contact_id
        # partner company and contact
        self.assertTrue(company.is_company)
        self.assertEqual(company.name, "Gamma Co")
        self.assertEqual(company.vat, "BE 0477.472.701")
        self.assertEqual(company.country_id, self.belgium)
        self.assertEqual(contact.parent_id, company)
        self.assertEqual(contact.email, "carol@gamma.test")
        self.assertEqual(contact.name, "Carol Gamma")
        # membership: onboarding, entry tier, partner manager
        self.assertEqual(membership.partner_id, company)
        self.assertEqual(membership.program_id, self.program)
        self.assertEqual(membership.state, "onboarding")
        self.assertEqual(membership.tier_id, self.registered)
        self.assertEqual(membership.date_onboarding, TODAY)
        self.assertEqual(membership.user_id, self.manager)  # the program's recruiter
        self.assertEqual(app.membership_id, membership)
        # portal invitation
        user = contact.user_ids
        self.assertEqual(len(user), 1)
        self.assertTrue(user._is_portal())
        self.assertEqual(user.login, "carol@gamma.test")
        invitation = (self.env["mail.mail"].search([]) - mails_before).filtered(
            lambda m: m.model == "portal.wizard.user"
        )
        self.assertEqual(len(invitation), 1)
        self.assertIn("carol@gamma.test", invitation.email_to)
        self.assertIn("/web/signup", invitation.body_html)
        # onboarding steps, due from today, in the template's order
        steps = membership.onboarding_step_ids
        self.assertEqual(
            steps.mapped("name"), ["Sign agreement", "Kick-off", "Certify a seller"]
        )
        self.assertEqual(
            steps.mapped("date_due"),
            [date(2026, 6, 22), date(2026, 6, 25), date(2026, 7, 15)],
        )
        self.assertEqual(steps.mapped("owner"), ["partner", "company", "partner"])
        self.assertEqual(steps[2].certification_id, self.cert_sales)
        # the company-side step is an activity of the partner manager
        kickoff = steps[1]
        self.assertTrue(kickoff.activity_id)
        self.assertEqual(kickoff.activity_id.user_id, self.manager)
        self.assertEqual(kickoff.activity_id.res_id, membership.id)
        self.assertEqual(kickoff.activity_id.date_deadline, date(2026, 6, 25))
        self.assertFalse(steps[0].activity_id | steps[2].activity_id)
        self.assertEqual(membership.onboarding_progress, 0.0)
        # the application is decided
        self.assertEqual(app.stage_id, self.stage_approved)
        self.assertTrue(app.date_decision)
        self.assertEqual(app.approved_rate, 100.0)
        with self.assertRefused("already decided", UserError):
            app._approve()

    def test_approval_links_existing_company_and_contact(self):
        """A recruiter links an application to an existing company: the contact
        with the same email is found (it already has its portal user, so it is
        confirmed and nobody new is invited)."""
        self.partner_a.vat = "BE0477472701"
        app = self.env["prm.application"].create(
            self._application_vals(
                program_id=self.program_referral.id,
                name="Partner A (typo)",
                email=self.contact_a.email.upper(),  # the email of portal_a
                contact_name="Alice",
            )
        )
        self.assertEqual(app.matched_partner_id, self.partner_a)
        self.assertEqual(app.match_reason, "vat")
        partners_before = self.env["res.partner"].search_count([])
        users_before = self.env["res.users"].search_count([])
        with self.assertRefused("match an existing company", UserError):
            app._approve()
        self.assertEqual(app.kind, "open")
        membership = app._approve("link")
        self.assertEqual(app.partner_id, self.partner_a)
        self.assertEqual(app.contact_id, self.contact_a)
        self.assertEqual(app.company_choice, "link")
        self.assertEqual(app.contact_state, "confirmed")
        self.assertEqual(membership.partner_id, self.partner_a)
        self.assertEqual(membership.tier_id.name, "Affiliate")
        self.assertEqual(self.env["res.partner"].search_count([]), partners_before)
        # Alice already has a portal user: no second invitation
        self.assertEqual(self.env["res.users"].search_count([]), users_before)
        # a member of the program cannot be approved again
        again = self.env["prm.application"].create(
            self._application_vals(vat="BE0477472701", email="new@a.test")
        )
        self._score(again, {self.crit_fit: 5, self.crit_track: 5})
        with self.assertRefused("already a member of the program Reseller"):
            again._approve("link")
        again.invalidate_recordset()
        self.assertEqual(again.kind, "open")
        self.assertFalse(again.partner_id)

    def test_batch_approval_is_set_based(self):
        apps = self.env["prm.application"].create(
            [
                self._application_vals(
                    name=f"Batch {index}",
                    vat=self._be_vat(4774800 + index),
                    email=f"boss@batch{index}.test",
                )
                for index in range(4)
            ]
        )
        self.assertFalse(apps.matched_partner_id)
        apps.write({"score_override": True, "score_override_reason": "Bulk campaign"})
        memberships = apps._approve()
        self.assertEqual(len(memberships), 4)
        self.assertEqual(len(memberships.onboarding_step_ids), 12)
        self.assertEqual(len(apps.contact_id.user_ids), 4)
        self.assertEqual(set(apps.mapped("kind")), {"approved"})
        self.assertEqual(set(apps.mapped("company_choice")), {"new"})
        self.assertFalse(any(apps.mapped("contact_state")))

    # ------------------------------------------------------------------
    # pipeline
    # ------------------------------------------------------------------
    def test_stage_moves_and_logs(self):
        app = self.application.with_user(self.prm_user)
        self.assertEqual(app.stage_id, self.stage_new)
        with freeze_time("2026-06-20 10:00:00"):
            app.stage_id = self.stage_qualification
        with self.assertRefused("Use the Approve or Reject button", UserError):
            app.stage_id = self.stage_approved
        with self.assertRefused("Use the Approve or Reject button", UserError):
            app.stage_id = self.stage_rejected
        self.assertEqual(app.stage_id, self.stage_qualification)
        logs = self.env["prm.application.stage.log"].search(
            [("application_id", "=", app.id)], order="id"
        )
        self.assertEqual(logs.stage_id, self.stage_new | self.stage_qualification)
        self.assertTrue(logs[0].date_out)
        self.assertFalse(logs[1].date_out)
        self.assertEqual(logs[1].days, 0.0)

    def test_stage_log_days(self):
        with freeze_time("2026-06-01 08:00:00"):
            app = self.env["prm.application"].create(self._application_vals())
        with freeze_time("2026-06-04 20:00:00"):
            app.stage_id = self.stage_qualification
        log = app.env["prm.application.stage.log"].search(
            [("application_id", "=", app.id), ("stage_id", "=", self.stage_new.id)]
        )
        self.assertEqual(log.days, 3.5)

    def test_reject_with_reason_and_mail(self):
        app = self.application.with_user(self.prm_user)
        with self.assertRefused("Give a reason to reject"):
            app._reject(self.env["prm.application.rejection.reason"])
        wizard = Form(
            self.env["prm.application.reject"]
            .with_user(self.prm_user)
            .with_context(default_application_ids=app.ids)
        )
        wizard.rejection_reason_id = self.reason
        wizard.rejection_note = "We already have three resellers in Belgium."
        wizard.save().action_reject()
        self.assertEqual(app.stage_id, self.stage_rejected)
        self.assertEqual(app.rejection_reason_id, self.reason)
        self.assertTrue(app.date_decision)
        mail = self.env["mail.mail"].search(
            [("model", "=", "prm.application"), ("res_id", "=", app.id)]
        )
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.email_to, "carol@gamma.test")
        self.assertIn("Territory already covered", mail.body_html)
        self.assertIn("three resellers in Belgium", mail.body_html)
        self.assertFalse(
            self.env["res.partner"].search([("email", "=", "carol@gamma.test")])
        )
        with self.assertRefused("already decided", UserError):
            app._approve()
        app.action_reopen()
        self.assertEqual(app.stage_id, self.stage_new)
        self.assertFalse(app.rejection_reason_id)

    def test_duplicate_detection(self):
        Application = self.env["prm.application"]
        app = self.application  # VAT BE 0477.472.701, domain gamma.test
        vals = {"program_id": self.program.id}
        self.assertEqual(
            Application._find_duplicate({**vals, "vat": "be0477472701"}), app
        )
        self.assertEqual(
            Application._find_duplicate({**vals, "email": "other@GAMMA.test"}), app
        )
        self.assertFalse(
            Application._find_duplicate({**vals, "email": "x@other.test", "vat": "BE1"})
        )
        # another program is another application
        self.assertFalse(
            Application._find_duplicate(
                {"program_id": self.program_referral.id, "vat": "BE0477472701"}
            )
        )
        # public mail domains identify nobody
        gmail = Application.create(
            self._application_vals(vat=False, email="a@gmail.com")
        )
        self.assertFalse(gmail.email_domain)
        self.assertFalse(Application._find_duplicate({**vals, "email": "b@gmail.com"}))
        self.env["ir.config_parameter"].set_param(
            "prm_partner.public_mail_domains", "gamma.test"
        )
        self.assertFalse(
            Application._find_duplicate({**vals, "email": "other@gamma.test"})
        )
        # a decided application no longer attracts duplicates
        app._reject(self.reason, send_mail=False)
        self.assertFalse(Application._find_duplicate({**vals, "vat": "BE0477472701"}))

    def test_bad_email_refused(self):
        with self.assertRefused("not a valid email address"):
            self.env["prm.application"].create(self._application_vals(email="nope"))
        with self.assertRefused("between 0 and 100"):
            self.program.min_qualification_score = 120
        self.assertEqual(self.program.min_qualification_score, 60)

    # ------------------------------------------------------------------
    # onboarding
    # ------------------------------------------------------------------
    def _approved_membership(self):
        self._score(self.application, {self.crit_fit: 5, self.crit_track: 5})
        return self.application._approve()

    def test_onboarding_completion_activates(self):
        membership = self._approved_membership()
        sign, kickoff, certify = membership.onboarding_step_ids
        activity = kickoff.activity_id
        kickoff.with_user(self.manager).action_mark_done()
        self.assertTrue(kickoff.is_done)
        self.assertEqual(kickoff.done_by_id, self.manager)
        self.assertFalse(activity.exists(), "the activity is marked done")
        self.assertAlmostEqual(membership.onboarding_progress, 33.3)
        sign._mark_done(self.application.contact_id.user_ids)
        # the certification step waits for a certified person
        with self.assertRefused("needs someone of Gamma Co certified Sales Pro"):
            certify._mark_done(self.application.contact_id.user_ids)
        self.assertFalse(certify.is_done)
        self.assertEqual(membership.state, "onboarding")
        with self.assertRefused("already done", UserError):
            sign._mark_done(self.manager)
        self._certify(
            self.application.contact_id, self.cert_sales, obtained=date.today()
        )
        activated = certify._mark_done(self.application.contact_id.user_ids)
        self.assertEqual(activated, membership)
        self.assertEqual(membership.state, "active")
        self.assertEqual(membership.date_start, date.today())
        self.assertEqual(membership.onboarding_progress, 100.0)
        notice = membership.message_ids.filtered(
            lambda m: "Onboarding complete" in (m.body or "")
        )
        self.assertEqual(len(notice), 1)
        self.assertIn(self.manager.partner_id, notice.partner_ids)

    def test_activity_done_marks_company_step_done(self):
        membership = self._approved_membership()
        kickoff = membership.onboarding_step_ids.filtered(
            lambda s: s.owner == "company"
        )
        kickoff.activity_id.with_user(self.manager).action_feedback(feedback="Met them")
        self.assertTrue(kickoff.is_done)
        self.assertEqual(kickoff.done_by_id, self.manager)
        self.assertFalse(kickoff.activity_id)
        self.assertIn("Met them", "".join(membership.message_ids.mapped("body")))
        self.assertEqual(membership.onboarding_progress, 33.3)
        # a decided application stays where it is
        with self.assertRefused("A decided application stays", UserError):
            self.application.stage_id = self.stage_qualification

    def test_start_onboarding_instantiates_template(self):
        membership = self.env["prm.membership"].create(
            {"partner_id": self.partner_b.id, "program_id": self.program_referral.id}
        )
        self.env["prm.onboarding.template"].create(
            {
                "name": "Referral",
                "program_id": self.program_referral.id,
                "step_ids": [Command.create({"name": "Read the guide"})],
            }
        )
        membership.action_set_onboarding()
        self.assertEqual(
            membership.onboarding_step_ids.mapped("name"), ["Read the guide"]
        )
        membership._instantiate_onboarding()  # idempotent
        self.assertEqual(len(membership.onboarding_step_ids), 1)

    def test_time_to_first_deal(self):
        self.membership_a.date_start = date(2026, 3, 1)
        self.assertFalse(self.membership_a.date_first_deal)
        self._won_leads(self.partner_a, [100], closed=date(2026, 2, 1))  # before
        self._won_leads(
            self.partner_a,
            [100],
            closed=date(2026, 3, 20),
            program=self.program_referral,
        )
        self._won_leads(self.partner_a, [100], closed=date(2026, 4, 10))
        self._won_leads(
            self.partner_a, [100], closed=date(2026, 5, 1), program=self.program
        )
        self._won_leads(self.partner_b, [100], closed=date(2026, 3, 2))
        (self.membership_a | self.membership_b).invalidate_recordset()
        self.assertEqual(self.membership_a.date_first_deal, date(2026, 4, 10))
        self.assertEqual(self.membership_a.first_deal_days, 40)
        # set-based: the same queries for one membership or many
        memberships = self.membership_a | self.membership_b
        memberships.invalidate_recordset()
        memberships.mapped("date_start")
        with self.assertQueryCount(1):
            memberships.mapped("first_deal_days")

    # ------------------------------------------------------------------
    # access
    # ------------------------------------------------------------------
    def test_isolation(self):
        membership = self._approved_membership()
        applicant = self.application.contact_id.user_ids
        self.membership_b.write({"state": "onboarding"})
        self.membership_b._instantiate_onboarding()
        for user in (applicant, self.portal_a, self.portal_b, self.internal_user):
            with self.assertRaises(AccessError):
                self.env["prm.application"].with_user(user).search_count([])
            with self.assertRaises(AccessError):
                self.application.with_user(user).read(["name"])
        # a partner reads its own steps only, and writes none
        Step = self.env["prm.membership.onboarding.step"]
        self.assertEqual(
            Step.with_user(applicant).search([]), membership.onboarding_step_ids
        )
        self.assertEqual(
            Step.with_user(self.portal_b).search([]),
            self.membership_b.onboarding_step_ids,
        )
        with self.assertRaises(AccessError):
            self.membership_b.onboarding_step_ids[:1].with_user(applicant).read(
                ["name"]
            )
        with self.assertRaises(AccessError):
            membership.onboarding_step_ids[:1].with_user(applicant).write(
                {"is_done": True}
            )
        with self.assertRaises(AccessError):
            self.membership_b.with_user(applicant).read(["state"])

    def test_multi_company(self):
        company2 = self.env["res.company"].create({"name": "Other Co"})
        program2 = self.env["prm.program"].create(
            {
                "name": "Other program",
                "company_id": company2.id,
                "qualification_criterion_ids": [Command.create({"name": "Fit"})],
            }
        )
        app2 = self.env["prm.application"].create(
            self._application_vals(program_id=program2.id)
        )
        recruiter = new_test_user(
            self.env, login="recruiter_c1", groups="prm_partner.group_prm_user"
        )
        visible = self.env["prm.application"].with_user(recruiter).search([])
        self.assertIn(self.application, visible)
        self.assertNotIn(app2, visible)
        self.assertFalse(
            self.env["prm.application.score"]
            .with_user(recruiter)
            .search([("application_id", "=", app2.id)])
        )
        with self.assertRaises(AccessError):
            app2.with_user(recruiter).read(["name"])

    def test_menus(self):
        visible = self.env["ir.ui.menu"].with_user(self.prm_user)._visible_menu_ids()
        self.assertIn(self.env.ref("prm_partner.prm_application_menu").id, visible)
        self.assertIn(
            self.env.ref("prm_partner.prm_onboarding_overdue_menu").id, visible
        )
        # recruiters use the configuration, managers change it
        with self.assertRaises(AccessError):
            self.env["prm.qualification.criterion"].with_user(self.prm_user).create(
                {"name": "Mine", "program_id": self.program.id}
            )
        visible = self.env["ir.ui.menu"].with_user(self.manager)._visible_menu_ids()
        self.assertIn(
            self.env.ref("prm_partner.prm_onboarding_template_menu").id, visible
        )

    def test_views_load(self):
        for xmlid in (
            "prm_application_action",
            "prm_application_analysis_action",
            "prm_application_stage_log_action",
            "prm_application_stage_action",
            "prm_application_rejection_reason_action",
            "prm_qualification_criterion_action",
            "prm_onboarding_template_action",
            "prm_membership_onboarding_step_action",
            "prm_membership_onboarding_step_overdue_action",
            "prm_membership_onboarding_action",
            "prm_program_action",
            "prm_membership_action",
        ):
            action = self.env.ref(f"prm_partner.{xmlid}")
            modes = [(False, mode) for mode in action.view_mode.split(",")]
            with self.subTest(action=xmlid):
                result = (
                    self.env[action.res_model]
                    .with_user(self.manager)
                    .get_views([*modes, (False, "search")])
                )
                self.assertEqual(
                    set(result["views"]), {mode for _id, mode in modes} | {"search"}
                )
        form = Form(
            self.env["prm.application.reject"].with_context(
                default_application_ids=self.application.ids
            )
        )
        self.assertFalse(form.rejection_reason_id)

    def test_overdue_search(self):
        with freeze_time(datetime(2026, 6, 1)):
            membership = self._approved_membership()
        Step = self.env["prm.membership.onboarding.step"]
        with freeze_time(datetime(2026, 6, 26)):
            overdue = Step.search([("is_overdue", "=", True)])
            self.assertEqual(overdue, membership.onboarding_step_ids[:2])
            self.assertEqual(
                Step.search(
                    [("membership_id", "=", membership.id), ("is_overdue", "=", False)]
                ),
                membership.onboarding_step_ids[2],
            )
            membership.invalidate_recordset()
            self.assertEqual(membership.onboarding_overdue_count, 2)


@tagged("post_install", "-at_install")
class TestRecruitmentCompanyMatch(PrmRecruitmentCommon):
    """An application never grants access to an existing company by itself:
    a match is shown, approval needs a choice, linking invites nobody until a
    partner manager confirms the contact."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.brazil = cls.env.ref("base.br")
        cls.omega = cls.env["res.partner"].create(
            {
                "name": "Omega Ltda",
                "is_company": True,
                "vat": "11.444.777/0001-61",
                "country_id": cls.brazil.id,
                "child_ids": [
                    Command.create({"name": "Olga Omega", "email": "olga@omega.test"})
                ],
            }
        )
        cls.forged = cls.env["prm.application"].create(
            cls._application_vals(
                name="Someone Else",
                vat="BR 11444777000161",
                country_id=cls.brazil.id,
                contact_name="Mallory",
                email="mallory@elsewhere.test",
                score_override=True,
                score_override_reason="Test",
            )
        )

    def _users_of(self, company):
        return self.env["res.users"].search(
            [("partner_id.commercial_partner_id", "=", company.id)]
        )

    def test_match_by_tax_id_and_mail_domain(self):
        self.assertEqual(self.forged.vat_normalized, "BR11444777000161")
        self.assertEqual(self.forged.matched_partner_id, self.omega)
        self.assertEqual(self.forged.match_reason, "vat")
        # the tax ID stored without separators nor prefix matches too
        self.omega.vat = "11444777000161"
        self.forged.invalidate_recordset(["matched_partner_id"])
        self.assertEqual(self.forged.matched_partner_id, self.omega)
        # the mail domain of a contact of the company
        by_domain = self.env["prm.application"].create(
            self._application_vals(vat=False, email="new.person@OMEGA.test")
        )
        self.assertEqual(by_domain.matched_partner_id, self.omega)
        self.assertEqual(by_domain.match_reason, "email_domain")
        # public mail domains match nobody, even if a contact uses one
        self.omega.child_ids.email = "olga@gmail.com"
        gmail = self.env["prm.application"].create(
            self._application_vals(vat=False, email="x@gmail.com")
        )
        self.assertFalse(gmail.matched_partner_id)
        self.assertFalse(self.application.matched_partner_id)
        # decided applications show no match
        self.forged._reject(self.reason, send_mail=False)
        self.assertFalse(self.forged.matched_partner_id)

    def test_forgery_default_approval_grants_nothing(self):
        users_before = self._users_of(self.omega)
        # no choice: refused, nothing created
        with self.assertRefused("match an existing company", UserError):
            self.forged.with_user(self.prm_user)._approve()
        wizard = Form(
            self.env["prm.application.approve"]
            .with_user(self.prm_user)
            .with_context(default_application_ids=self.forged.ids)
        )
        self.assertEqual(wizard.matched_count, 1)
        self.assertFalse(wizard.company_choice)
        self.assertIn("Omega Ltda", wizard.summary)
        self.assertIn("choose below", wizard.summary)
        wizard.company_choice = "new"
        self.assertIn("NEW company Someone Else", wizard.summary)
        # the approval screen without a choice refuses too
        wizard = (
            self.env["prm.application.approve"]
            .with_user(self.prm_user)
            .create({"application_ids": self.forged.ids})
        )
        with self.assertRefused("Choose to create a new company", UserError):
            wizard.action_approve()
        self.assertEqual(self.forged.kind, "open")
        self.assertFalse(self.forged.partner_id)
        self.assertEqual(self._users_of(self.omega), users_before)
        # "create a new company": a separate company, invited on its own
        membership = self.forged.with_user(self.prm_user)._approve("new")
        company = self.forged.partner_id
        self.assertNotEqual(company, self.omega)
        self.assertEqual(company.name, "Someone Else")
        self.assertEqual(membership.partner_id, company)
        self.assertEqual(self.forged.company_choice, "new")
        self.assertEqual(self._users_of(self.omega), users_before)
        self.assertFalse(
            self.env["res.partner"].search(
                [
                    ("commercial_partner_id", "=", self.omega.id),
                    ("email", "=ilike", "mallory@elsewhere.test"),
                ]
            )
        )
        user = self.forged.contact_id.user_ids
        self.assertTrue(user._is_portal())
        self.assertEqual(user.commercial_partner_id, company)

    def test_link_invites_nobody_until_confirmed(self):
        self.env.ref("portal.mail_template_data_portal_welcome").auto_delete = False
        mails_before = self.env["mail.mail"].search([])
        users_before = self.env["res.users"].search_count([])
        wizard = Form(
            self.env["prm.application.approve"]
            .with_user(self.prm_user)
            .with_context(default_application_ids=self.forged.ids)
        )
        wizard.company_choice = "link"
        self.assertIn(
            "EXISTING company Omega Ltda, WITHOUT portal access", wizard.summary
        )
        action = wizard.save().action_approve()
        membership = self.forged.membership_id
        self.assertEqual(action["res_id"], membership.id)
        self.assertEqual(membership.partner_id, self.omega)
        self.assertEqual(membership.state, "onboarding")
        contact = self.forged.contact_id
        self.assertEqual(contact.parent_id, self.omega)
        self.assertEqual(contact.email, "mallory@elsewhere.test")
        self.assertEqual(self.forged.contact_state, "pending")
        self.assertFalse(contact.with_context(active_test=False).user_ids)
        self.assertEqual(self.env["res.users"].search_count([]), users_before)
        self.assertFalse(
            (self.env["mail.mail"].search([]) - mails_before).filtered(
                lambda m: m.model == "portal.wizard.user"
            )
        )
        # a recruiter cannot confirm; a partner manager does, and invites
        with self.assertRefused("Only a partner manager", AccessError):
            self.forged.with_user(self.prm_user).action_confirm_contact()
        self.assertFalse(contact.user_ids)
        self.forged.with_user(self.manager).action_confirm_contact()
        self.assertEqual(self.forged.contact_state, "confirmed")
        self.assertEqual(self.forged.contact_confirmed_by_id, self.manager)
        self.assertTrue(contact.user_ids._is_portal())
        invitation = (self.env["mail.mail"].search([]) - mails_before).filtered(
            lambda m: m.model == "portal.wizard.user"
        )
        self.assertEqual(len(invitation), 1)
        self.assertIn("mallory@elsewhere.test", invitation.email_to)
        with self.assertRefused("not confirmed yet", UserError):
            self.forged.with_user(self.manager).action_confirm_contact()

    def test_refuse_contact_invites_nobody(self):
        self.forged._approve("link")
        self.forged.with_user(self.manager).action_refuse_contact()
        self.assertEqual(self.forged.contact_state, "refused")
        self.assertFalse(self.forged.contact_id.user_ids)
        with self.assertRefused("not confirmed yet", UserError):
            self.forged.with_user(self.manager).action_confirm_contact()
        self.assertFalse(self.forged.contact_id.user_ids)

    def test_preset_company_goes_through_confirmation(self):
        """A company chosen by hand on the application is a link as well."""
        app = self.env["prm.application"].create(
            self._application_vals(
                vat=False,
                email="paul@p.test",
                partner_id=self.omega.id,
                score_override=True,
                score_override_reason="Test",
            )
        )
        app._approve()
        self.assertEqual(app.company_choice, "link")
        self.assertEqual(app.contact_state, "pending")
        self.assertEqual(app.contact_id.parent_id, self.omega)
        self.assertFalse(app.contact_id.user_ids)


@tagged("post_install", "-at_install")
class TestApplicationTaxId(PrmRecruitmentCommon):
    """Tax IDs are validated with python-stdnum, in the model as in the form."""

    def test_normalize_and_validate(self):
        cases = [
            ("12.345.678/0001-95", "BR", "BR12345678000195", None),
            ("BR 11222333000181", "BR", "BR11222333000181", None),
            ("12.345.678/0001-90", "BR", "BR12345678000190", "cnpj"),
            ("529.982.247-25", "BR", "BR52998224725", None),
            ("529.982.247-24", "BR", "BR52998224724", "cpf"),
            ("1234", "BR", "BR1234", "br"),
            ("be 0477.472.701", "BE", "BE0477472701", None),
            ("0477472701", "BE", "BE0477472701", None),
            ("BE0477472702", "BE", "BE0477472702", "eu"),
            ("FR40303265045", "BE", "FR40303265045", None),
            ("094014201", "GR", "EL094014201", None),
            ("12-3456789", "US", "123456789", None),
            ("<b>12</b>", "US", "B12B", "generic"),
            ("", "BR", "", None),
        ]
        for value, country, normalized, error in cases:
            with self.subTest(value=value, country=country):
                self.assertEqual(tax_id.normalize_tax_id(value, country), normalized)
                self.assertEqual(tax_id.tax_id_error(value, country), error)
        self.assertIn(
            "CNPJ", tax_id.validate_tax_id(self.env, "12.345.678/0001-90", "BR")
        )
        self.assertFalse(tax_id.validate_tax_id(self.env, "12.345.678/0001-95", "BR"))

    def test_model_constraint(self):
        brazil = self.env.ref("base.br")
        Application = self.env["prm.application"]
        count = Application.search_count([])
        with self.assertRefused("This CNPJ is not valid"):
            Application.create(
                self._application_vals(vat="12.345.678/0001-90", country_id=brazil.id)
            )
        with self.assertRefused("This CPF is not valid"):
            Application.create(
                self._application_vals(vat="529.982.247-24", country_id=brazil.id)
            )
        with self.assertRefused("not valid for BE"):
            self.application.vat = "BE0477472702"
        self.assertEqual(self.application.vat, "BE 0477.472.701")
        # changing the country re-checks the number
        self.application.vat = "0477.472.701"
        self.assertEqual(self.application.vat_normalized, "BE0477472701")
        with self.assertRefused("A Brazilian tax ID"):
            self.application.country_id = brazil
        self.assertEqual(Application.search_count([]), count)
        app = Application.create(
            self._application_vals(vat="52998224725", country_id=brazil.id)
        )
        self.assertEqual(app.vat_normalized, "BR52998224725")


@tagged("post_install", "-at_install")
class TestApplicationRateLimit(PrmRecruitmentCommon):
    """The public form's rate limit counts every submission per IPv4 address
    and per IPv6 /64 network (the address is passed in, as the controller does
    with the request's remote address)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].set_param(
            "prm_partner.application_rate_limit", "3"
        )

    def _post(self, remote_addr, **values):
        post = {
            "program_id": str(self.program.id),
            "name": "Rate Co",
            "country_id": str(self.belgium.id),
            "contact_name": "Rita",
            "email": "rita@rate.test",
            "company_size": "1",
            "motivation": "Volume.",
            **values,
        }
        return (
            self.env["prm.application"]
            .sudo()
            ._submit_public_application(post, remote_addr)["status"]
        )

    def test_networks(self):
        Attempt = self.env["prm.application.attempt"]
        self.assertEqual(Attempt._network_of("192.0.2.7"), "192.0.2.7")
        self.assertEqual(Attempt._network_of("::ffff:192.0.2.7"), "192.0.2.7")
        self.assertEqual(
            Attempt._network_of("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64"
        )
        self.assertFalse(Attempt._network_of("not an address"))
        self.assertFalse(Attempt._network_of(False))

    def test_every_submission_counts_ipv4(self):
        # a created one, a duplicate, an invalid one: three submissions
        self.assertEqual(self._post("192.0.2.7"), "created")
        self.assertEqual(self._post("192.0.2.7", contact_name="Again"), "attached")
        self.assertEqual(self._post("192.0.2.7", email="bad"), "invalid")
        count = self.env["prm.application"].search_count([])
        self.assertEqual(self._post("192.0.2.7", email="x@other.test"), "rate_limited")
        self.assertEqual(self.env["prm.application"].search_count([]), count)
        # another IPv4 address has its own count
        self.assertEqual(self._post("192.0.2.8", email="y@yet.test"), "created")
        attempts = self.env["prm.application.attempt"].search(
            [("network", "=", "192.0.2.7")]
        )
        self.assertEqual(
            sorted(attempts.mapped("outcome")),
            ["attached", "created", "invalid", "rate_limited"],
        )
        # an hour later the older submissions no longer count
        attempts.write({"date": datetime(2020, 1, 1)})
        self.assertEqual(self._post("192.0.2.7", email="z@zed.test"), "created")
        # the autovacuum forgets old submissions
        self.env["prm.application.attempt"]._gc_attempts()
        self.assertFalse(attempts.exists())

    def test_ipv6_counts_per_64(self):
        for index in range(3):
            status = self._post(
                f"2001:db8:1:2::{index + 1}", email=f"v6@site{index}.test"
            )
            self.assertIn(status, ("created", "attached"))
        # another address of the same /64 is refused
        self.assertEqual(
            self._post("2001:db8:1:2:ffff:ffff:ffff:fffe", email="n@n.test"),
            "rate_limited",
        )
        # the next /64 is another network
        self.assertEqual(self._post("2001:db8:1:3::1", email="m@m.test"), "created")

    def test_limit_zero_disables(self):
        self.env["ir.config_parameter"].set_param(
            "prm_partner.application_rate_limit", "0"
        )
        for index in range(5):
            self.assertNotEqual(
                self._post("192.0.2.9", email=f"p{index}@p{index}.test"),
                "rate_limited",
            )
