from datetime import date, datetime

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.tests import Form, tagged

from .common import TODAY, PrmCommon


class PrmAgreementCommon(PrmCommon):
    """Agreement fixtures on top of ``PrmCommon``."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Agreement = cls.env["prm.agreement"]
        cls.brazil = cls.env.ref("base.br")
        cls.usa = cls.env.ref("base.us")
        cls.sao_paulo = cls.env.ref("base.state_br_sp")

    @classmethod
    def _agreement(cls, partner=None, **vals):
        return cls.env["prm.agreement"].create(
            {
                "title": "Reseller agreement",
                "partner_id": (partner or cls.partner_a).id,
                "program_id": cls.program.id,
                "date_start": date(2026, 1, 1),
                "date_end": date(2026, 12, 31),
                "user_id": cls.manager.id,
                **vals,
            }
        )


@tagged("post_install", "-at_install")
class TestAgreementLifecycle(PrmAgreementCommon):
    def _run(self, day):
        with freeze_time(day):
            return self.Agreement._run_lifecycle()

    def _notices(self, agreement):
        return agreement.activity_ids.filtered(
            lambda a: "renew it or let it expire" in (a.summary or "")
        )

    def test_reference_from_sequence(self):
        first, second = self._agreement(), self._agreement(title="Second")
        self.assertTrue(first.name.startswith("AGR/"), first.name)
        self.assertNotEqual(first.name, second.name)
        self.assertEqual(first.membership_id, self.membership_a)
        self.assertEqual(first.state, "draft")

    def test_form(self):
        with Form(self.Agreement.with_user(self.prm_user)) as form:
            form.title = "Through the form"
            form.partner_id = self.partner_a
            form.program_id = self.program
            form.date_start = date(2026, 1, 1)
            form.date_end = date(2026, 12, 31)
            form.override_commission = True
            form.commission_percent = 9
            with form.goal_ids.new() as goal:
                goal.measure = "won_deals"
                goal.target = 2
            self.assertEqual(form.membership_id, self.membership_a)
        agreement = form.record
        self.assertEqual(agreement.goal_ids.date_from, date(2026, 1, 1))
        self.assertEqual(agreement.goal_ids.date_to, date(2026, 12, 31))
        self.assertEqual(agreement.date_notice, date(2026, 12, 1))
        with Form(self.membership_a) as membership_form:
            self.assertEqual(membership_form.effective_commission_percent, 0)
        agreement.sudo().state = "active"
        self.assertEqual(self.membership_a.effective_commission_percent, 9)

    def test_full_lifecycle_with_renewal_chain(self):
        with freeze_time("2026-06-01"):
            agreement = self._agreement(
                date_start=date(2026, 7, 1),
                date_end=date(2026, 9, 30),
                auto_renew=True,
                renewal_months=6,
                notice_days=30,
                goal_ids=[
                    Command.create(
                        {
                            "measure": "won_deals",
                            "target": 3,
                            "date_from": date(2026, 7, 1),
                            "date_to": date(2026, 9, 30),
                        }
                    )
                ],
            )
            agreement.action_send()
            self.assertEqual(agreement.state, "sent")
            self.assertIn(self.partner_a, agreement.message_partner_ids)
            agreement._action_sign("Alice A", self.contact_a)
        # signed before its start: waits in "sent", with the signed copy attached
        self.assertEqual(agreement.state, "sent")
        self.assertEqual(agreement.signed_by_id, self.contact_a)
        self.assertTrue(agreement.signed_on)
        self.assertEqual(len(agreement.attachment_ids), 1)
        self.assertIn("(signed)", agreement.attachment_ids.name)

        self.assertEqual(self._run("2026-06-30")["activate"], 0)
        self.assertEqual(agreement.state, "sent")
        self.assertEqual(self._run("2026-07-01")["activate"], 1)
        self.assertEqual(agreement.state, "active")

        # notice date = end - 30 days = 2026-08-31, sent once
        self.assertEqual(agreement.date_notice, date(2026, 8, 31))
        self._run("2026-08-30")
        self.assertFalse(self._notices(agreement))
        messages_before = len(agreement.message_ids)
        self._run("2026-08-31")
        self.assertEqual(len(self._notices(agreement)), 1)
        self.assertEqual(self._notices(agreement).user_id, self.manager)
        notice = agreement.message_ids[0]
        self.assertEqual(len(agreement.message_ids), messages_before + 1)
        self.assertIn("ends on", notice.subject)
        self.assertEqual(notice.partner_ids, self.partner_a | self.manager.partner_id)
        self.assertEqual(agreement.notice_end_date, date(2026, 9, 30))
        self._run("2026-09-01")
        self._run("2026-09-15")
        self.assertEqual(len(self._notices(agreement)), 1, "the notice goes once")
        self.assertEqual(len(agreement.message_ids), messages_before + 1)

        # in force through its end date
        self._run("2026-09-30")
        self.assertEqual(agreement.state, "active")
        self.assertFalse(agreement.successor_id)

        # the day after: renewed, with an active successor for the renewal term
        self.assertEqual(self._run("2026-10-01")["end"], 1)
        self.assertEqual(agreement.state, "renewed")
        successor = agreement.successor_id
        self.assertTrue(successor)
        self.assertEqual(successor.predecessor_id, agreement)
        self.assertEqual(successor.state, "active")
        self.assertEqual(successor.date_start, date(2026, 10, 1))
        self.assertEqual(successor.date_end, date(2027, 3, 31))
        self.assertNotEqual(successor.name, agreement.name)
        self.assertEqual(successor.signed_by_id, self.contact_a)
        self.assertEqual(successor.goal_ids.date_from, date(2026, 10, 1))
        self.assertEqual(successor.goal_ids.date_to, date(2026, 12, 31))
        self.assertEqual(agreement.renewal_chain_ids, agreement | successor)
        self.assertEqual(successor.renewal_chain_ids, agreement | successor)

        # running again changes nothing: no second successor
        self._run("2026-10-01")
        self.assertEqual(
            self.Agreement.search_count([("partner_id", "=", self.partner_a.id)]), 2
        )
        # the successor renews in turn, extending the chain
        self._run("2027-04-01")
        third = successor.successor_id
        self.assertEqual(third.predecessor_id, successor)
        self.assertEqual(agreement.renewal_chain_ids, agreement | successor | third)

    def test_expiry_without_renewal(self):
        agreement = self._agreement(
            date_start=date(2026, 1, 1), date_end=date(2026, 3, 31)
        )
        agreement.write({"state": "active"})
        self._run("2026-03-31")
        self.assertEqual(agreement.state, "active")
        result = self._run("2026-04-01")
        self.assertEqual(result["end"], 1)
        self.assertEqual(agreement.state, "expired")
        self.assertFalse(agreement.successor_id)

    def test_sign_on_or_after_start_activates_at_once(self):
        agreement = self._agreement(state="sent")
        with freeze_time(TODAY):
            agreement._action_sign("Alice A", self.contact_a)
        self.assertEqual(agreement.state, "active")

    def test_lock_rechecks_the_step_condition(self):
        """A chunk another worker already processed is skipped: the locked rows are
        filtered on the step's domain again."""
        agreement = self._agreement(
            date_start=date(2026, 1, 1), date_end=date(2026, 3, 31)
        )
        agreement.write({"state": "active"})
        domain = self.Agreement._lifecycle_domains(date(2026, 4, 1))["end"]
        self.assertEqual(agreement._lock_for_lifecycle(domain), agreement)
        agreement.write({"state": "expired"})  # as if another worker did it
        self.assertFalse(agreement._lock_for_lifecycle(domain))

    def test_terminate_needs_reason(self):
        agreement = self._agreement(state="active")
        with self.assertRefused("termination reason", UserError):
            agreement.action_terminate()
        self.assertEqual(agreement.state, "active")
        agreement.termination_reason = "Partner left the market"
        with freeze_time(TODAY):
            agreement.action_terminate()
        self.assertEqual(agreement.state, "terminated")
        self.assertEqual(agreement.date_terminated, TODAY)

    def test_active_agreement_cannot_be_deleted(self):
        agreement = self._agreement(state="active")
        with self.assertRefused("cannot be deleted", UserError):
            agreement.unlink()
        self.assertTrue(agreement.exists())
        agreement.action_archive()
        self.assertFalse(agreement.active)
        draft = self._agreement(title="Draft")
        draft.unlink()
        self.assertFalse(draft.exists())

    def test_confirm_signature_from_back_office(self):
        agreement = self._agreement(state="sent")
        with self.assertRefused("choose the contact", UserError):
            agreement.action_confirm_signature()
        agreement.signed_by_id = self.contact_a2
        with freeze_time(TODAY):
            agreement.action_confirm_signature()
        self.assertEqual(agreement.state, "active")
        self.assertEqual(agreement.signer_name, "Arthur A")


