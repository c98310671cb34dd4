#!/usr/bin/env python3
"""Benchmark of the partner lead distribution of prm_partner against Odoo's
``website_crm_partner_assign``, on the same generated data.

Never part of the tests: it (re)creates its own database (``--db``, default
``prm_bench``), installs ``prm_partner`` and ``website_crm_partner_assign`` in it
only, generates partners, memberships, rules and leads, then:

1. runs ``prm.assignment.rule._action_assign_partner_leads`` on every lead
   (chunks of 500; offers, capacity, mails included) and measures the time and
   the number of SQL queries;
2. runs Odoo's automatic assignment (``crm.lead.assign_partner``) lead by lead
   (calling it on a batch gives every lead the same partner, see
   /work/shared/PRM_DOMAIN.md section 3) on the same leads, measured the same
   way;
3. prints leads per second, queries per 1,000 leads and the ratio.

Usage (the venv's Python; the config's addons path must hold Odoo's addons and
this repository, e.g. ``/var/cache/prm_partner/18.0/odoo/odoo/addons,<repo>``)::

    python bench/bench_lead_assignment.py -c odoo.conf --db prm_bench \\
        --leads 50000 --partners 2000 --rules 20

``--leads 2000 --partners 200`` gives a quick run; ``--odoo-leads N`` measures
Odoo's assignment on the first N leads only (it is the slow part);
``--keep`` keeps the database afterwards. The config and database can also be
given by the ``PRM_ODOO_CONFIG`` and ``PRM_BENCH_DB`` environment variables.
"""

import argparse
import os
import random
import subprocess
import sys
import time

COUNTRY_CODES = [
    "fr", "de", "be", "nl", "es", "it", "pt", "uk", "ie", "ch",
    "at", "pl", "se", "dk", "no", "fi", "cz", "us", "ca", "br",
]  # fmt: skip


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-c", "--config", default=os.environ.get("PRM_ODOO_CONFIG"))
    parser.add_argument("--db", default=os.environ.get("PRM_BENCH_DB", "prm_bench"))
    parser.add_argument("--leads", type=int, default=50000)
    parser.add_argument("--partners", type=int, default=2000)
    parser.add_argument("--rules", type=int, default=20)
    parser.add_argument(
        "--odoo-leads",
        type=int,
        default=0,
        help="leads for Odoo's assignment (default: all)",
    )
    parser.add_argument("--chunk", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the database of a previous --keep run (updates prm_partner)",
    )
    args = parser.parse_args()
    if not args.config:
        parser.error("give the Odoo config with -c or PRM_ODOO_CONFIG")
    if not 1 <= args.rules <= len(COUNTRY_CODES):
        parser.error(f"--rules must be between 1 and {len(COUNTRY_CODES)}")
    return args


def odoo_cli(args, *extra):
    command = [sys.executable, "-m", "odoo", "-c", args.config, "-d", args.db]
    command += ["--log-level=warn", "--stop-after-init", *extra]
    subprocess.run(command, check=True)


def drop_database(args, parse_config=True):
    import odoo
    from odoo.tools import SQL

    if parse_config:
        odoo.tools.config.parse_config(["-c", args.config])
    with odoo.sql_db.db_connect("postgres").cursor() as cr:
        cr._cnx.autocommit = True
        cr.execute(
            SQL("DROP DATABASE IF EXISTS %s WITH (FORCE)", SQL.identifier(args.db))
        )
    odoo.sql_db.close_db(args.db)


