from collections import Counter

from odoo import SUPERUSER_ID, api
from odoo.fields import Command
from odoo.sql_db import db_connect
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestLeadAssignmentConcurrency(TransactionCase):
    """Two workers (two real database transactions) distribute leads at the same
    time: leads and memberships are locked with SKIP LOCKED, so no lead gets two
    pending offers and no partner goes over its capacity."""

    def test_two_workers_at_once(self):
        dbname = self.env.cr.dbname
        setup_cr = db_connect(dbname).cursor()
        ids = {}
        try:
            env0 = api.Environment(setup_cr, SUPERUSER_ID, {})
            program = env0["prm.program"].create(
                {
                    "name": "Concurrent distribution",
                    "tier_ids": [Command.create({"name": "Base", "sequence": 1})],
                }
            )
            partners = env0["res.partner"].create(
                [
                    {"name": f"Concurrent partner {i}", "is_company": True}
                    for i in range(4)
                ]
            )
            memberships = env0["prm.membership"].create(
                [
                    {
                        "partner_id": partner.id,
                        "program_id": program.id,
                        "state": "active",
                        "lead_capacity": 2,
                    }
                    for partner in partners
                ]
            )
            country = env0.ref("base.be")
            rule = env0["prm.assignment.rule"].create(
                {
                    "name": "Concurrent rule",
                    "program_id": program.id,
                    "country_ids": [Command.link(country.id)],
                    "zip_prefixes": "PRMCONC",
                    "pick_method": "round_robin",
                }
            )
            leads = env0["crm.lead"].create(
                [
                    {
                        "name": f"Concurrent lead {i}",
                        "type": "lead",
                        "country_id": country.id,
                        "zip": f"PRMCONC{i}",
                        "user_id": False,
                    }
                    for i in range(10)
                ]
            )
            ids = {
                "program": program.id,
                "partners": partners.ids,
                "memberships": memberships.ids,
                "rule": rule.id,
                "leads": leads.ids,
            }
            setup_cr.commit()

            with db_connect(dbname).cursor() as cr1, db_connect(dbname).cursor() as cr2:
                env1 = api.Environment(cr1, SUPERUSER_ID, {})
                env2 = api.Environment(cr2, SUPERUSER_ID, {})
                Lead1, Lead2 = env1["crm.lead"], env2["crm.lead"]
                first = (
                    env1["prm.assignment.rule"]
                    .browse(ids["rule"])
                    ._action_assign_partner_leads(leads=Lead1.browse(ids["leads"][:6]))
                )
                env1.flush_all()
                # worker 2 runs while worker 1 holds its locks: on the same leads
                # it finds nothing to do; on other leads, the memberships worker 1
                # counts on are locked, so it does not use their capacity
                rule2 = env2["prm.assignment.rule"].browse(ids["rule"])
                same = rule2._action_assign_partner_leads(
                    leads=Lead2.browse(ids["leads"][:6])
                )
                other = rule2._action_assign_partner_leads(
                    leads=Lead2.browse(ids["leads"][6:])
                )
                env2.flush_all()
                self.assertEqual(len(first["offers"]), 6)
                self.assertFalse(same["offers"])
                self.assertFalse(other["offers"])
                self.assertEqual(len(other["waiting"]), 4)
                cr1.commit()
                cr2.commit()

            # a later run sees the committed offers: 2 capacity left in total
            with db_connect(dbname).cursor() as cr3:
                env3 = api.Environment(cr3, SUPERUSER_ID, {})
                third = (
                    env3["prm.assignment.rule"]
                    .browse(ids["rule"])
                    ._action_assign_partner_leads(
                        leads=env3["crm.lead"].browse(ids["leads"])
                    )
                )
                self.assertEqual(len(third["offers"]), 2)
                self.assertEqual(len(third["waiting"]), 2)
                cr3.commit()

            setup_cr.rollback()
            env0.invalidate_all()
            offers = env0["prm.lead.offer"].search(
                [("lead_id", "in", ids["leads"]), ("state", "=", "pending")]
            )
            self.assertEqual(len(offers), 8)
            per_lead = Counter(offers.lead_id.ids)
            self.assertEqual(max(per_lead.values()), 1)
            per_membership = Counter(offer.membership_id.id for offer in offers)
            self.assertEqual(set(per_membership.values()), {2})
        finally:
            setup_cr.rollback()
            if ids:
                env0 = api.Environment(setup_cr, SUPERUSER_ID, {})
                env0["prm.lead.offer"].search(
                    [("lead_id", "in", ids["leads"])]
                ).unlink()
                env0["crm.lead"].browse(ids["leads"]).unlink()
                env0["prm.assignment.rule"].browse(ids["rule"]).unlink()
                memberships = env0["prm.membership"].browse(ids["memberships"])
                memberships.write({"state": "ended"})
                memberships.unlink()
                env0["res.partner"].browse(ids["partners"]).unlink()
                env0["prm.program"].browse(ids["program"]).unlink()
                setup_cr.commit()
            setup_cr.close()
