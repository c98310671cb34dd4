#!/usr/bin/env python3
"""Benchmark of the partner performance report (never part of the tests).

Creates (or reuses) a dedicated database with prm_partner installed without demo
data, generates ``--leads`` leads over ``--partners`` partner companies in two
programs of three tiers, then prints the time of the pivot grouping of
``prm.partner.performance.report`` by program, tier and month next to the same
grouping done directly on ``crm.lead`` (by program and month: a lead has no
tier), with their ratio.

Usage (from the repository root, with Odoo's virtualenv)::

    python bench/bench_performance_report.py -c odoo.conf -d prm_bench \\
        --leads 200000 --partners 2000 [--drop] [--repeat 3]

Never run it against a database you care about: ``--drop`` drops it first.
"""

import argparse
import random
import subprocess
import sys
import time
from datetime import datetime, timedelta

import odoo
from odoo.tools import SQL


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-c", "--config", required=True, help="Odoo config file")
    parser.add_argument("-d", "--database", default="prm_bench")
    parser.add_argument("--leads", type=int, default=200_000)
    parser.add_argument("--partners", type=int, default=2_000)
    parser.add_argument("--customers", type=int, default=0, help="default leads/4")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--drop", action="store_true", help="drop the database first")
    parser.add_argument("--seed", type=int, default=42)
    return parser.parse_args()


def prepare_database(args):
    odoo.tools.config.parse_config(["-c", args.config])
    cmd = [sys.executable, "-m", "odoo", "-c", args.config, "-d", args.database]
    if args.drop:
        with odoo.sql_db.db_connect("postgres").cursor() as cr:
            cr._cnx.autocommit = True
            cr.execute(
                SQL(
                    "DROP DATABASE IF EXISTS %s WITH (FORCE)",
                    SQL.identifier(args.database),
                )
            )
    subprocess.run(
        [
            *cmd,
            "-i",
            "prm_partner",
            "--without-demo=all",
            "--stop-after-init",
            "--log-level=warn",
        ],
        check=True,
    )