@tagged("post_install", "-at_install")
class TestAgreementBadInput(PrmAgreementCommon):
    def test_end_before_start(self):
        with self.assertRefused("end date must not be before"):
            self._agreement(date_start=date(2026, 5, 1), date_end=date(2026, 4, 30))
        agreement = self._agreement()
        with self.assertRefused("end date must not be before"):
            agreement.date_end = date(2025, 12, 31)
        agreement.invalidate_recordset()
        self.assertEqual(agreement.date_end, date(2026, 12, 31))

    def test_percentages(self):
        for field in ("commission_percent", "discount_percent"):
            for value in (-1, 100.5):
                with (
                    self.subTest(field=field, value=value),
                    self.assertRefused("between 0 and 100"),
                ):
                    self._agreement(**{field: value})
        agreement = self._agreement(override_commission=True, commission_percent=10)
        with self.assertRefused("between 0 and 100"):
            agreement.commission_percent = 150
        agreement.invalidate_recordset()
        self.assertEqual(agreement.commission_percent, 10)

    def test_renewal_and_notice_not_negative(self):
        with self.assertRefused("cannot be negative"):
            self._agreement(renewal_months=-1)
        with self.assertRefused("cannot be negative"):
            self._agreement(notice_days=-5)
        with self.assertRefused("at least one month"):
            self._agreement(auto_renew=True, renewal_months=0)
        self.assertFalse(
            self.Agreement.search([("partner_id", "=", self.partner_a.id)])
        )

    def test_exclusive_territories(self):
        first = self._agreement(
            exclusive=True, country_ids=[Command.link(self.brazil.id)]
        )
        # a state of the same country, overlapping period: refused, naming the other
        with self.assertRefused(first.name) as caught:
            self._agreement(
                self.partner_b,
                exclusive=True,
                state_ids=[Command.link(self.sao_paulo.id)],
                date_start=date(2026, 12, 1),
                date_end=date(2027, 11, 30),
            )
        self.assertIn("Partner A Co", str(caught.exception))
        # another territory, or a later period, or not exclusive: accepted
        self._agreement(
            self.partner_b, exclusive=True, country_ids=[Command.link(self.usa.id)]
        )
        self._agreement(
            self.partner_b,
            exclusive=True,
            country_ids=[Command.link(self.brazil.id)],
            date_start=date(2027, 1, 1),
            date_end=date(2027, 12, 31),
        )
        self._agreement(self.partner_b, country_ids=[Command.link(self.brazil.id)])
        # a terminated agreement frees its territory
        first.write({"state": "terminated"})
        self._agreement(
            self.partner_b,
            exclusive=True,
            state_ids=[Command.link(self.sao_paulo.id)],
            date_end=date(2026, 6, 30),
        )
        # widening an agreement into an occupied territory is refused too
        us_b = self.Agreement.search(
            [("partner_id", "=", self.partner_b.id), ("country_ids", "=", self.usa.id)]
        )
        with self.assertRefused("is also exclusive"):
            us_b.state_ids = [Command.link(self.sao_paulo.id)]
        us_b.invalidate_recordset()
        self.assertFalse(us_b.state_ids)

    def test_exclusive_needs_territory(self):
        with self.assertRefused("give it a territory"):
            self._agreement(exclusive=True)

    def test_goal_period_inside_agreement(self):
        agreement = self._agreement()
        with self.assertRefused("must lie inside the agreement"):
            agreement.goal_ids = [
                Command.create(
                    {
                        "measure": "won_deals",
                        "target": 2,
                        "date_from": date(2025, 12, 1),
                        "date_to": date(2026, 3, 31),
                    }
                )
            ]
        with self.assertRefused("cannot be negative"):
            agreement.goal_ids = [
                Command.create({"measure": "won_deals", "target": -1})
            ]
        agreement.invalidate_recordset()
        self.assertFalse(agreement.goal_ids)

    def test_partner_must_be_a_member_and_signer_its_contact(self):
        with self.assertRefused("not a member of program Referral"):
            self._agreement(program_id=self.program_referral.id)
        with self.assertRefused("not a contact of"):
            self._agreement(signed_by_id=self.contact_b.id)
        with self.assertRefused("with a partner company"):
            self._agreement(self.contact_a)

    def test_sign_refused_unless_sent_and_not_expired(self):
        draft = self._agreement()
        with self.assertRefused("not waiting for a signature", UserError):
            draft._action_sign("Alice A", self.contact_a)
        active = self._agreement(state="active", title="Active")
        with self.assertRefused("not waiting for a signature", UserError):
            active._action_sign("Alice A", self.contact_a)
        expired = self._agreement(
            state="sent", date_start=date(2025, 1, 1), date_end=date(2025, 12, 31)
        )
        with freeze_time(TODAY), self.assertRefused("it ended on", UserError):
            expired._action_sign("Alice A", self.contact_a)
        for agreement in draft | active | expired:
            self.assertFalse(agreement.signed_on)
            self.assertFalse(agreement.attachment_ids)
        self.assertEqual(expired.state, "sent")


