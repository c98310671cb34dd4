import statistics
import threading

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.tools import date_utils
from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__)

REVIEW_CHUNK = 500
PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}
# (report field, label, kind) shown on scorecards, in this order
SCORECARD_KPIS = [
    ("won_count", _lt("Won deals"), "int"),
    ("won_revenue", _lt("Won revenue"), "amount"),
    ("avg_deal_size", _lt("Average deal size"), "amount"),
    ("win_rate", _lt("Win rate (%)"), "percent"),
    ("sales_cycle_days", _lt("Sales cycle (days)"), "float"),
    ("lead_count", _lt("Leads received"), "int"),
    ("conversion_rate", _lt("Conversion rate (%)"), "percent"),
    ("new_customer_count", _lt("New customers"), "int"),
    ("offer_count", _lt("Offers made"), "int"),
    ("acceptance_rate", _lt("Acceptance rate (%)"), "percent"),
    ("sla_compliance", _lt("SLA compliance (%)"), "percent"),
    ("response_hours_median", _lt("Median response hours"), "float"),
    ("registration_count", _lt("Registrations submitted"), "int"),
    ("registration_approval_rate", _lt("Registration approval rate (%)"), "percent"),
    ("csat", _lt("CSAT (0-10)"), "float"),
    ("nps", _lt("NPS"), "float"),
    ("psat", _lt("Partner satisfaction (0-10)"), "float"),
    ("partner_costs", _lt("Partner costs"), "amount"),
    ("cac", _lt("Channel CAC"), "amount"),
    ("roi", _lt("ROI (%)"), "percent"),
    ("certified_people", _lt("People certified in the period"), "int"),
]


