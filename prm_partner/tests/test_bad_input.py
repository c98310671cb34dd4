from psycopg2 import IntegrityError

from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import PrmCommon


@tagged("post_install", "-at_install")
class TestBadInput(PrmCommon):
    """Each bad input is refused with a clear message and writes nothing."""

    def test_tier_thresholds_must_rise(self):
        with self.assertRefused("thresholds must rise"):
            self.env["prm.tier"].create(
                {
                    "name": "Bronze",
                    "program_id": self.program.id,
                    "sequence": 40,  # after Gold, with lower revenue
                    "min_won_revenue": 1000,
                    "min_won_deals": 5,
                    "min_certified_people": 3,
                }
            )
        with self.assertRefused("thresholds must rise"):
            self.gold.sequence = 5  # Gold before Registered
        with self.assertRefused("thresholds must rise"):
            self.env["prm.program"].create(
                {
                    "name": "Flat",
                    "tier_ids": [
                        Command.create({"name": "One", "sequence": 1}),
                        Command.create({"name": "Two", "sequence": 2}),
                    ],
                }
            )
        self.assertEqual(len(self.program.tier_ids), 3)
        self.assertFalse(self.env["prm.program"].search([("name", "=", "Flat")]))

    def test_negative_validity(self):
        with self.assertRefused("cannot be negative"):
            self.env["prm.certification"].create({"name": "Bad", "validity_months": -1})
        with self.assertRefused("cannot be negative"):
            self.cert_sales.validity_months = -3
        self.assertEqual(self.cert_sales.validity_months, 24)

    def test_percentages_out_of_range(self):
        for field, value in (
            ("discount_percent", 101),
            ("discount_percent", -1),
            ("commission_percent", 150),
            ("commission_percent", -0.5),
        ):
            with self.subTest(field=field, value=value):
                with self.assertRefused("between 0 and 100"):
                    self.silver.write({field: value})
                self.assertEqual(self.silver.discount_percent, 10)
                self.assertEqual(self.silver.commission_percent, 5)

    def test_second_membership_same_program(self):
        with self.assertRefused("already a member"):
            self.env["prm.membership"].create(
                {"partner_id": self.partner_a.id, "program_id": self.program.id}
            )
        # the database constraint backs it up
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    "INSERT INTO prm_membership (partner_id, program_id, state) "
                    "VALUES (%s, %s, 'active')",
                    (self.partner_a.id, self.program.id),
                )
        self.assertEqual(
            self.env["prm.membership"].search_count(
                [("partner_id", "=", self.partner_a.id)]
            ),
            1,
        )
        # the same partner in another program is fine
        self.env["prm.membership"].create(
            {"partner_id": self.partner_a.id, "program_id": self.program_referral.id}
        )

    def test_membership_of_a_contact(self):
        with self.assertRefused("held by the partner company"):
            self.env["prm.membership"].create(
                {
                    "partner_id": self.contact_a.id,
                    "program_id": self.program_referral.id,
                }
            )

    def test_certification_of_non_partner(self):
        outsider = self.env["res.partner"].create(
            {"name": "Outsider Co", "is_company": True}
        )
        person = self.env["res.partner"].create(
            {"name": "Olga Outsider", "parent_id": outsider.id}
        )
        with self.assertRefused("not a partner of any program"):
            self._certify(person, self.cert_sales)
        self.assertFalse(
            self.env["prm.partner.certification"].search(
                [("partner_id", "=", person.id)]
            )
        )

    def test_tier_lock_without_reason(self):
        with self.assertRefused("reason"):
            self.membership_a.write({"tier_locked": True})
        self.assertFalse(self.membership_a.tier_locked)
        with self.assertRefused("reason"):
            self.membership_a.write({"tier_locked": True, "tier_lock_reason": "   "})

    def test_other_bad_values(self):
        with self.assertRefused("at least one month"):
            self.silver.window_months = 0
        with self.assertRefused("cannot be negative"):
            self.silver.min_won_revenue = -5
        with self.assertRefused("not a valid domain"):
            self.silver.partner_domain = "[('no_such_field', '=', 1)]"
        with self.assertRefused("another program"):
            self.membership_a.tier_id = self.program_referral.tier_ids[:1]
        with self.assertRefused("end before it starts"):
            self.membership_a.write(
                {"date_start": "2026-05-01", "date_end": "2026-04-01"}
            )
        with self.assertRefused("cannot be deleted", exception=UserError):
            self.membership_a.unlink()