def generate(env, args):
    """Partners (companies with a grade and coordinates for Odoo's module, and a
    membership for prm_partner), one rule per country, and the leads."""
    from odoo.fields import Command

    rng = random.Random(42)
    quiet = {
        "tracking_disable": True,
        "mail_create_nolog": True,
        "mail_create_nosubscribe": True,
        "mail_notrack": True,
    }
    env = env(context=dict(env.context, **quiet))
    countries = [env.ref(f"base.{code}") for code in COUNTRY_CODES[: args.rules]]
    centers = {c.id: (rng.uniform(35, 60), rng.uniform(-10, 25)) for c in countries}
    grades = env["res.partner.grade"].create(
        [
            {"name": "Bench Bronze", "partner_weight": 1},
            {"name": "Bench Silver", "partner_weight": 2},
            {"name": "Bench Gold", "partner_weight": 3},
        ]
    )
    program = env["prm.program"].create(
        {
            "name": "Bench program",
            "tier_ids": [
                Command.create({"name": "Bronze", "sequence": 1, "lead_weight": 1}),
                Command.create(
                    {
                        "name": "Silver",
                        "sequence": 2,
                        "lead_weight": 2,
                        "min_won_deals": 1,
                    }
                ),
                Command.create(
                    {
                        "name": "Gold",
                        "sequence": 3,
                        "lead_weight": 3,
                        "min_won_deals": 2,
                    }
                ),
            ],
        }
    )
    tiers = program.tier_ids.sorted("sequence")
    capacity = max(2, 2 * args.leads // args.partners + 1)
    partner_vals = []
    for index in range(args.partners):
        country = countries[index % len(countries)]
        lat, lon = centers[country.id]
        grade = index % 3
        partner_vals.append(
            {
                "name": f"Bench partner {index}",
                "is_company": True,
                "country_id": country.id,
                "partner_latitude": lat + rng.uniform(-3, 3),
                "partner_longitude": lon + rng.uniform(-3, 3),
                "grade_id": grades[grade].id,
                "partner_weight": grades[grade].partner_weight,
                "email": f"partner{index}@bench.example",
            }
        )
    partners = env["res.partner"].create(partner_vals)
    memberships = env["prm.membership"].create(
        [
            {
                "partner_id": partner.id,
                "program_id": program.id,
                "state": "active",
                "lead_capacity": capacity,
            }
            for partner in partners
        ]
    )
    for index, membership in enumerate(memberships):
        membership.tier_id = tiers[index % 3]
    env["prm.assignment.rule"].create(
        [
            {
                "name": f"Bench {country.code}",
                "sequence": index,
                "program_id": program.id,
                "country_ids": [Command.link(country.id)],
                "pick_method": "weighted",
                "deadline_hours": 48,
                "max_offers": 3,
            }
            for index, country in enumerate(countries)
        ]
    )
    lead_ids = []
    for start in range(0, args.leads, 5000):
        vals_list = []
        for index in range(start, min(start + 5000, args.leads)):
            country = countries[index % len(countries)]
            lat, lon = centers[country.id]
            vals_list.append(
                {
                    "name": f"Bench lead {index}",
                    "type": "lead",
                    "country_id": country.id,
                    "zip": f"{rng.randint(10000, 99999)}",
                    "expected_revenue": rng.randint(1000, 100000),
                    "email_from": f"buyer{index}@customer{index % 997}.example",
                    "partner_latitude": lat + rng.uniform(-3, 3),
                    "partner_longitude": lon + rng.uniform(-3, 3),
                    "user_id": False,
                }
            )
        lead_ids += env["crm.lead"].create(vals_list).ids
        env.cr.commit()
        print(f"  {len(lead_ids)} leads generated", flush=True)
    return lead_ids


def measure(cr, function):
    queries = cr.sql_log_count
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, cr.sql_log_count - queries, result


def main():
    args = parse_args()
    if args.reuse:
        print(f"Updating prm_partner in {args.db} ...", flush=True)
        odoo_cli(args, "-u", "prm_partner")
    else:
        print(f"Creating database {args.db} ...", flush=True)
        drop_database(args)
        odoo_cli(
            args,
            "-i",
            "prm_partner,website_crm_partner_assign",
            "--without-demo=all",
        )

    import odoo
    from odoo import SUPERUSER_ID, api

    odoo.tools.config.parse_config(["-c", args.config, "-d", args.db])
    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        if args.reuse and env["crm.lead"].search_count([("name", "=like", "Bench%")]):
            lead_ids = env["crm.lead"].search([("name", "=like", "Bench lead%")]).ids
        else:
            print(
                f"Generating {args.leads} leads, {args.partners} partners, "
                f"{args.rules} rules ...",
                flush=True,
            )
            lead_ids = generate(env, args)
        cr.commit()

        # ---- prm_partner ----
        env.invalidate_all()
        leads = env["crm.lead"].browse(lead_ids)
        rules = env["prm.assignment.rule"].search([])
        seconds, queries, result = measure(
            cr,
            lambda: (
                rules._action_assign_partner_leads(leads=leads, chunk_size=args.chunk),
                env.flush_all(),
            )[0],
        )
        offered = len(result["offers"])
        prm_rate = len(lead_ids) / seconds
        prm_queries = 1000 * queries / len(lead_ids)
        print(
            f"prm_partner: {len(lead_ids)} leads in {seconds:.1f} s "
            f"({offered} offered, {len(result['waiting'])} waiting, "
            f"{len(result['fallback'])} fallback): {prm_rate:.0f} leads/s, "
            f"{prm_queries:.1f} queries per 1,000 leads",
            flush=True,
        )
        cr.rollback()

        # ---- website_crm_partner_assign, lead by lead ----
        env.invalidate_all()
        sample = lead_ids[: args.odoo_leads] if args.odoo_leads else lead_ids
        leads = env["crm.lead"].browse(sample)

        def odoo_assign():
            for lead in leads:
                lead.assign_partner()
            env.flush_all()

        seconds, queries, _result = measure(cr, odoo_assign)
        assigned = env["crm.lead"].search_count(
            [("id", "in", sample), ("partner_assigned_id", "!=", False)]
        )
        odoo_rate = len(sample) / seconds
        odoo_queries = 1000 * queries / len(sample)
        print(
            f"website_crm_partner_assign: {len(sample)} leads in {seconds:.1f} s "
            f"({assigned} assigned): {odoo_rate:.0f} leads/s, "
            f"{odoo_queries:.1f} queries per 1,000 leads",
            flush=True,
        )
        cr.rollback()
        print(
            f"ratio prm_partner / website_crm_partner_assign: "
            f"{prm_rate / odoo_rate:.1f}x leads per second, "
            f"{odoo_queries / prm_queries:.1f}x fewer queries per lead",
            flush=True,
        )
    if not args.keep:
        registry.delete(args.db)
        drop_database(args, parse_config=False)


if __name__ == "__main__":
    main()
