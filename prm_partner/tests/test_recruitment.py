from datetime import date, datetime

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.tests import Form, new_test_user, tagged

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
        self.partner_a.vat = "BE0477472701"
        app = self.env["prm.application"].create(
            self._application_vals(
                program_id=self.program_referral.id,
                name="Partner A (typo)",
                email=self.contact_a.email.upper(),  # the email of portal_a
                contact_name="Alice",
            )
        )
        partners_before = self.env["res.partner"].search_count([])
        users_before = self.env["res.users"].search_count([])
        membership = app._approve()
        self.assertEqual(app.partner_id, self.partner_a)
        self.assertEqual(app.contact_id, self.contact_a)
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
            again._approve()
        again.invalidate_recordset()
        self.assertEqual(again.kind, "open")

    def test_batch_approval_is_set_based(self):
        apps = self.env["prm.application"].create(
            [
                self._application_vals(
                    name=f"Batch {index}",
                    vat=f"BE04774727{index:02d}",
                    email=f"boss@batch{index}.test",
                )
                for index in range(4)
            ]
        )
        apps.write({"score_override": True, "score_override_reason": "Bulk campaign"})
        memberships = apps._approve()
        self.assertEqual(len(memberships), 4)
        self.assertEqual(len(memberships.onboarding_step_ids), 12)
        self.assertEqual(len(apps.contact_id.user_ids), 4)
        self.assertEqual(set(apps.mapped("kind")), {"approved"})

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
