#!/usr/bin/env python3
"""Benchmark of the tier evaluation (prints figures; not a test).

Generates N memberships (default 20,000) in a dedicated database, each partner with
won and lost leads and certified people, then runs

1. the set-based evaluation (``prm.membership._evaluate_all_tiers``: chunks of 1,000),
2. a straightforward per-membership loop doing the same evaluation (searches and
   writes record by record, ``message_post`` per change),

each from the same starting state (rolled back in between), and prints time, queries
and the ratio. Run it with the project's virtualenv, after ``make setup``::

    /var/cache/prm_partner/18.0/venv/bin/python bench/bench_tier_evaluation.py \
        --config <odoo.conf> [--db prm_bench_tiers] [--memberships 20000]

The configuration file needs the addons path with this repository (``make test``
writes one in ``<cache>/conf/``). The database is created (prm_partner installed,
without demo data) when missing and the generated data is kept for later runs.
"""

import argparse
import random
import subprocess
import sys
import time
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="Odoo configuration file")
    parser.add_argument("--db", default="prm_bench_tiers")
    parser.add_argument("--memberships", type=int, default=20000)
    parser.add_argument(
        "--naive",
        type=int,
        default=0,
        help="memberships for the per-membership loop (default: all)",
    )
    return parser.parse_args()


def ensure_database(args):
    import odoo

    odoo.tools.config.parse_config(["-c", args.config])
    from odoo.service import db as db_service

    exists = args.db in db_service.list_dbs(force=True)
    action = "updating" if exists else "creating"
    print(f"{action} database {args.db} with prm_partner (no demo data)...", flush=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "odoo",
            "-c",
            args.config,
            "-d",
            args.db,
            "-u" if exists else "-i",
            "prm_partner",
            "--stop-after-init",
            "--without-demo=all",
            "--log-level=warn",
        ],
        check=True,
    )


def generate(env, count):
    """Programs, tiers, partners, contacts, memberships, leads and certifications,
    inserted in bulk. Returns the memberships."""
    from odoo.fields import Command

    existing = env["prm.membership"].search([("program_id.name", "=", "Bench")])
    if len(existing) >= count:
        return existing[:count]
    print(
        f"generating {count} memberships with leads and certifications...", flush=True
    )
    rng = random.Random(42)
    cert = env["prm.certification"].create(
        {"name": "Bench cert", "validity_months": 24}
    )
    program = env["prm.program"].create(
        {
            "name": "Bench",
            "demotion_grace_days": 30,
            "tier_ids": [
                Command.create({"name": "Registered", "sequence": 1}),
                Command.create(
                    {
                        "name": "Silver",
                        "sequence": 2,
                        "min_won_revenue": 20000,
                        "min_won_deals": 2,
                        "min_certified_people": 1,
                        "certification_ids": [Command.link(cert.id)],
                    }
                ),
                Command.create(
                    {
                        "name": "Gold",
                        "sequence": 3,
                        "min_won_revenue": 60000,
                        "min_won_deals": 4,
                        "min_certified_people": 2,
                        "certification_ids": [Command.link(cert.id)],
                    }
                ),
                Command.create(
                    {
                        "name": "Platinum",
                        "sequence": 4,
                        "min_won_revenue": 150000,
                        "min_won_deals": 8,
                        "min_certified_people": 3,
                        "window_months": 24,
                        "certification_ids": [Command.link(cert.id)],
                    }
                ),
            ],
        }
    )
    partners = env["res.partner"].create(
        [{"name": f"Bench partner {i}", "is_company": True} for i in range(count)]
    )
    contacts = env["res.partner"].create(
        [
            {"name": f"Bench person {i}-{j}", "parent_id": p.id}
            for i, p in enumerate(partners)
            for j in range(2)
        ]
    )
    memberships = (
        env["prm.membership"]
        .with_context(tracking_disable=True)
        .create(
            [
                {"partner_id": p.id, "program_id": program.id, "state": "active"}
                for p in partners
            ]
        )
    )
    today = date.today()
    env["prm.partner.certification"].with_context(tracking_disable=True).create(
        [
            {
                "partner_id": c.id,
                "certification_id": cert.id,
                "date_obtained": today - timedelta(days=rng.randint(0, 900)),
            }
            for c in contacts
            if rng.random() < 0.6
        ]
    )
    won = env["crm.stage"].search([("is_won", "=", True)], limit=1)
    rows = []
    for partner in partners:
        for _i in range(rng.randint(0, 12)):
            closed = datetime.now() - timedelta(days=rng.randint(0, 900))
            rows.append(
                (partner.id, rng.randint(1000, 30000), closed, rng.random() < 0.7)
            )
    _insert_leads(env, rows, won)
    env.cr.commit()
    print(
        f"  {len(partners)} partners, {len(contacts)} people, {len(rows)} leads",
        flush=True,
    )
    return memberships


