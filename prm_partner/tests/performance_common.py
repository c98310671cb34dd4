from datetime import date, datetime

from odoo.fields import Command

from .common import PrmCommon

Q2_FROM, Q2_TO = date(2026, 4, 1), date(2026, 7, 1)


def dt(day):
    return datetime.combine(day, datetime.min.time())


class PrmPerformanceCommon(PrmCommon):
    """A known dataset for the performance KPIs (see ``test_performance_kpi``).

    Partner A (Silver, commission 5%) in Reseller, also in Referral (Affiliate,
    no commission); partner B (Silver) in Reseller. Q2 2026 is the period."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        (cls.membership_a | cls.membership_b).tier_id = cls.silver
        cls.affiliate = cls.program_referral.tier_ids.sorted("sequence")[:1]
        cls.membership_a_ref = cls.env["prm.membership"].create(
            {
                "partner_id": cls.partner_a.id,
                "program_id": cls.program_referral.id,
                "state": "active",
                "user_id": cls.manager.id,
            }
        )
        Partner = cls.env["res.partner"]
        cls.customers = Partner.create(
            [{"name": f"Customer {n}", "is_company": True} for n in range(1, 6)]
        )
        c1, c2, c3, c4, c5 = cls.customers
        Lead = cls.env["crm.lead"]
        won, prog = cls.won_stage.id, cls.program.id

        def lead(name, created, partner=None, program=prog, **vals):
            record = Lead.create(
                {
                    "name": name,
                    "type": "opportunity",
                    "partner_assigned_id": partner and partner.id,
                    "prm_program_id": program,
                    **vals,
                }
            )
            record.flush_recordset()
            cls.env.cr.execute(
                "UPDATE crm_lead SET create_date = %s WHERE id = %s",
                (dt(created), record.id),
            )
            record.invalidate_recordset()
            return record

        pa = cls.partner_a
        # an older internal win makes customer 2 an existing customer
        lead(
            "C2 first deal",
            date(2025, 3, 1),
            None,
            False,
            stage_id=won,
            partner_id=c2.id,
            expected_revenue=1000,
            date_closed=dt(date(2025, 3, 5)),
        )
        # previous period (Q1): one win of 5000
        cls.w0 = lead(
            "W0",
            date(2026, 2, 1),
            pa,
            stage_id=won,
            partner_id=c5.id,
            expected_revenue=5000,
            date_closed=dt(date(2026, 2, 10)),
        )
        # Q2: three programmed wins (one without revenue), one unprogrammed win
        cls.w1 = lead(
            "W1",
            date(2026, 4, 1),
            pa,
            stage_id=won,
            partner_id=c1.id,
            expected_revenue=10000,
            date_closed=dt(date(2026, 4, 11)),
        )
        cls.w2 = lead(
            "W2",
            date(2026, 4, 1),
            pa,
            stage_id=won,
            partner_id=c2.id,
            expected_revenue=30000,
            date_closed=dt(date(2026, 5, 1)),
        )
        cls.w3 = lead(
            "W3",
            date(2026, 5, 1),
            pa,
            stage_id=won,
            partner_id=c3.id,
            expected_revenue=0,
            date_closed=dt(date(2026, 5, 21)),
        )
        cls.w4 = lead(
            "W4",
            date(2026, 5, 31),
            pa,
            False,
            stage_id=won,
            partner_id=c4.id,
            expected_revenue=8000,
            date_closed=dt(date(2026, 6, 1)),
        )
        cls.l1 = lead(
            "L1",
            date(2026, 4, 2),
            pa,
            active=False,
            probability=0,
            date_closed=dt(date(2026, 5, 10)),
        )
        # leads received: one still a lead, one converted
        cls.r1 = lead("R1", date(2026, 4, 5), pa, type="lead")
        cls.r2 = lead("R2", date(2026, 4, 6), pa, type="lead")
        cls.r2.write({"type": "opportunity"})
        cls.env.cr.execute(
            "UPDATE crm_lead SET date_conversion = %s WHERE id = %s",
            (dt(date(2026, 4, 20)), cls.r2.id),
        )
        # partner B: one win of 20000 in 2 days
        cls.wb = lead(
            "WB",
            date(2026, 4, 1),
            cls.partner_b,
            stage_id=won,
            partner_id=c5.id,
            expected_revenue=20000,
            date_closed=dt(date(2026, 4, 3)),
        )
        # costs of A in Reseller
        cls.env["prm.partner.cost"].create(
            [
                {
                    "name": "Fair",
                    "membership_id": cls.membership_a.id,
                    "cost_type": "mdf",
                    "amount": 2000,
                    "date": date(2026, 4, 15),
                },
                {
                    "name": "Training",
                    "membership_id": cls.membership_a.id,
                    "cost_type": "fee",
                    "amount": 1000,
                    "date": date(2026, 5, 15),
                },
            ]
        )
        # customer satisfaction: 10, 9, 5
        Satisfaction = cls.env["prm.lead.satisfaction"]
        cls.surveys = Satisfaction.create(
            [
                {"lead_id": w.id, "score": score, "date_answered": dt(day)}
                for w, score, day in (
                    (cls.w1, 10, date(2026, 4, 20)),
                    (cls.w2, 9, date(2026, 5, 5)),
                    (cls.w3, 5, date(2026, 5, 25)),
                )
            ]
        )
        # partner feedback of A in Reseller
        cls.feedback_a = cls.env["prm.partner.feedback"].create(
            {"membership_id": cls.membership_a.id}
        )
        cls.feedback_a.write(
            {
                "satisfaction_score": 8,
                "recommend_score": 10,
                "state": "answered",
                "date_answered": dt(date(2026, 6, 2)),
            }
        )
        # two people of A certified in Q2 (one of them twice)
        cls._certify(cls.contact_a, cls.cert_sales, date(2026, 4, 10))
        cls._certify(cls.contact_a2, cls.cert_sales, date(2026, 5, 10))
        cls._certify(cls.contact_a2, cls.cert_tech, date(2026, 5, 12))
        cls.env.flush_all()

    @classmethod
    def _link(cls, *records):
        return [Command.link(record.id) for record in records]