class PrmMembership(models.Model):
    _inherit = "prm.membership"

    review_ids = fields.One2many("prm.partner.review", "membership_id")
    review_count = fields.Integer(compute="_compute_review_count")
    prm_pipeline_revenue = fields.Monetary(
        "Open pipeline",
        compute="_compute_prm_dashboard",
        help="Expected revenue of the partner's open opportunities in this program "
        "(or without program).",
    )
    prm_expiring_certification_count = fields.Integer(
        "Certifications expiring",
        compute="_compute_prm_dashboard",
        search="_search_prm_expiring_certification_count",
    )

    def _compute_prm_dashboard(self):
        pipeline = {}
        for partner, program, revenue in (
            self.env["crm.lead"]
            .sudo()
            ._read_group(
                [
                    ("partner_assigned_id", "in", self.partner_id.ids),
                    ("type", "=", "opportunity"),
                    ("active", "=", True),
                    ("stage_id.is_won", "=", False),
                ],
                ["partner_assigned_id", "prm_program_id"],
                ["expected_revenue:sum"],
            )
        ):
            pipeline[partner.id, program.id] = revenue
        expiring = dict(
            self.env["prm.partner.certification"]
            .sudo()
            ._read_group(
                [
                    ("commercial_partner_id", "in", self.partner_id.ids),
                    ("state", "=", "expiring"),
                ],
                ["commercial_partner_id"],
                ["__count"],
            )
        )
        for membership in self:
            pid = membership.partner_id.id
            membership.prm_pipeline_revenue = pipeline.get(
                (pid, membership.program_id.id), 0.0
            ) + pipeline.get((pid, False), 0.0)
            membership.prm_expiring_certification_count = expiring.get(
                membership.partner_id, 0
            )

    def _search_prm_expiring_certification_count(self, operator, value):
        """Supports "has some" (``> 0``, ``!= 0``) and "has none" (``= 0``)."""
        if value != 0 or operator not in (">", "!=", "="):
            return NotImplemented
        Certification = self.env["prm.partner.certification"]
        Certification.flush_model(["commercial_partner_id", "state"])
        partner_ids = (
            Certification.sudo()
            ._search([("state", "=", "expiring")])
            .subselect("commercial_partner_id")
        )
        return [("partner_id", "not in" if operator == "=" else "in", partner_ids)]

    def _compute_review_count(self):
        counts = dict(
            self.env["prm.partner.review"]._read_group(
                [("membership_id", "in", self.ids)], ["membership_id"], ["__count"]
            )
        )
        for membership in self:
            membership.review_count = counts.get(membership, 0)

    # ------------------------------------------------------------------
    # MEASURES
    # ------------------------------------------------------------------
    def _measure_satisfaction(self, date_from):
        """Mean customer satisfaction (0-10) of the answered surveys of each
        partner company since ``date_from``: ``{partner: score}``; partners
        without any answer are absent."""
        measures = self.env["prm.lead.satisfaction"]._measure(
            self.partner_id, date_from=fields.Datetime.to_datetime(date_from)
        )
        return {partner: values["csat"] for partner, values in measures.items()}

    def _effective_commission_rates(self, memberships=None):
        """Commission rate (%) of ``memberships`` (default: ``self``), as
        ``{membership_id: rate}``: the membership's ``effective_commission_percent``
        (agreement, else tier) when that field exists, else the tier's rate. The
        performance report applies the same rule in SQL
        (``prm.partner.performance.report._sql_commission_percent``)."""
        memberships = self if memberships is None else memberships
        if "effective_commission_percent" in self._fields:
            return {m.id: m.effective_commission_percent or 0.0 for m in memberships}
        return {m.id: m.tier_id.commission_percent or 0.0 for m in memberships}

    # ------------------------------------------------------------------
    # SCORECARDS
    # ------------------------------------------------------------------
    @api.model
    def _prm_period(self, period="quarter", date_ref=None):
        """``(date_from, date_to)`` of the month, quarter or year holding
        ``date_ref``; ``date_to`` excluded."""
        date_ref = date_ref or fields.Date.context_today(self)
        months = PERIOD_MONTHS.get(period, 3)
        date_from = date_utils.start_of(date_ref, "month")
        date_from -= relativedelta(months=(date_from.month - 1) % months)
        return date_from, date_from + relativedelta(months=months)

    @api.model
    def _prm_kpi_groups(self, domain, groupby):
        """KPIs of the performance report grouped by ``groupby`` (ratios of sums)."""
        Report = self.env["prm.partner.performance.report"].sudo()
        aggregates = [
            f"{fname}:{Report._fields[fname].aggregator or 'sum'}"
            for fname, _label, _kind in SCORECARD_KPIS
        ]
        rates = Report._prm_rate_fields()
        result = []
        for row in Report._read_group(domain, groupby, aggregates):
            values = {}
            for index, (fname, _label, _kind) in enumerate(SCORECARD_KPIS):
                value = row[len(groupby) + index]
                # an empty rate stays empty (None); an empty sum is zero
                if fname in rates:
                    values[fname] = None if value is False else value
                else:
                    values[fname] = value or 0
            result.append((row[: len(groupby)], values))
        return result

    def _prm_scorecard(self, date_from, date_to):
        """Scorecards of these memberships for ``[date_from, date_to)``: each KPI
        of ``SCORECARD_KPIS`` for the period, the previous period of the same
        length, and the median of the memberships of the same program and tier.

        Runs a fixed number of queries whatever the number of leads or
        memberships: three grouped report queries, the tier measures and one
        certification query.

        :return: ``{membership_id: {"date_from": str, "date_to": str,
            "partner": str, "program": str, "tier": str, "currency": str,
            "kpis": [{"name", "label", "kind", "value", "previous", "median"}],
            "certifications": {"valid": int, "expiring": int, "expired": int},
            "next_tier": str, "progress": [[label, current, threshold, met]]}}``
        """
        self.check_access("read")
        if not self:
            return {}
        memberships = self.sudo()
        length = relativedelta(date_to, date_from)
        previous_from = date_from - length
        period = [("date", ">=", date_from), ("date", "<", date_to)]
        current = {
            key[0].id: values
            for key, values in self._prm_kpi_groups(
                [("membership_id", "in", self.ids), *period], ["membership_id"]
            )
        }
        previous = {
            key[0].id: values
            for key, values in self._prm_kpi_groups(
                [
                    ("membership_id", "in", self.ids),
                    ("date", ">=", previous_from),
                    ("date", "<", date_from),
                ],
                ["membership_id"],
            )
        }
        peers = {}
        for (program, tier, _membership), values in self._prm_kpi_groups(
            [("program_id", "in", memberships.program_id.ids), *period],
            ["program_id", "tier_id", "membership_id"],
        ):
            for fname, value in values.items():
                if value is not None:
                    peers.setdefault((program.id, tier.id, fname), []).append(value)
        certifications = {}
        for partner, state, count in (
            self.env["prm.partner.certification"]
            .sudo()
            ._read_group(
                [("commercial_partner_id", "in", memberships.partner_id.ids)],
                ["commercial_partner_id", "state"],
                ["__count"],
            )
        ):
            certifications.setdefault(partner.id, {})[state] = count
        measures = memberships._prm_measure(fields.Date.context_today(self))
        result = {}
        for membership in memberships:
            kpis = []
            for fname, label, kind in SCORECARD_KPIS:
                values = peers.get(
                    (membership.program_id.id, membership.tier_id.id, fname)
                )
                kpis.append(
                    {
                        "name": fname,
                        "label": self.env._(label),
                        "kind": kind,
                        "value": current.get(membership.id, {}).get(fname),
                        "previous": previous.get(membership.id, {}).get(fname),
                        "median": statistics.median(values) if values else None,
                    }
                )
            tiers = membership.program_id.tier_ids.sorted("sequence")
            next_tier = tiers.filtered(
                lambda t, m=membership: not m.tier_id or t.sequence > m.tier_sequence
            )[:1]
            progress = []
            if next_tier:
                values = measures.get(membership.id, {}).get(next_tier.id, {})
                criteria = self._criteria_met(next_tier, values)
                progress = [
                    [label, current_value, threshold, met]
                    for label, current_value, threshold, met, _kind in criteria
                ]
            counts = certifications.get(membership.partner_id.id, {})
            result[membership.id] = {
                "date_from": fields.Date.to_string(date_from),
                "date_to": fields.Date.to_string(date_to - relativedelta(days=1)),
                "partner": membership.partner_id.name,
                "program": membership.program_id.name,
                "tier": membership.tier_id.name or "",
                "currency": membership.currency_id.name or "",
                "kpis": kpis,
                "certifications": {
                    state: counts.get(state, 0)
                    for state in ("valid", "expiring", "expired")
                },
                "next_tier": next_tier.name or "",
                "progress": progress,
            }
        return result

    def _prm_scorecard_html(self, date_from, date_to):
        """The rendered scorecard of one membership (back office and reviews)."""
        self.ensure_one()
        card = self._prm_scorecard(date_from, date_to)[self.id]
        return self.env["ir.qweb"]._render(
            "prm_partner.prm_scorecard_content",
            {"card": card, "currency": self.currency_id},
        )

    def action_open_scorecard(self):
        self.ensure_one()
        return {
            "name": self.env._("Scorecard"),
            "type": "ir.actions.act_window",
            "res_model": "prm.membership.scorecard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_membership_id": self.id},
        }

    def action_view_reviews(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "prm_partner.prm_partner_review_action"
        )
        action["domain"] = [("membership_id", "=", self.id)]
        action["context"] = {"default_membership_id": self.id}
        return action

    def action_request_feedback(self):
        feedbacks = self.env["prm.partner.feedback"]._request_for_memberships(self)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "%(count)s partner feedback questionnaires requested.",
                    count=len(feedbacks),
                ),
            },
        }

    # ------------------------------------------------------------------
    # REVIEW SCHEDULING
    # ------------------------------------------------------------------
    @api.model
    def _get_review_due_domain(self, today):
        lead_days = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("prm_partner.review_lead_days", 14)
        )
        return [
            ("state", "=", "active"),
            ("date_review_next", "!=", False),
            ("date_review_next", "<=", today + relativedelta(days=lead_days)),
        ]

    @api.model
    def _cron_schedule_reviews(self):
        testing = getattr(threading.current_thread(), "testing", False)
        return self._schedule_reviews(auto_commit=not testing)

    @api.model
    def _schedule_reviews(self, today=None, auto_commit=False):
        """Give the partner manager of every active membership whose next review
        is due (within ``prm_partner.review_lead_days`` days, default 14) a review
        activity, unless one is already open; by chunks of ``REVIEW_CHUNK``.

        :return: the memberships that got an activity
        """
        today = today or fields.Date.context_today(self)
        activity_type = self.env.ref("prm_partner.mail_activity_type_prm_review")
        memberships = self.search(self._get_review_due_domain(today), order="id")
        scheduled = self.browse()
        for start in range(0, len(memberships), REVIEW_CHUNK):
            chunk = memberships[start : start + REVIEW_CHUNK]
            planned = set(
                self.env["mail.activity"]
                .sudo()
                ._read_group(
                    [
                        ("res_model", "=", self._name),
                        ("res_id", "in", chunk.ids),
                        ("activity_type_id", "=", activity_type.id),
                    ],
                    [],
                    ["res_id:array_agg"],
                )[0][0]
                or ()
            )
            todo = chunk.filtered(lambda m, p=planned: m.id not in p)
            self.env["mail.activity"].sudo().with_context(
                mail_activity_quick_update=True
            ).create(
                [
                    {
                        "res_model_id": self.env["ir.model"]._get_id(self._name),
                        "res_id": membership.id,
                        "activity_type_id": activity_type.id,
                        "automated": True,
                        "user_id": (
                            membership.user_id
                            or membership.program_id.user_id
                            or self.env.user
                        ).id,
                        "date_deadline": membership.date_review_next,
                        "summary": self.env._(
                            "Partner review of %(membership)s",
                            membership=membership.display_name,
                        ),
                    }
                    for membership in todo
                ]
            )
            scheduled |= todo
            self.env["ir.cron"]._notify_progress(
                done=start + len(chunk), remaining=len(memberships) - start - len(chunk)
            )
            if auto_commit:  # never in tests: see _cron_schedule_reviews
                self.env.cr.commit()  # pylint: disable=invalid-commit
        return scheduled
