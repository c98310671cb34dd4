from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL


class PrmAgreementGoal(models.Model):
    """A measurable goal of an agreement over a period inside the agreement; the
    achieved value is measured from live CRM data whenever it is read."""

    _name = "prm.agreement.goal"
    _description = "Partnership Agreement Goal"
    _order = "agreement_id, date_from, id"

    agreement_id = fields.Many2one(
        "prm.agreement", required=True, index=True, ondelete="cascade"
    )
    partner_id = fields.Many2one(related="agreement_id.partner_id")
    company_id = fields.Many2one(
        related="agreement_id.company_id", store=True, index=True, precompute=True
    )
    currency_id = fields.Many2one(related="agreement_id.currency_id")
    name = fields.Char("Description")
    measure = fields.Selection(
        [
            ("won_revenue", "Won revenue"),
            ("won_deals", "Won deals"),
            ("new_customers", "New customers"),
            ("certified_people", "Certified people"),
        ],
        required=True,
        default="won_revenue",
    )
    target = fields.Float(required=True, default=0.0)
    date_from = fields.Date(
        "From",
        compute="_compute_dates",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
    )
    date_to = fields.Date(
        "To",
        compute="_compute_dates",
        store=True,
        readonly=False,
        precompute=True,
        required=True,
    )
    achieved = fields.Float(compute="_compute_achieved")
    progress = fields.Float("Progress (%)", compute="_compute_achieved")

    @api.depends("agreement_id.date_start", "agreement_id.date_end")
    def _compute_dates(self):
        for goal in self:
            goal.date_from = goal.date_from or goal.agreement_id.date_start
            goal.date_to = goal.date_to or goal.agreement_id.date_end

    @api.depends_context("uid")
    def _compute_achieved(self):
        """Measure every goal of ``self`` in one SQL query (see ``_measure_goals``)."""
        achieved = self.filtered("id")._measure_goals()
        for goal in self:
            value = achieved.get(goal.id, 0.0)
            goal.achieved = value
            goal.progress = value * 100.0 / goal.target if goal.target else 0.0

    @api.constrains("date_from", "date_to", "target", "agreement_id")
    def _check_goal(self):
        for goal in self:
            agreement = goal.agreement_id
            if goal.target < 0:
                raise ValidationError(
                    self.env._(
                        "Agreement %(agreement)s: a goal target cannot be negative.",
                        agreement=agreement.display_name,
                    )
                )
            if (
                goal.date_to < goal.date_from
                or goal.date_from < agreement.date_start
                or goal.date_to > agreement.date_end
            ):
                raise ValidationError(
                    self.env._(
                        "Agreement %(agreement)s: the period of a goal must lie "
                        "inside the agreement (%(start)s - %(end)s) and end after "
                        "it starts.",
                        agreement=agreement.display_name,
                        start=agreement.date_start,
                        end=agreement.date_end,
                    )
                )

    # ------------------------------------------------------------------
    # MEASURE
    # ------------------------------------------------------------------
    @api.model
    def _won_lead_base_domain(self):
        """The won leads, as ``prm.membership._won_lead_domain`` defines them (active,
        in a won stage), for every partner and date: the periods are applied in
        SQL, per goal."""
        return [
            ("active", "=", True),
            ("stage_id.is_won", "=", True),
            ("date_closed", "!=", False),
        ]

    def _measure_goals(self):
        """Achieved value of each goal, all goals in ONE query.

        - won revenue / won deals: sum of expected revenue / count of the won leads
          assigned to the agreement's partner (``partner_assigned_id``), closed
          within the goal period, whose partner program is empty or the agreement's;
        - new customers: distinct customers (commercial partner of the lead's
          customer) whose first won deal in the company (lead company empty or the
          agreement's) is such a lead, closed within the period;
        - certified people: distinct people of the partner company holding a
          certification that is not expired.

        :return: ``{goal_id: value}``
        """
        if not self:
            return {}
        self.env["crm.lead"].flush_model()
        self.env["crm.stage"].flush_model(["is_won"])
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        self.env["prm.partner.certification"].flush_model()
        won = (
            self.env["crm.lead"]
            .sudo()
            ._search(self._won_lead_base_domain())
            .select(
                SQL(
                    '"crm_lead".id, "crm_lead".partner_assigned_id, '
                    '"crm_lead".expected_revenue, "crm_lead".date_closed, '
                    '"crm_lead".company_id, "crm_lead".prm_program_id, '
                    '"crm_lead".partner_id'
                )
            )
        )
        goals = SQL(", ").join(
            SQL(
                "(%s::int, %s::int, %s::int, %s::int, %s::varchar, %s::timestamp, "
                "%s::timestamp)",
                goal.id,
                goal.agreement_id.partner_id.id or None,
                goal.agreement_id.program_id.id or None,
                goal.agreement_id.company_id.id or None,
                goal.measure,
                fields.Datetime.to_datetime(goal.date_from),
                fields.Datetime.to_datetime(goal.date_to + timedelta(days=1)),
            )
            for goal in self
        )
        query = SQL(
            """
            WITH goal(id, partner_id, program_id, company_id, measure, date_from,
                      date_to) AS (VALUES %(goals)s),
            won AS (%(won)s),
            first_won AS (
                SELECT DISTINCT ON (customer.commercial_partner_id, won.company_id)
                       customer.commercial_partner_id AS customer_id,
                       won.company_id, won.partner_assigned_id, won.date_closed,
                       won.prm_program_id
                  FROM won
                  JOIN res_partner customer ON customer.id = won.partner_id
              ORDER BY customer.commercial_partner_id, won.company_id,
                       won.date_closed, won.id
            )
            SELECT goal.id,
                   CASE goal.measure
                   WHEN 'won_revenue' THEN (
                       SELECT COALESCE(SUM(won.expected_revenue), 0) FROM won
                        WHERE won.partner_assigned_id = goal.partner_id
                          AND won.date_closed >= goal.date_from
                          AND won.date_closed < goal.date_to
                          AND (won.prm_program_id IS NULL
                               OR won.prm_program_id = goal.program_id))
                   WHEN 'won_deals' THEN (
                       SELECT COUNT(*) FROM won
                        WHERE won.partner_assigned_id = goal.partner_id
                          AND won.date_closed >= goal.date_from
                          AND won.date_closed < goal.date_to
                          AND (won.prm_program_id IS NULL
                               OR won.prm_program_id = goal.program_id))
                   WHEN 'new_customers' THEN (
                       SELECT COUNT(DISTINCT first_won.customer_id) FROM first_won
                        WHERE first_won.partner_assigned_id = goal.partner_id
                          AND first_won.date_closed >= goal.date_from
                          AND first_won.date_closed < goal.date_to
                          AND (first_won.company_id IS NULL
                               OR first_won.company_id = goal.company_id)
                          AND (first_won.prm_program_id IS NULL
                               OR first_won.prm_program_id = goal.program_id))
                   WHEN 'certified_people' THEN (
                       SELECT COUNT(DISTINCT cert.partner_id)
                         FROM prm_partner_certification cert
                        WHERE cert.commercial_partner_id = goal.partner_id
                          AND cert.state != 'expired')
                   END
              FROM goal
            """,
            goals=goals,
            won=won,
        )
        self.env.cr.execute(query)
        return {goal_id: value or 0.0 for goal_id, value in self.env.cr.fetchall()}
