from datetime import date

from odoo import SUPERUSER_ID, api
from odoo.fields import Command
from odoo.sql_db import db_connect
from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL


@tagged("post_install", "-at_install")
class TestAgreementLifecycleConcurrency(TransactionCase):
    """Two workers (two real database transactions) run the agreement lifecycle at
    the same time: each agreement is renewed once, with one successor."""

    def _env(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})

    def test_two_workers_renew_once(self):
        dbname = self.env.cr.dbname
        setup_cr = db_connect(dbname).cursor()
        ids = {}
        try:
            env0 = self._env(setup_cr)
            program = env0["prm.program"].create(
                {
                    "name": "Concurrent agreements",
                    "tier_ids": [Command.create({"name": "Base", "sequence": 1})],
                }
            )
            partners = env0["res.partner"].create(
                [{"name": f"Concurrent agr {i}", "is_company": True} for i in range(4)]
            )
            memberships = env0["prm.membership"].create(
                [
                    {"partner_id": p.id, "program_id": program.id, "state": "active"}
                    for p in partners
                ]
            )
            agreements = env0["prm.agreement"].create(
                [
                    {
                        "title": "To renew",
                        "partner_id": p.id,
                        "program_id": program.id,
                        "date_start": date(2025, 1, 1),
                        "date_end": date(2025, 12, 31),
                        "auto_renew": True,
                        "renewal_months": 12,
                    }
                    for p in partners
                ]
            )
            agreements.write({"state": "active"})
            ids = {
                "program": program.id,
                "partners": partners.ids,
                "memberships": memberships.ids,
            }
            setup_cr.commit()

            today = date(2026, 1, 2)
            with (
                db_connect(dbname).cursor() as cr1,
                db_connect(dbname).cursor() as cr2,
            ):
                first = self._env(cr1)["prm.agreement"]._run_lifecycle(today)
                self._env(cr1).flush_all()
                # worker 2 runs while worker 1 still holds its row locks
                second = self._env(cr2)["prm.agreement"]._run_lifecycle(today)
                self._env(cr2).flush_all()
                self.assertEqual(first["end"], 4)
                self.assertEqual(second["end"], 0)
                cr1.commit()
                cr2.commit()

            # a later run sees the committed states: nothing left to renew
            with db_connect(dbname).cursor() as cr3:
                third = self._env(cr3)["prm.agreement"]._run_lifecycle(today)
                self.assertEqual(third["end"], 0)
                cr3.commit()

            setup_cr.rollback()
            env0.invalidate_all()
            chain = env0["prm.agreement"].search([("partner_id", "in", partners.ids)])
            self.assertEqual(len(chain), 8, "one successor per renewed agreement")
            self.assertEqual(
                sorted(chain.mapped("state")), ["active"] * 4 + ["renewed"] * 4
            )
        finally:
            setup_cr.rollback()
            if ids:
                env0 = self._env(setup_cr)
                agreements = env0["prm.agreement"].search(
                    [("partner_id", "in", ids["partners"])]
                )
                for model, field in (
                    ("mail.message", "model"),
                    ("mail.activity", "res_model"),
                ):
                    env0[model].search(
                        [
                            (field, "=", "prm.agreement"),
                            ("res_id", "in", agreements.ids),
                        ]
                    ).unlink()
                # active records cannot be deleted through the ORM (by design)
                setup_cr.execute(
                    SQL(
                        "DELETE FROM prm_agreement WHERE id IN %s",
                        tuple(agreements.ids),
                    )
                )
                setup_cr.execute(
                    SQL(
                        "DELETE FROM prm_membership WHERE id IN %s",
                        tuple(ids["memberships"]),
                    )
                )
                env0.invalidate_all()
                env0["res.partner"].browse(ids["partners"]).unlink()
                env0["prm.program"].browse(ids["program"]).unlink()
                setup_cr.commit()
            setup_cr.close()