@tagged("post_install", "-at_install")
class TestAgreementGoals(PrmAgreementCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.cust1, cls.cust2, cls.cust3 = Partner.create(
            [{"name": f"Customer {n}", "is_company": True} for n in (1, 2, 3)]
        )
        cls.cust1_person = Partner.create(
            {"name": "Buyer One", "parent_id": cls.cust1.id}
        )
        lost_stage = cls.open_stage

        def lead(partner, revenue, closed, customer=None, **vals):
            return {
                "name": f"Deal {partner.name} {revenue}",
                "type": "opportunity",
                "expected_revenue": revenue,
                "partner_assigned_id": partner.id,
                "partner_id": customer and customer.id,
                "stage_id": cls.won_stage.id,
                "date_closed": datetime.combine(closed, datetime.min.time()),
                **vals,
            }

        a, b = cls.partner_a, cls.partner_b
        cls.env["crm.lead"].create(
            [
                # counted: 5000 + 7000 + 3000, 3 deals; new customers 1 and 3
                lead(a, 5000, date(2026, 3, 1), cls.cust1_person),
                lead(a, 7000, date(2026, 4, 1), cls.cust2),
                lead(
                    a, 3000, date(2026, 6, 10), cls.cust3, prm_program_id=cls.program.id
                ),
                # customer 2 was won first by partner B: not new for A
                lead(b, 3000, date(2025, 12, 1), cls.cust2),
                # out of the period, another program, archived, open
                lead(a, 2000, date(2025, 11, 1)),
                lead(a, 1000, date(2026, 5, 1), prm_program_id=cls.program_referral.id),
                lead(a, 9999, date(2026, 5, 1), active=False),
                lead(a, 8888, date(2026, 5, 1), stage_id=lost_stage.id),
            ]
        )
        cls.contact_a3 = Partner.create(
            {"name": "Ann Expired", "parent_id": cls.partner_a.id}
        )
        cls._certify(cls.contact_a | cls.contact_a2, cls.cert_sales)
        cls._certify(cls.contact_a, cls.cert_tech)  # same person counts once
        cls._certify(cls.contact_a3, cls.cert_sales, obtained=date(2020, 1, 1))
        cls._certify(cls.contact_b, cls.cert_sales)
        cls.agreement = cls._agreement(
            goal_ids=[
                Command.create({"measure": "won_revenue", "target": 20000}),
                Command.create({"measure": "won_deals", "target": 4}),
                Command.create({"measure": "new_customers", "target": 2}),
                Command.create({"measure": "certified_people", "target": 3}),
                Command.create(
                    {
                        "measure": "won_revenue",
                        "target": 1000,
                        "date_from": date(2026, 7, 1),
                        "date_to": date(2026, 12, 31),
                    }
                ),
            ]
        )

    def test_goal_progress_known_dataset(self):
        revenue, deals, customers, people, later = self.agreement.goal_ids.sorted("id")
        self.assertEqual(revenue.achieved, 15000)
        self.assertEqual(revenue.progress, 75)
        self.assertEqual(deals.achieved, 3)
        self.assertEqual(deals.progress, 75)
        self.assertEqual(customers.achieved, 2)
        self.assertEqual(customers.progress, 100)
        self.assertEqual(people.achieved, 2)
        self.assertAlmostEqual(people.progress, 66.67, places=2)
        self.assertEqual(later.achieved, 0)
        self.assertEqual(later.progress, 0)

    def test_goals_follow_live_data(self):
        revenue = self.agreement.goal_ids.filtered(
            lambda g: g.measure == "won_revenue"
        )[0]
        self.assertEqual(revenue.achieved, 15000)
        self._won_leads(self.partner_a, [5000], closed=date(2026, 8, 1))
        revenue.invalidate_recordset(["achieved", "progress"])
        self.assertEqual(revenue.achieved, 20000)
        self.assertEqual(revenue.progress, 100)

    def test_goals_one_query_for_all_lines(self):
        other = self._agreement(
            self.partner_b,
            goal_ids=[
                Command.create({"measure": measure, "target": 1})
                for measure in (
                    "won_revenue",
                    "won_deals",
                    "new_customers",
                    "certified_people",
                )
            ],
        )
        goals = self.agreement.goal_ids | other.goal_ids
        self.assertEqual(len(goals), 9)
        self.env.flush_all()
        for records in (goals[:1], goals):
            records.invalidate_recordset(["achieved", "progress"])
            # the lines and their agreements are loaded, as a list view does
            records.read(["measure", "target", "date_from", "date_to"])
            records.agreement_id.read(["partner_id", "program_id", "company_id"])
            with self.assertQueryCount(1):
                records.mapped("achieved")
                records.mapped("progress")
        # partner B's only won deal closed in 2025, before the goal period
        self.assertEqual(other.goal_ids.mapped("achieved"), [0, 0, 0, 1])

    def test_goals_readable_by_portal_of_own_company_only(self):
        self.agreement.write({"state": "sent"})
        goals = self.agreement.goal_ids.with_user(self.portal_a)
        self.assertEqual(goals.mapped("achieved")[0], 15000)
        with self.assertRaises(AccessError):
            self.agreement.goal_ids.with_user(self.portal_b).read(["achieved"])


@tagged("post_install", "-at_install")
class TestAgreementEffectiveBenefits(PrmAgreementCommon):
    def test_agreement_overrides_tier(self):
        membership = self.membership_a
        membership.tier_id = self.silver
        self.assertEqual(membership.effective_commission_percent, 5)
        self.assertEqual(membership.effective_discount_percent, 10)
        self.assertEqual(membership.effective_commission_source, "Tier Silver")

        first = self._agreement(
            state="active", override_commission=True, commission_percent=12
        )
        # a draft or sent agreement does not apply yet
        pending = self._agreement(
            title="Pending",
            state="sent",
            override_commission=True,
            commission_percent=30,
            override_discount=True,
            discount_percent=30,
        )
        self.assertEqual(membership.effective_commission_percent, 12)
        self.assertEqual(
            membership.effective_commission_source, f"Agreement {first.name}"
        )
        self.assertEqual(membership.effective_discount_percent, 10)
        self.assertEqual(membership.effective_discount_source, "Tier Silver")

        later = self._agreement(
            title="Later",
            state="active",
            date_start=date(2026, 3, 1),
            override_commission=True,
            commission_percent=0,
            override_discount=True,
            discount_percent=25,
        )
        # the latest started agreement wins, even with a 0% commission
        self.assertEqual(membership.effective_commission_percent, 0)
        self.assertEqual(membership.effective_discount_percent, 25)
        self.assertEqual(membership.effective_commission_agreement_id, later)

        later.write({"termination_reason": "Renegotiated"})
        later.action_terminate()
        self.assertEqual(membership.effective_commission_percent, 12)
        self.assertEqual(membership.effective_discount_percent, 10)

        # tier changes flow through when no agreement sets the benefit
        membership.tier_id = self.gold
        self.assertEqual(membership.effective_discount_percent, 20)
        self.assertEqual(membership.effective_discount_source, "Tier Gold")
        self.assertEqual(membership.effective_commission_percent, 12)
        first.write({"state": "expired"})
        self.assertEqual(membership.effective_commission_percent, 10)
        self.assertEqual(membership.effective_commission_source, "Tier Gold")
        # the partner form's Partnership tab reads the same values
        self.assertEqual(
            self.partner_a.prm_membership_ids.effective_commission_percent, 10
        )
        self.assertEqual(pending.state, "sent")
        # the stored values serve grouped reads of other features
        rows = self.env["prm.membership"]._read_group(
            [("id", "=", membership.id)], [], ["effective_commission_percent:sum"]
        )
        self.assertEqual(rows[0][0], 10)

    def test_smart_buttons(self):
        agreement = self._agreement()
        self.assertEqual(self.partner_a.prm_agreement_count, 1)
        self.assertEqual(self.contact_a.prm_agreement_count, 1)
        self.assertEqual(self.membership_a.agreement_count, 1)
        action = self.partner_a.action_view_prm_agreements()
        self.assertEqual(self.Agreement.search(action["domain"]), agreement)
        action = self.membership_a.action_view_agreements()
        self.assertEqual(self.Agreement.search(action["domain"]), agreement)


@tagged("post_install", "-at_install")
class TestAgreementReportAndAccess(PrmAgreementCommon):
    def test_report_html(self):
        agreement = self._agreement(
            override_commission=True,
            commission_percent=12.5,
            country_ids=[Command.link(self.brazil.id)],
            exclusive=True,
            obligations="<p>Two certified sales people</p>",
            goal_ids=[Command.create({"measure": "new_customers", "target": 4})],
            state="sent",
        )
        with freeze_time(TODAY):
            agreement._action_sign("Alice Signer", self.contact_a)
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html(
                "prm_partner.action_report_prm_agreement", agreement.ids
            )[0]
            .decode()
        )
        for text in (
            agreement.name,
            "Reseller agreement",
            "12.50",
            "Per the partner's tier",
            "Brazil",
            "(exclusive)",
            "Two certified sales people",
            "New customers",
            "Signed by",
            "Alice Signer",
            "Partner A Co",
        ):
            self.assertIn(text, html)

    def test_orm_access(self):
        own_draft = self._agreement(title="Own draft")
        own_sent = self._agreement(title="Own sent", state="sent")
        other = self._agreement(self.partner_b, title="Other", state="sent")
        Agreement = self.Agreement.with_user(self.portal_a)
        self.assertEqual(Agreement.search([]), own_sent)
        with self.assertRaises(AccessError):
            other.with_user(self.portal_a).read(["title"])
        with self.assertRaises(AccessError):
            own_draft.with_user(self.portal_a).read(["title"])
        with self.assertRaises(AccessError):
            own_sent.with_user(self.portal_a).write({"commission_percent": 50})
        with self.assertRaises(AccessError):
            Agreement.create(
                {
                    "title": "Mine",
                    "partner_id": self.partner_a.id,
                    "program_id": self.program.id,
                    "date_end": date(2026, 12, 31),
                }
            )
        with self.assertRaises(AccessError):
            self.Agreement.with_user(self.internal_user).search([])
        # PRM users draw agreements up but only managers delete them
        mine = self.Agreement.with_user(self.prm_user).create(
            {
                "title": "By user",
                "partner_id": self.partner_b.id,
                "program_id": self.program.id,
                "date_end": date(2026, 12, 31),
            }
        )
        with self.assertRaises(AccessError):
            mine.unlink()
        mine.with_user(self.manager).unlink()

    def test_menus(self):
        visible = self.env["ir.ui.menu"].with_user(self.prm_user)._visible_menu_ids()
        for xmlid in (
            "prm_partner.prm_menu_agreements",
            "prm_partner.prm_agreement_menu",
            "prm_partner.prm_agreement_goal_menu",
        ):
            menu = self.env.ref(xmlid)
            self.assertIn(menu.id, visible)
            hidden = self.env["ir.ui.menu"].with_user(self.internal_user)
            self.assertNotIn(menu.id, hidden._visible_menu_ids())
        self.assertEqual(
            self.env.ref("prm_partner.prm_menu_agreements").parent_id,
            self.env.ref("prm_partner.prm_menu_root"),
        )

    def test_views_load_for_prm_user(self):
        agreement = self._agreement(goal_ids=[Command.create({"measure": "won_deals"})])
        Agreement = self.Agreement.with_user(self.prm_user)
        views = Agreement.get_views(
            [(False, "list"), (False, "form"), (False, "kanban"), (False, "search")]
        )
        form = views["views"]["form"]["arch"]
        for name in (
            "goal_ids",
            "renewal_chain_ids",
            "termination_reason",
            "state_ids",
        ):
            self.assertIn(f'name="{name}"', form)
        records = Agreement.web_search_read(
            [("id", "=", agreement.id)],
            {"name": {}, "goal_ids": {"fields": {"achieved": {}, "progress": {}}}},
        )
        self.assertEqual(records["length"], 1)
        memberships = self.env["prm.membership"].with_user(self.prm_user)
        arch = memberships.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn("effective_commission_source", arch)
        partner_arch = (
            self.env["res.partner"]
            .with_user(self.prm_user)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        self.assertIn("effective_discount_percent", partner_arch)
        self.assertIn("action_view_prm_agreements", partner_arch)