def _insert_leads(env, rows, won):
    from psycopg2.extras import execute_values

    execute_values(
        env.cr._obj,
        """INSERT INTO crm_lead (name, type, active, stage_id, partner_assigned_id,
               expected_revenue, date_closed, probability, company_id, create_date,
               write_date)
           VALUES %s""",
        [
            (
                "Bench deal",
                "opportunity",
                is_won,
                won.id,
                pid,
                revenue,
                closed,
                100 if is_won else 0,
                env.company.id,
                closed,
                closed,
            )
            for pid, revenue, closed, is_won in rows
        ],
        page_size=5000,
    )


def naive_evaluation(env, memberships, today):
    """The straightforward loop: per membership, per tier, search and count, then
    write and post record by record."""
    Lead, Held = env["crm.lead"], env["prm.partner.certification"]
    History = env["prm.tier.history"]
    for membership in memberships:
        tiers = membership.program_id.tier_ids.sorted("sequence")
        target, values = tiers[0], {}
        for tier in tiers:
            date_from = today - relativedelta(months=tier.window_months)
            domain = membership._won_lead_domain(membership.partner_id, date_from)
            leads = Lead.search(domain)
            people = Held.search(
                [
                    ("commercial_partner_id", "=", membership.partner_id.id),
                    ("state", "!=", "expired"),
                    ("certification_id", "in", tier.certification_ids.ids),
                ]
            ).partner_id
            measured = {
                "won_revenue": sum(leads.mapped("expected_revenue")),
                "won_deals": len(leads),
                "certified_people": len(people),
            }
            if (
                measured["won_revenue"] >= tier.min_won_revenue
                and measured["won_deals"] >= tier.min_won_deals
                and measured["certified_people"] >= tier.min_certified_people
            ):
                target, values = tier, measured
        current = membership.tier_id
        if target == current:
            continue
        if target.sequence > current.sequence:
            membership.write({"tier_id": target.id})
            History.create(
                {
                    "membership_id": membership.id,
                    "old_tier_id": current.id,
                    "new_tier_id": target.id,
                    "date": today,
                    **values,
                }
            )
            membership.message_post(body=f"Tier {current.name} -> {target.name}")
        elif not membership.at_risk:
            membership.write(
                {
                    "at_risk": True,
                    "demotion_tier_id": target.id,
                    "demotion_date": today + timedelta(days=30),
                }
            )
            membership.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=today,
                summary="At risk",
                user_id=membership.user_id.id or env.uid,
            )
        membership.write({"date_evaluated": today})
    env.flush_all()


def measure(env, label, func):
    env.flush_all()
    env.invalidate_all()
    queries, start = env.cr.sql_log_count, time.perf_counter()
    func()
    env.flush_all()
    elapsed = time.perf_counter() - start
    count = env.cr.sql_log_count - queries
    print(f"{label:<34} {elapsed:9.2f} s {count:10d} queries", flush=True)
    env.cr.rollback()
    return elapsed, count


def main():
    args = parse_args()
    ensure_database(args)
    import odoo
    from odoo import SUPERUSER_ID, api

    odoo.tools.config["log_level"] = "warn"
    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": False})
        memberships = generate(env, args.memberships)
        cr.commit()
        today = date.today()
        n = len(memberships)
        print(f"\nevaluating {n} memberships")
        fast, fast_q = measure(
            env,
            "set-based (_evaluate_all_tiers)",
            lambda: env["prm.membership"].browse(memberships.ids)._evaluate_all_tiers(),
        )
        sample = memberships[: args.naive or n]
        slow, slow_q = measure(
            env,
            f"per-membership loop ({len(sample)})",
            lambda: naive_evaluation(
                env, env["prm.membership"].browse(sample.ids), today
            ),
        )
        scale = n / len(sample)
        print(
            f"\nmemberships per second: set-based {n / fast:,.0f}, "
            f"loop {len(sample) / slow:,.0f}"
        )
        print(
            f"queries per 1,000 memberships: set-based {fast_q * 1000 / n:,.1f}, "
            f"loop {slow_q * 1000 / len(sample):,.1f}"
        )
        print(
            f"ratio (loop time / set-based time, same number of memberships): "
            f"{slow * scale / fast:,.1f}x"
        )


if __name__ == "__main__":
    main()