def generate(env, args):
    """Bulk data: partners and customers with SQL, programs, tiers and
    memberships with the ORM, leads with one INSERT ... SELECT."""
    cr = env.cr
    cr.execute("SELECT count(*) FROM crm_lead WHERE name LIKE 'bench %%'")
    if cr.fetchone()[0] >= args.leads:
        print(f"reusing the {args.leads} generated leads")
        return
    rng = random.Random(args.seed)
    customers = args.customers or max(args.leads // 4, 1)
    cr.execute(
        """
        INSERT INTO res_partner
            (name, is_company, active, type, create_date, write_date)
        SELECT 'bench partner ' || n, TRUE, TRUE, 'contact', now(), now()
          FROM generate_series(1, %s) n RETURNING id
        """,
        (args.partners,),
    )
    partner_ids = [row[0] for row in cr.fetchall()]
    cr.execute(
        """
        INSERT INTO res_partner
            (name, is_company, active, type, create_date, write_date)
        SELECT 'bench customer ' || n, TRUE, TRUE, 'contact', now(), now()
          FROM generate_series(1, %s) n RETURNING id
        """,
        (customers,),
    )
    customer_ids = [row[0] for row in cr.fetchall()]
    cr.execute(
        "UPDATE res_partner SET commercial_partner_id = id WHERE name LIKE 'bench %%'"
    )
    env.invalidate_all()
    Program = env["prm.program"].with_context(tracking_disable=True)
    programs = Program.create(
        [
            {
                "name": f"Bench {kind}",
                "program_type": kind,
                "tier_ids": [
                    odoo.fields.Command.create({"name": "Registered", "sequence": 10}),
                    odoo.fields.Command.create(
                        {
                            "name": "Silver",
                            "sequence": 20,
                            "min_won_deals": 5,
                            "commission_percent": 5,
                        }
                    ),
                    odoo.fields.Command.create(
                        {
                            "name": "Gold",
                            "sequence": 30,
                            "min_won_deals": 20,
                            "commission_percent": 10,
                        }
                    ),
                ],
            }
            for kind in ("reseller", "referral")
        ]
    )
    memberships = []
    for index, partner_id in enumerate(partner_ids):
        # every partner in the first program, one in four also in the second
        for program in programs[: 2 if index % 4 == 0 else 1]:
            memberships.append(
                {
                    "partner_id": partner_id,
                    "program_id": program.id,
                    "state": "active",
                    "tier_id": rng.choice(program.tier_ids).id,
                }
            )
    env["prm.membership"].with_context(tracking_disable=True).create(memberships)
    won = env["crm.stage"].search([("is_won", "=", True)], limit=1)
    other = env["crm.stage"].search([("is_won", "=", False)], limit=1)
    start = datetime(2025, 1, 1)
    rows = []
    for n in range(args.leads):
        created = start + timedelta(minutes=rng.randrange(0, 720 * 24 * 60))
        outcome = rng.random()
        is_won, is_lost = outcome < 0.35, 0.35 <= outcome < 0.55
        closed = created + timedelta(days=rng.randrange(1, 120))
        rows.append(
            (
                f"bench {n}",
                "lead" if outcome > 0.9 else "opportunity",
                not is_lost,
                won.id if is_won else other.id,
                round(rng.uniform(0, 50000), 2),
                0 if is_lost else (100 if is_won else 30),
                closed if (is_won or is_lost) else None,
                created,
                rng.choice(partner_ids),
                programs[0].id
                if rng.random() < 0.7
                else (programs[1].id if rng.random() < 0.5 else None),
                rng.choice(customer_ids),
            )
        )
    for chunk in range(0, len(rows), 20000):
        cr.execute(
            SQL(
                """
                INSERT INTO crm_lead (name, type, active, stage_id, expected_revenue,
                    probability, date_closed, create_date, write_date,
                    partner_assigned_id, prm_program_id, partner_id, company_id)
                SELECT v.name, v.type, v.active, v.stage_id, v.revenue, v.probability,
                       v.closed, v.created, v.created, v.assigned, v.program,
                       v.customer, %s
                  FROM (VALUES %s) AS v(name, type, active, stage_id, revenue,
                       probability, closed, created, assigned, program, customer)
                """,
                env.company.id,
                SQL(", ").join(SQL("%s", row) for row in rows[chunk : chunk + 20000]),
            )
        )
    cr.execute("ANALYZE crm_lead; ANALYZE res_partner; ANALYZE prm_membership")
    cr.commit()
    print(
        f"generated {args.leads} leads, {args.partners} partners, {customers} customers"
    )


def timed(function, repeat):
    best = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    return best, result


def main():
    args = parse_args()
    prepare_database(args)
    registry = odoo.modules.registry.Registry(args.database)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        generate(env, args)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        Report = env["prm.partner.performance.report"]
        Lead = env["crm.lead"]

        def report_pivot():
            env.invalidate_all()
            return Report._read_group(
                [],
                ["program_id", "tier_id", "date:month"],
                ["won_revenue:sum", "won_count:sum", "win_rate:sum", "__count"],
            )

        def lead_pivot():
            env.invalidate_all()
            return Lead.with_context(active_test=False)._read_group(
                [("partner_assigned_id", "!=", False)],
                ["prm_program_id", "date_closed:month"],
                ["expected_revenue:sum", "__count"],
            )

        report_time, report_rows = timed(report_pivot, args.repeat)
        lead_time, lead_rows = timed(lead_pivot, args.repeat)
        cr.execute("SELECT count(*) FROM crm_lead")
        leads = cr.fetchone()[0]
        cr.execute("SELECT count(*) FROM prm_membership")
        memberships = cr.fetchone()[0]
        print(f"leads: {leads}, memberships: {memberships}, best of {args.repeat}")
        print(
            f"report pivot (program, tier, month): {report_time * 1000:8.1f} ms "
            f"({len(report_rows)} groups)"
        )
        print(
            f"crm.lead pivot (program, month):     {lead_time * 1000:8.1f} ms "
            f"({len(lead_rows)} groups)"
        )
        print(f"ratio report / crm.lead: {report_time / lead_time:.2f}")


if __name__ == "__main__":
    main()
