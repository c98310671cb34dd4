from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from .prm_assignment_rule import WIN_RATE_MONTHS, PrmLeadLoad


class PrmMembership(models.Model):
    """Lead capacity of a membership: how many leads the partner can work at
    once in the program, and how many it may receive per month."""

    _inherit = "prm.membership"

    lead_capacity = fields.Integer(
        "Lead capacity",
        default=10,
        index=True,
        tracking=True,
        help="Maximum of pending offers plus open assigned leads at any time; "
        "0 means the partner receives no leads.",
    )
    lead_monthly_quota = fields.Integer(
        "Monthly lead quota",
        tracking=True,
        help="Maximum of leads offered per calendar month (pending and accepted "
        "offers count); 0 means no monthly limit.",
    )
    lead_pending_count = fields.Integer("Pending offers", compute="_compute_lead_load")
    lead_open_count = fields.Integer(
        "Open assigned leads", compute="_compute_lead_load"
    )
    lead_load = fields.Integer(
        compute="_compute_lead_load",
        help="Pending offers plus open assigned leads.",
    )
    lead_month_count = fields.Integer("Leads this month", compute="_compute_lead_load")
    lead_load_percent = fields.Float("Load (%)", compute="_compute_lead_load")

    _sql_constraints = [
        (
            "lead_capacity_positive",
            "CHECK(lead_capacity >= 0 AND lead_monthly_quota >= 0)",
            "Lead capacity and monthly quota cannot be negative.",
        ),
    ]

    @api.constrains("lead_capacity", "lead_monthly_quota")
    def _check_lead_capacity(self):
        for membership in self:
            if membership.lead_capacity < 0 or membership.lead_monthly_quota < 0:
                raise ValidationError(
                    self.env._(
                        "%(membership)s: lead capacity and monthly quota cannot be "
                        "negative.",
                        membership=membership.display_name,
                    )
                )

    @api.depends("lead_capacity", "lead_monthly_quota")
    def _compute_lead_load(self):
        loads = self.filtered("id").sudo()._prm_lead_load()
        for membership in self:
            load = loads.get(membership.id) or PrmLeadLoad(0, 0)
            membership.lead_load = load.load
            membership.lead_pending_count = load.pending
            membership.lead_open_count = load.load - load.pending
            membership.lead_month_count = load.month
            membership.lead_load_percent = (
                100.0 * load.load / membership.lead_capacity
                if membership.lead_capacity
                else 0.0
            )

    def _prm_lock_for_assignment(self):
        """Lock these memberships for a distribution run; rows another worker
        holds are skipped (``FOR NO KEY UPDATE SKIP LOCKED``), so two workers
        never count on the same remaining capacity.

        :return: the memberships locked by this transaction
        """
        if not self:
            return self
        self.flush_model(["lead_capacity", "lead_monthly_quota"])
        self.env.cr.execute(
            SQL(
                "SELECT id FROM prm_membership WHERE id IN %s ORDER BY id "
                "FOR NO KEY UPDATE SKIP LOCKED",
                tuple(self.ids),
            )
        )
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    def _prm_lead_load(self):
        """Load of each membership: three grouped queries whatever their number.

        A lead counts for a membership when it is open (active, probability below
        100), assigned to the partner, and in the membership's program or in no
        program.

        :return: ``{membership_id: PrmLeadLoad}``
        """
        if not self:
            return {}
        Offer = self.env["prm.lead.offer"].sudo()
        pending = dict(
            (membership.id, count)
            for membership, count in Offer._read_group(
                [("membership_id", "in", self.ids), ("state", "=", "pending")],
                ["membership_id"],
                ["__count"],
            )
        )
        first_day = fields.Datetime.to_datetime(
            fields.Date.context_today(self) + relativedelta(day=1)
        )
        month = dict(
            (membership.id, count)
            for membership, count in Offer._read_group(
                [
                    ("membership_id", "in", self.ids),
                    ("state", "in", ["pending", "accepted"]),
                    ("date_offered", ">=", first_day),
                ],
                ["membership_id"],
                ["__count"],
            )
        )
        open_leads = {}
        for partner, program, count in (
            self.env["crm.lead"]
            .sudo()
            ._read_group(
                [
                    ("partner_assigned_id", "in", self.partner_id.ids),
                    ("probability", "<", 100),
                ],
                ["partner_assigned_id", "prm_program_id"],
                ["__count"],
            )
        ):
            open_leads[partner.id, program.id] = count
        loads = {}
        for membership in self:
            partner_id = membership.partner_id.id
            opened = open_leads.get((partner_id, membership.program_id.id), 0)
            opened += open_leads.get((partner_id, False), 0)
            waiting = pending.get(membership.id, 0)
            load = PrmLeadLoad(
                membership.lead_capacity,
                membership.lead_monthly_quota,
                load=waiting + opened,
                month=month.get(membership.id, 0),
            )
            load.pending = waiting
            loads[membership.id] = load
        return loads

    def _prm_last_offer_dates(self):
        """Date of the last offer of each membership (round-robin order)."""
        return {
            membership.id: date
            for membership, date in self.env["prm.lead.offer"]
            .sudo()
            ._read_group(
                [("membership_id", "in", self.ids)],
                ["membership_id"],
                ["date_offered:max"],
            )
        }

    def _prm_win_rates(self, today):
        """Win rate of each partner over the last 12 months: won / (won + lost)
        among its assigned leads closed in that window (lost leads are archived).

        :return: ``{partner_id: float}``
        """
        date_from = fields.Datetime.to_datetime(
            today - relativedelta(months=WIN_RATE_MONTHS)
        )
        Lead = self.env["crm.lead"].sudo().with_context(active_test=False)
        won, lost = {}, {}
        for partner, active, count in Lead._read_group(
            [
                ("partner_assigned_id", "in", self.partner_id.ids),
                "|",
                "&",
                ("probability", "=", 100),
                ("date_closed", ">=", date_from),
                "&",
                ("active", "=", False),
                ("write_date", ">=", date_from),
            ],
            ["partner_assigned_id", "active"],
            ["__count"],
        ):
            if active:
                won[partner.id] = won.get(partner.id, 0) + count
            elif not active:
                lost[partner.id] = lost.get(partner.id, 0) + count
        return {
            partner_id: won.get(partner_id, 0)
            / ((won.get(partner_id, 0) + lost.get(partner_id, 0)) or 1)
            for partner_id in set(won) | set(lost)
        }

    def action_view_lead_offers(self):
        self.ensure_one()
        return self.env["prm.lead.offer"]._action_view(
            [("membership_id", "=", self.id)]
        )
