from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo.tests import tagged

from .common import TODAY, PrmCommon


@tagged("post_install", "-at_install")
class TestCertification(PrmCommon):
    def test_expiry_date_from_validity(self):
        held = self._certify(self.contact_a, self.cert_sales)
        self.assertEqual(held.date_expiry, TODAY + relativedelta(months=24))
        never = self.env["prm.certification"].create(
            {"name": "Lifetime", "validity_months": 0}
        )
        lifetime = self._certify(self.contact_a2, never)
        self.assertFalse(lifetime.date_expiry)
        with freeze_time(TODAY + relativedelta(years=30)):
            self.env["prm.partner.certification"]._update_states()
        self.assertEqual(lifetime.state, "valid")

    def test_states_over_time(self):
        with freeze_time(TODAY):
            held = self._certify(self.contact_a, self.cert_tech)  # 12 months
            self.assertEqual(held.state, "valid")
        expiry = TODAY + relativedelta(months=12)
        Certification = self.env["prm.partner.certification"]
        with freeze_time(expiry - relativedelta(days=31)):
            Certification._update_states()
            self.assertEqual(held.state, "valid")
        with freeze_time(expiry - relativedelta(days=30)):
            Certification._update_states()
            self.assertEqual(held.state, "expiring")
        with freeze_time(expiry):
            Certification._update_states()
            self.assertEqual(held.state, "expiring")
        with freeze_time(expiry + relativedelta(days=1)):
            Certification._update_states()
            self.assertEqual(held.state, "expired")
            # renewing it (obtained again) makes it valid again
            held.date_obtained = expiry + relativedelta(days=1)
            self.assertEqual(held.state, "valid")
        self.assertEqual(
            Certification.search_count(
                [("state", "=", "valid"), ("partner_id", "=", self.contact_a.id)]
            ),
            1,
        )

    def test_reminder_days_configurable(self):
        self.env["ir.config_parameter"].set_param(
            "prm_partner.certification_reminder_days", "60"
        )
        with freeze_time(TODAY):
            held = self._certify(
                self.contact_a,
                self.cert_tech,
                obtained=TODAY - relativedelta(months=10, days=15),
            )
            self.assertEqual(held.state, "expiring")

    def test_reminder_sent_once_per_expiry(self):
        with freeze_time(TODAY):
            held = self._certify(self.contact_a, self.cert_tech)
        expiry = held.date_expiry
        Certification = self.env["prm.partner.certification"]
        template = self.env.ref("prm_partner.mail_template_certification_expiry")

        def reminder_messages():
            return held.message_ids.filtered(
                lambda m: m.subject and self.cert_tech.name in m.subject
            )

        with freeze_time(expiry - relativedelta(days=40)):
            Certification._cron_update_certifications()
        self.assertFalse(held.activity_ids)
        self.assertFalse(reminder_messages())
        with freeze_time(expiry - relativedelta(days=20)):
            Certification._cron_update_certifications()
            Certification._cron_update_certifications()
        self.assertEqual(len(held.activity_ids), 1)
        self.assertEqual(held.activity_ids.user_id, self.manager)
        self.assertEqual(len(reminder_messages()), 1)
        self.assertIn(self.contact_a, reminder_messages().partner_ids)
        self.assertEqual(held.reminder_expiry_date, expiry)
        with freeze_time(expiry - relativedelta(days=5)):
            Certification._cron_update_certifications()
        self.assertEqual(len(reminder_messages()), 1)
        self.assertTrue(template)
        # renewed: a new expiry gets its own reminder
        held.date_obtained = expiry - relativedelta(days=5)
        new_expiry = held.date_expiry
        with freeze_time(new_expiry - relativedelta(days=10)):
            Certification._cron_update_certifications()
        self.assertEqual(len(reminder_messages()), 2)
        self.assertEqual(held.reminder_expiry_date, new_expiry)

    def test_partner_counts(self):
        self._certify(self.contact_a | self.contact_a2, self.cert_sales)
        self._certify(
            self.contact_a, self.cert_tech, obtained=TODAY - relativedelta(years=3)
        )
        self.partner_a.invalidate_recordset()
        self.assertEqual(self.partner_a.prm_certification_count, 3)
        self.assertEqual(self.partner_a.prm_certified_people_count, 2)
        self.assertEqual(self.contact_a.prm_certification_count, 2)
        self.assertEqual(self.partner_a.prm_membership_count, 1)
        self.assertIn(self.program, self.partner_a.prm_program_ids)
        found = self.env["res.partner"].search(
            [("prm_program_ids", "in", self.program.ids), ("prm_is_partner", "=", True)]
        )
        self.assertIn(self.partner_a, found)
        self.assertNotIn(self.contact_a, found)
