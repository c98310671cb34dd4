from odoo import api, fields, models
from odoo.tools import SQL

from ..models.prm_lead_satisfaction import DETRACTOR_MAX, PROMOTER_MIN

# Rates are ratios of sums: {field: (added, subtracted, denominator, factor)}, the
# numerator being sum(added) - sum(subtracted) and the denominator sum(denominator),
# each a tuple of measure columns of the report.
RATIOS = {
    "acceptance_rate": (("offer_accepted",), (), ("offer_count",), 100.0),
    "sla_compliance": (("offer_in_time",), (), ("offer_count",), 100.0),
    "conversion_rate": (("converted_count",), (), ("lead_count",), 100.0),
    "win_rate": (("won_count",), (), ("won_count", "lost_count"), 100.0),
    "avg_deal_size": (("won_revenue",), (), ("won_count",), 1.0),
    "sales_cycle_days": (("cycle_days",), (), ("won_count",), 1.0),
    "registration_approval_rate": (
        ("registration_approved",),
        (),
        ("registration_count",),
        100.0,
    ),
    "registration_conflict_rate": (
        ("registration_flagged",),
        (),
        ("registration_count",),
        100.0,
    ),
    "csat": (("csat_sum",), (), ("csat_count",), 1.0),
    "nps": (("csat_promoters",), ("csat_detractors",), ("csat_count",), 100.0),
    "psat": (("psat_sum",), (), ("psat_count",), 1.0),
    "partner_nps": (("psat_promoters",), ("psat_detractors",), ("psat_count",), 100.0),
    "cac": (("partner_costs",), (), ("new_customer_count",), 1.0),
    "roi": (("won_revenue",), ("partner_costs",), ("partner_costs",), 100.0),
}
# measures that are plain sums, with their SQL type (NULL in parts lacking them)
SUMS = {
    "lead_count": "integer",
    "converted_count": "integer",
    "won_count": "integer",
    "lost_count": "integer",
    "won_revenue": "numeric",
    "won_revenue_registered": "numeric",
    "won_revenue_assigned": "numeric",
    "cycle_days": "numeric",
    "new_customer_count": "integer",
    "commission_amount": "numeric",
    "cost_mdf": "numeric",
    "cost_fee": "numeric",
    "cost_other": "numeric",
    "partner_costs": "numeric",
    "certified_people": "integer",
    "csat_count": "integer",
    "csat_sum": "numeric",
    "csat_promoters": "integer",
    "csat_detractors": "integer",
    "psat_count": "integer",
    "psat_sum": "numeric",
    "psat_promoters": "integer",
    "psat_detractors": "integer",
    "offer_count": "integer",
    "offer_accepted": "integer",
    "offer_declined": "integer",
    "offer_expired": "integer",
    "offer_in_time": "integer",
    "response_hours": "numeric",
    "registration_count": "integer",
    "registration_approved": "integer",
    "registration_flagged": "integer",
}
# kinds of fact rows; part of the row id, which must be unique
KIND = {
    "lead": 1,
    "converted": 2,
    "won": 3,
    "lost": 4,
    "cost": 5,
    "certification": 6,
    "csat": 7,
    "psat": 8,
    "offer": 9,
    "registration": 10,
}


class PrmPartnerPerformanceReport(models.Model):
    """Partner performance: one row per fact (lead received, lead converted, deal
    won or lost, cost, certification obtained, satisfaction answer, partner
    feedback, lead offer, deal registration) of a membership, dated by the fact's
    own date. Pivot and graph group these rows; every rate is computed as a ratio
    of sums at each grouping level (see ``_read_group_select``), never as the
    average of row ratios."""

    _name = "prm.partner.performance.report"
    _description = "Partner Performance Analysis"
    _auto = False
    _order = "date desc, id desc"
    _rec_name = "membership_id"
    # flushed before the report is queried (offers and registrations are added
    # by ``_table_query`` when installed, see ``_flush_search``)
    _depends = {
        "crm.lead": [
            "active",
            "create_date",
            "date_closed",
            "date_conversion",
            "expected_revenue",
            "partner_assigned_id",
            "partner_id",
            "probability",
            "prm_program_id",
            "stage_id",
            "type",
        ],
        "crm.stage": ["is_won"],
        "prm.membership": [
            "company_id",
            "partner_id",
            "program_id",
            "tier_id",
            "user_id",
        ],
        "prm.tier": ["commission_percent"],
        "prm.partner.cost": ["amount", "cost_type", "date", "membership_id"],
        "prm.partner.certification": [
            "commercial_partner_id",
            "date_obtained",
            "partner_id",
        ],
        "prm.lead.satisfaction": [
            "date_answered",
            "partner_id",
            "program_id",
            "score",
            "state",
        ],
        "prm.partner.feedback": [
            "date_answered",
            "membership_id",
            "recommend_score",
            "satisfaction_score",
            "state",
        ],
        "res.partner": ["commercial_partner_id"],
    }

    # ---- dimensions ----
    date = fields.Date(readonly=True)
    kind = fields.Selection(
        [
            ("lead", "Lead received"),
            ("converted", "Lead converted"),
            ("won", "Deal won"),
            ("lost", "Deal lost"),
            ("cost", "Cost"),
            ("certification", "Certification obtained"),
            ("csat", "Customer satisfaction"),
            ("psat", "Partner feedback"),
            ("offer", "Lead offer"),
            ("registration", "Deal registration"),
        ],
        string="Fact",
        readonly=True,
    )
    membership_id = fields.Many2one("prm.membership", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Partner company", readonly=True)
    program_id = fields.Many2one("prm.program", readonly=True)
    tier_id = fields.Many2one("prm.tier", readonly=True)
    user_id = fields.Many2one("res.users", string="Partner manager", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    lead_id = fields.Many2one("crm.lead", string="Lead or deal", readonly=True)

    # ---- counts and sums ----
    lead_count = fields.Integer("Leads received", readonly=True)
    converted_count = fields.Integer("Leads converted", readonly=True)
    won_count = fields.Integer("Won deals", readonly=True)
    lost_count = fields.Integer("Lost deals", readonly=True)
    won_revenue = fields.Monetary(readonly=True)
    won_revenue_registered = fields.Monetary(
        "Won revenue (partner-registered)", readonly=True
    )
    won_revenue_assigned = fields.Monetary(
        "Won revenue (company-assigned)", readonly=True
    )
    cycle_days = fields.Float("Sales cycle days (sum)", readonly=True)
    new_customer_count = fields.Integer("New customers", readonly=True)
    commission_amount = fields.Monetary("Commissions", readonly=True)
    cost_mdf = fields.Monetary("Market development funds", readonly=True)
    cost_fee = fields.Monetary("Program costs", readonly=True)
    cost_other = fields.Monetary("Other costs", readonly=True)
    partner_costs = fields.Monetary(
        "Partner costs", readonly=True, help="Commissions + funds + program + other."
    )
    certified_people = fields.Integer(
        "Certified people",
        readonly=True,
        aggregator="count_distinct",
        help="Distinct people who obtained a certification in the period.",
    )
    csat_count = fields.Integer("Satisfaction answers", readonly=True)
    csat_sum = fields.Integer("Satisfaction score (sum)", readonly=True)
    csat_promoters = fields.Integer("Promoters", readonly=True)
    csat_detractors = fields.Integer("Detractors", readonly=True)
    psat_count = fields.Integer("Partner feedback answers", readonly=True)
    psat_sum = fields.Integer("Partner satisfaction (sum)", readonly=True)
    psat_promoters = fields.Integer("Partner promoters", readonly=True)
    psat_detractors = fields.Integer("Partner detractors", readonly=True)
    offer_count = fields.Integer("Offers made", readonly=True)
    offer_accepted = fields.Integer("Offers accepted", readonly=True)
    offer_declined = fields.Integer("Offers declined", readonly=True)
    offer_expired = fields.Integer("Offers expired", readonly=True)
    offer_in_time = fields.Integer("Offers answered in time", readonly=True)
    response_hours = fields.Float("Response hours (sum)", readonly=True)
    registration_count = fields.Integer("Registrations submitted", readonly=True)
    registration_approved = fields.Integer("Registrations approved", readonly=True)
    registration_flagged = fields.Integer("Registrations flagged", readonly=True)

    # ---- rates: ratio of sums, see RATIOS and _read_group_select ----
    acceptance_rate = fields.Float("Acceptance rate (%)", readonly=True)
    sla_compliance = fields.Float("SLA compliance (%)", readonly=True)
    response_hours_median = fields.Float(
        "Median response hours", readonly=True, aggregator="max"
    )
    conversion_rate = fields.Float("Conversion rate (%)", readonly=True)
    win_rate = fields.Float("Win rate (%)", readonly=True)
    avg_deal_size = fields.Monetary("Average deal size", readonly=True)
    sales_cycle_days = fields.Float("Sales cycle (days)", readonly=True)
    registration_approval_rate = fields.Float(
        "Registration approval rate (%)", readonly=True
    )
    registration_conflict_rate = fields.Float(
        "Registration conflict rate (%)", readonly=True
    )
    csat = fields.Float("CSAT", readonly=True)
    nps = fields.Float("NPS", readonly=True)
    psat = fields.Float("PSAT", readonly=True)
    partner_nps = fields.Float("Partner NPS", readonly=True)
    cac = fields.Monetary("Channel CAC", readonly=True)
    roi = fields.Float("ROI (%)", readonly=True)

    # ------------------------------------------------------------------
    # AGGREGATION
    # ------------------------------------------------------------------
    def _read_group_select(self, aggregate_spec, query):
        """Rates are ratios of sums at every grouping level; the median response
        time is the median of the grouped offers. An empty denominator gives NULL
        (shown empty), never zero."""
        fname = aggregate_spec.split(":")[0]
        if fname in RATIOS:
            return self._ratio_sql(fname, agg=True, table=self._table)
        if fname == "response_hours_median":
            return SQL(
                "PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY %s)",
                SQL.identifier(self._table, "response_hours"),
            )
        return super()._read_group_select(aggregate_spec, query)

    @api.model
    def _prm_rate_fields(self):
        """Fields whose empty value means "not measurable" rather than zero."""
        return set(RATIOS) | {"response_hours_median"}

    @api.model
    def _ratio_sql(self, fname, agg=False, table=None):
        """SQL of the rate ``fname``: over the grouped rows when ``agg``, else over
        one row. NULL when the denominator is zero or empty."""
        added, subtracted, denominator, factor = RATIOS[fname]

        def total(columns):
            terms = []
            for column in columns:
                term = (
                    SQL.identifier(table, column) if table else SQL.identifier(column)
                )
                if agg:
                    term = SQL("SUM(%s)", term)
                terms.append(SQL("COALESCE(%s, 0)", term))
            return SQL(" + ").join(terms) if terms else SQL("0")

        return SQL(
            "((%s) - (%s))::float * %s / NULLIF(%s, 0)",
            total(added),
            total(subtracted),
            factor,
            total(denominator),
        )

    # ------------------------------------------------------------------
    # QUERY
    # ------------------------------------------------------------------
    @property
    def _table_query(self):
        parts = [
            self._query_leads(),
            self._query_costs(),
            self._query_certifications(),
            self._query_satisfaction(),
            self._query_feedback(),
            self._query_offers(),
            self._query_registrations(),
        ]
        facts = SQL(" UNION ALL ").join(parts)
        rates = SQL(", ").join(
            SQL("%s AS %s", self._ratio_sql(fname), SQL.identifier(fname))
            for fname in RATIOS
        )
        return SQL(
            """
            SELECT f.*, f.response_hours AS response_hours_median, %(rates)s
              FROM (%(facts)s) f
            """,
            rates=rates,
            facts=facts,
        )

    @api.model
    def _fact_select(self, kind, source_id, date, values):
        """The SELECT list of one kind of facts: the common dimensions from the
        membership ``m`` and the tier ``t``, then every measure of ``SUMS``, taken
        from ``values`` or NULL."""
        measures = [
            SQL(
                "%s AS %s",
                values.get(fname, SQL("NULL::%s", SQL(sql_type))),
                SQL.identifier(fname),
            )
            for fname, sql_type in SUMS.items()
        ]
        return SQL(
            """
            (%(source)s::bigint * 16 + %(kind_code)s) * 16777216 + m.id AS id,
            %(kind)s AS kind,
            (%(date)s)::date AS date,
            m.id AS membership_id,
            m.partner_id AS partner_id,
            m.program_id AS program_id,
            m.tier_id AS tier_id,
            m.user_id AS user_id,
            m.company_id AS company_id,
            COALESCE(mc.currency_id, %(currency)s) AS currency_id,
            %(lead)s AS lead_id,
            %(measures)s
            """,
            source=source_id,
            kind_code=KIND[kind],
            kind=kind,
            date=date,
            currency=self.env.company.currency_id.id,
            lead=values.get("lead_id", SQL("NULL::integer")),
            measures=SQL(", ").join(measures),
        )

    @api.model
    def _flush_marks(self, model_name, field_names):
        """Empty SQL telling the ORM to flush these fields before the query, for
        the optional models that ``_depends`` cannot name."""
        Model = self.env[model_name]
        return SQL().join(
            SQL(to_flush=Model._fields[fname])
            for fname in field_names
            if fname in Model._fields
        )

    @api.model
    def _membership_join(self):
        return SQL(
            """
            LEFT JOIN prm_tier t ON t.id = m.tier_id
            LEFT JOIN res_company mc ON mc.id = m.company_id
            """
        )

    @api.model
    def _lead_membership_join(self):
        """A lead counts for the memberships of its assigned partner in the
        lead's program, or in every program of the partner when it has none."""
        return SQL(
            """
            JOIN prm_membership m
              ON m.partner_id = l.partner_assigned_id
             AND (l.prm_program_id IS NULL OR l.prm_program_id = m.program_id)
            %s
            """,
            self._membership_join(),
        )

    @api.model
    def _sql_commission_percent(self):
        """SQL expression of the commission % of membership ``m``: its stored
        ``effective_commission_percent`` (agreement, else tier). Same rule as
        ``prm.membership._effective_commission_rates``."""
        return SQL("COALESCE(m.effective_commission_percent, 0)")

    @api.model
    def _sql_origin_revenue(self):
        """(registered, assigned) won revenue expressions, by the lead's origin."""
        return (
            SQL(
                "CASE WHEN l.prm_origin = 'registered' "
                "THEN COALESCE(l.expected_revenue, 0) ELSE 0 END%s",
                self._flush_marks("crm.lead", ["prm_origin"]),
            ),
            SQL(
                "CASE WHEN l.prm_origin = 'registered' "
                "THEN 0 ELSE COALESCE(l.expected_revenue, 0) END"
            ),
        )

    @api.model
    def _query_leads(self):
        registered, assigned = self._sql_origin_revenue()
        revenue = SQL("COALESCE(l.expected_revenue, 0)")
        received = self._fact_select(
            "lead",
            SQL("l.id"),
            SQL("l.create_date"),
            {"lead_id": SQL("l.id"), "lead_count": SQL("1")},
        )
        converted = self._fact_select(
            "converted",
            SQL("l.id"),
            SQL("l.date_conversion"),
            {"lead_id": SQL("l.id"), "converted_count": SQL("1")},
        )
        won = self._fact_select(
            "won",
            SQL("l.id"),
            SQL("l.date_closed"),
            {
                "lead_id": SQL("l.id"),
                "won_count": SQL("1"),
                "won_revenue": revenue,
                "won_revenue_registered": registered,
                "won_revenue_assigned": assigned,
                "cycle_days": SQL(
                    "GREATEST(EXTRACT(EPOCH FROM (l.date_closed - l.create_date)), 0)"
                    " / 86400.0"
                ),
                "new_customer_count": SQL("CASE WHEN nc.id IS NULL THEN 0 ELSE 1 END"),
                "commission_amount": SQL(
                    "%s * %s / 100.0", revenue, self._sql_commission_percent()
                ),
                "partner_costs": SQL(
                    "%s * %s / 100.0", revenue, self._sql_commission_percent()
                ),
            },
        )
        lost = self._fact_select(
            "lost",
            SQL("l.id"),
            SQL("COALESCE(l.date_closed, l.write_date)"),
            {"lead_id": SQL("l.id"), "lost_count": SQL("1")},
        )
        return SQL(
            """
            SELECT %(received)s FROM crm_lead l %(join)s
             WHERE l.partner_assigned_id IS NOT NULL
               AND (l.type = 'lead' OR l.date_conversion IS NOT NULL)
            UNION ALL
            SELECT %(converted)s FROM crm_lead l %(join)s
             WHERE l.partner_assigned_id IS NOT NULL
               AND l.date_conversion IS NOT NULL
            UNION ALL
            SELECT %(won)s FROM crm_lead l
              JOIN crm_stage s ON s.id = l.stage_id AND s.is_won
              %(join)s
              LEFT JOIN (%(first_wins)s) nc ON nc.id = l.id
             WHERE l.partner_assigned_id IS NOT NULL AND l.active
               AND l.date_closed IS NOT NULL
            UNION ALL
            SELECT %(lost)s FROM crm_lead l %(join)s
             WHERE l.partner_assigned_id IS NOT NULL
               AND NOT l.active AND l.probability = 0
            """,
            received=received,
            converted=converted,
            won=won,
            lost=lost,
            join=self._lead_membership_join(),
            first_wins=self._query_first_wins(),
        )

    @api.model
    def _query_first_wins(self):
        """Ids of the first won deal of each customer (commercial partner), over
        all won deals of the database, kept when a partner was assigned."""
        return SQL(
            """
            SELECT DISTINCT ON (cp.commercial_partner_id) fl.id,
                   fl.partner_assigned_id
              FROM crm_lead fl
              JOIN crm_stage fs ON fs.id = fl.stage_id AND fs.is_won
              JOIN res_partner cp ON cp.id = fl.partner_id
             WHERE fl.active AND fl.date_closed IS NOT NULL
             ORDER BY cp.commercial_partner_id, fl.date_closed, fl.id
            """
        )

    @api.model
    def _query_costs(self):
        def typed(cost_type):
            return SQL("CASE WHEN c.cost_type = %s THEN c.amount ELSE 0 END", cost_type)

        select = self._fact_select(
            "cost",
            SQL("c.id"),
            SQL("c.date"),
            {
                "cost_mdf": typed("mdf"),
                "cost_fee": typed("fee"),
                "cost_other": typed("other"),
                "partner_costs": SQL("c.amount"),
            },
        )
        return SQL(
            "SELECT %s FROM prm_partner_cost c "
            "JOIN prm_membership m ON m.id = c.membership_id %s",
            select,
            self._membership_join(),
        )

    @api.model
    def _query_certifications(self):
        select = self._fact_select(
            "certification",
            SQL("pc.id"),
            SQL("pc.date_obtained"),
            {"certified_people": SQL("pc.partner_id")},
        )
        return SQL(
            "SELECT %s FROM prm_partner_certification pc "
            "JOIN prm_membership m ON m.partner_id = pc.commercial_partner_id %s",
            select,
            self._membership_join(),
        )

    @api.model
    def _query_satisfaction(self):
        select = self._fact_select(
            "csat",
            SQL("s.id"),
            SQL("s.date_answered"),
            {
                "lead_id": SQL("s.lead_id"),
                "csat_count": SQL("1"),
                "csat_sum": SQL("s.score"),
                "csat_promoters": SQL(
                    "CASE WHEN s.score >= %s THEN 1 ELSE 0 END", PROMOTER_MIN
                ),
                "csat_detractors": SQL(
                    "CASE WHEN s.score <= %s THEN 1 ELSE 0 END", DETRACTOR_MAX
                ),
            },
        )
        return SQL(
            """
            SELECT %s FROM prm_lead_satisfaction s
              JOIN prm_membership m
                ON m.partner_id = s.partner_id
               AND (s.program_id IS NULL OR s.program_id = m.program_id)
              %s
             WHERE s.state = 'answered'
            """,
            select,
            self._membership_join(),
        )

    @api.model
    def _query_feedback(self):
        select = self._fact_select(
            "psat",
            SQL("fb.id"),
            SQL("fb.date_answered"),
            {
                "psat_count": SQL("1"),
                "psat_sum": SQL("fb.satisfaction_score"),
                "psat_promoters": SQL(
                    "CASE WHEN fb.recommend_score >= %s THEN 1 ELSE 0 END",
                    PROMOTER_MIN,
                ),
                "psat_detractors": SQL(
                    "CASE WHEN fb.recommend_score <= %s THEN 1 ELSE 0 END",
                    DETRACTOR_MAX,
                ),
            },
        )
        return SQL(
            "SELECT %s FROM prm_partner_feedback fb "
            "JOIN prm_membership m ON m.id = fb.membership_id %s "
            "WHERE fb.state = 'answered'",
            select,
            self._membership_join(),
        )

    @api.model
    def _query_offers(self):
        """Lead offers (``prm.lead.offer``)."""
        select = self._fact_select(
            "offer",
            SQL("o.id"),
            SQL("o.date_offered"),
            {
                "lead_id": SQL("o.lead_id"),
                "offer_count": SQL("1"),
                "offer_accepted": SQL(
                    "CASE WHEN o.state = 'accepted' THEN 1 ELSE 0 END"
                ),
                "offer_declined": SQL(
                    "CASE WHEN o.state = 'declined' THEN 1 ELSE 0 END"
                ),
                "offer_expired": SQL("CASE WHEN o.state = 'expired' THEN 1 ELSE 0 END"),
                "offer_in_time": SQL(
                    "CASE WHEN o.date_answered IS NOT NULL "
                    "AND o.state IN ('accepted', 'declined') "
                    "AND (o.date_deadline IS NULL "
                    "OR o.date_answered <= o.date_deadline) "
                    "THEN 1 ELSE 0 END"
                ),
                "response_hours": SQL(
                    "EXTRACT(EPOCH FROM (o.date_answered - o.date_offered)) / 3600.0"
                ),
            },
        )
        return SQL(
            """
            %s
            SELECT %s FROM prm_lead_offer o
              JOIN crm_lead l ON l.id = o.lead_id
              JOIN prm_membership m
                ON m.partner_id = o.partner_id
               AND (l.prm_program_id IS NULL OR l.prm_program_id = m.program_id)
              %s
             WHERE o.state != 'withdrawn'
            """,
            self._flush_marks(
                "prm.lead.offer",
                [
                    "lead_id",
                    "partner_id",
                    "date_offered",
                    "date_deadline",
                    "date_answered",
                    "state",
                ],
            ),
            select,
            self._membership_join(),
        )

    @api.model
    def _sql_registration_flag(self):
        """Whether registration ``r`` was flagged (it has conflicts)."""
        return SQL("COALESCE(r.conflict_count, 0) > 0")

    @api.model
    def _query_registrations(self):
        """Deal registrations (``prm.deal.registration``)."""
        flag = self._sql_registration_flag()
        select = self._fact_select(
            "registration",
            SQL("r.id"),
            SQL("r.create_date"),
            {
                "registration_count": SQL("1"),
                "registration_approved": SQL(
                    "CASE WHEN r.state = 'approved' THEN 1 ELSE 0 END"
                ),
                "registration_flagged": SQL("CASE WHEN %s THEN 1 ELSE 0 END", flag),
            },
        )
        return SQL(
            "%s SELECT %s FROM prm_deal_registration r "
            "JOIN prm_membership m ON m.partner_id = r.partner_id %s",
            self._flush_marks(
                "prm.deal.registration",
                ["partner_id", "state", "conflict_count"],
            ),
            select,
            self._membership_join(),
        )
