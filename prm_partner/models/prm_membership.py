import statistics
import threading
from collections import defaultdict

from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL, date_utils, format_amount
from odoo.tools.translate import LazyTranslate

from .prm_assignment_rule import WIN_RATE_MONTHS, PrmLeadLoad

EVALUATION_CHUNK = 1000
STATE_DATE_FIELD = {
    "onboarding": "date_onboarding",
    "active": "date_start",
    "suspended": "date_suspended",
    "ended": "date_end",
}

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
# the median of the tier needs this many OTHER memberships with a value, so
# that no peer's figure can be inferred; peers' costs are never shown
MEDIAN_MIN_PEERS = 5
NO_MEDIAN_KPIS = frozenset({"partner_costs", "cac", "roi"})


class PrmMembership(models.Model):
    """One partner company in one program, with its tier."""

    _name = "prm.membership"
    _description = "Partner Program Membership"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "program_id, tier_sequence desc, partner_id, id"
    _rec_names_search = ["partner_id", "program_id"]

    partner_id = fields.Many2one(
        "res.partner",
        string="Partner company",
        required=True,
        index=True,
        ondelete="restrict",
        tracking=True,
        domain="[('is_company', '=', True)]",
    )
    program_id = fields.Many2one(
        "prm.program", required=True, index=True, ondelete="restrict", tracking=True
    )
    program_type = fields.Selection(related="program_id.program_type", store=True)
    company_id = fields.Many2one(
        related="program_id.company_id", store=True, index=True, precompute=True
    )
    currency_id = fields.Many2one(related="program_id.currency_id")
    state = fields.Selection(
        [
            ("applicant", "Applicant"),
            ("onboarding", "Onboarding"),
            ("active", "Active"),
            ("suspended", "Suspended"),
            ("ended", "Ended"),
        ],
        default="applicant",
        required=True,
        index=True,
        tracking=True,
        group_expand="_group_expand_states",
    )
    date_onboarding = fields.Date("Onboarding since", tracking=True, copy=False)
    date_start = fields.Date("Active since", tracking=True, copy=False)
    date_suspended = fields.Date("Suspended on", tracking=True, copy=False)
    date_end = fields.Date("Ended on", tracking=True, copy=False)
    tier_id = fields.Many2one(
        "prm.tier",
        index="btree_not_null",
        tracking=True,
        domain="[('program_id', '=', program_id)]",
        ondelete="restrict",
    )
    tier_sequence = fields.Integer(related="tier_id.sequence", store=True)
    user_id = fields.Many2one(
        "res.users",
        string="Partner manager",
        index="btree_not_null",
        tracking=True,
        default=lambda self: self.env.user,
        domain="[('share', '=', False)]",
    )
    date_review_next = fields.Date(
        "Next review",
        index="btree_not_null",
        tracking=True,
        groups="prm_partner.group_prm_user",
    )
    tier_locked = fields.Boolean(
        "Tier locked",
        index=True,
        tracking=True,
        help="A locked tier is kept as set by hand: automatic evaluation skips it.",
    )
    tier_lock_reason = fields.Text(tracking=True, groups="prm_partner.group_prm_user")
    at_risk = fields.Boolean(
        "At risk",
        index=True,
        readonly=True,
        help="The partner no longer meets its tier and will be demoted on the "
        "demotion date unless it recovers.",
    )
    demotion_date = fields.Date(readonly=True, tracking=True)
    demotion_tier_id = fields.Many2one("prm.tier", readonly=True)
    date_evaluated = fields.Date("Last evaluation", readonly=True)
    tier_history_ids = fields.One2many(
        "prm.tier.history", "membership_id", groups="prm_partner.group_prm_user"
    )
    tier_history_count = fields.Integer(
        compute="_compute_tier_history_count", groups="prm_partner.group_prm_user"
    )
    # benefits of the tier
    discount_percent = fields.Float(related="tier_id.discount_percent")
    commission_percent = fields.Float(related="tier_id.commission_percent")
    lead_weight = fields.Integer(
        related="tier_id.lead_weight", groups="prm_partner.group_prm_user"
    )
    mdf_budget = fields.Monetary(related="tier_id.mdf_budget")
    benefit_text = fields.Html(related="tier_id.benefit_text")
    # live measures and progress (non stored; computed for all records at once)
    won_revenue = fields.Monetary(compute="_compute_progress")
    won_deals = fields.Integer(compute="_compute_progress")
    certified_people = fields.Integer(compute="_compute_progress")
    next_tier_id = fields.Many2one("prm.tier", compute="_compute_progress")
    next_tier_progress = fields.Html(compute="_compute_progress")
    color = fields.Integer(related="tier_id.color")
    # agreements: their commission / discount, when set, override the tier's
    agreement_ids = fields.One2many("prm.agreement", "membership_id")
    agreement_count = fields.Integer(compute="_compute_agreement_count")
    effective_commission_percent = fields.Float(
        "Effective commission (%)",
        compute="_compute_effective_benefits",
        store=True,
        help="The commission of the active agreement that sets one, else the tier's.",
    )
    effective_discount_percent = fields.Float(
        "Effective discount (%)",
        compute="_compute_effective_benefits",
        store=True,
        help="The discount of the active agreement that sets one, else the tier's.",
    )
    effective_commission_agreement_id = fields.Many2one(
        "prm.agreement",
        string="Commission agreement",
        compute="_compute_effective_benefits",
        store=True,
        index="btree_not_null",
    )
    effective_discount_agreement_id = fields.Many2one(
        "prm.agreement",
        string="Discount agreement",
        compute="_compute_effective_benefits",
        store=True,
        index="btree_not_null",
    )
    effective_commission_source = fields.Char(
        "Commission from", compute="_compute_effective_sources"
    )
    effective_discount_source = fields.Char(
        "Discount from", compute="_compute_effective_sources"
    )

    _sql_constraints = [
        (
            "partner_program_unique",
            "UNIQUE(partner_id, program_id)",
            "This partner is already a member of this program.",
        ),
        (
            "lead_capacity_positive",
            "CHECK(lead_capacity >= 0 AND lead_monthly_quota >= 0)",
            "Lead capacity and monthly quota cannot be negative.",
        ),
    ]

    # ------------------------------------------------------------------
    # COMPUTE
    # ------------------------------------------------------------------
    @api.depends("partner_id", "program_id")
    def _compute_display_name(self):
        for membership in self:
            partner, program = membership.partner_id, membership.program_id
            membership.display_name = f"{partner.name or ''} - {program.name or ''}"

    def _compute_access_url(self):  # pylint: disable=missing-return
        super()._compute_access_url()
        for membership in self:
            membership.access_url = f"/my/memberships/{membership.id}"

    def _compute_tier_history_count(self):
        counts = dict(
            self.env["prm.tier.history"]._read_group(
                [("membership_id", "in", self.ids)], ["membership_id"], ["__count"]
            )
        )
        for membership in self:
            membership.tier_history_count = counts.get(membership, 0)

    def _compute_agreement_count(self):
        counts = dict(
            self.env["prm.agreement"]._read_group(
                [("membership_id", "in", self.ids)], ["membership_id"], ["__count"]
            )
        )
        for membership in self:
            membership.agreement_count = counts.get(membership, 0)

    @api.depends(
        "tier_id.commission_percent",
        "tier_id.discount_percent",
        "agreement_ids.state",
        "agreement_ids.date_start",
        "agreement_ids.override_commission",
        "agreement_ids.commission_percent",
        "agreement_ids.override_discount",
        "agreement_ids.discount_percent",
    )
    def _compute_effective_benefits(self):
        """Agreement over tier: among the active agreements of the membership, the
        latest started one that sets a commission (a discount) gives it; else the
        tier's benefit applies. Reads the agreements of all records at once."""
        for membership in self:
            tier = membership.sudo().tier_id
            active = (
                membership.sudo()
                .agreement_ids.filtered(lambda a: a.state == "active")
                .sorted(lambda a: (a.date_start, a._origin.id or 0), reverse=True)
            )
            commission = active.filtered("override_commission")[:1]
            discount = active.filtered("override_discount")[:1]
            membership.effective_commission_agreement_id = commission
            membership.effective_discount_agreement_id = discount
            membership.effective_commission_percent = (
                commission.commission_percent if commission else tier.commission_percent
            )
            membership.effective_discount_percent = (
                discount.discount_percent if discount else tier.discount_percent
            )

    @api.depends(
        "tier_id",
        "effective_commission_agreement_id",
        "effective_discount_agreement_id",
    )
    def _compute_effective_sources(self):
        for membership in self:
            tier = membership.sudo().tier_id
            tier_label = self.env._("Tier %(tier)s", tier=tier.name) if tier else False
            for agreement, field in (
                (
                    membership.sudo().effective_commission_agreement_id,
                    "effective_commission_source",
                ),
                (
                    membership.sudo().effective_discount_agreement_id,
                    "effective_discount_source",
                ),
            ):
                membership[field] = (
                    self.env._("Agreement %(reference)s", reference=agreement.name)
                    if agreement
                    else tier_label
                )

    def action_view_agreements(self):
        self._prm_check_internal()
        self.ensure_one()
        return self.env["ir.actions.act_window"]._prm_action(
            "prm_partner.prm_agreement_action",
            [("membership_id", "=", self.id)],
            {
                "default_partner_id": self.partner_id.id,
                "default_program_id": self.program_id.id,
            },
        )

    @api.depends("tier_id", "program_id")
    @api.depends_context("uid")
    def _compute_progress(self):
        """Live measures and the criteria of the next tier, for all records at once."""
        records = self.filtered("id")
        measures = records.sudo()._prm_measure(fields.Date.context_today(self))
        for membership in self:
            values_by_tier = measures.get(membership.id, {})
            tiers = membership.sudo().program_id.tier_ids.sorted("sequence")
            current = membership.sudo().tier_id
            next_tier = tiers.filtered(
                lambda t, c=current: not c or t.sequence > c.sequence
            )[:1]
            reference = next_tier or current or tiers[:1]
            values = values_by_tier.get(reference.id, {})
            membership.won_revenue = values.get("won_revenue", 0.0)
            membership.won_deals = values.get("won_deals", 0)
            membership.certified_people = values.get("certified_people", 0)
            membership.next_tier_id = next_tier
            membership.next_tier_progress = (
                next_tier and membership._progress_html(next_tier, values)
            ) or False

    def _group_expand_states(self, states, domain):
        return [key for key, _label in self._fields["state"].selection]

    # ------------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------------
    @api.constrains("partner_id")
    def _check_partner_company(self):
        for membership in self:
            if membership.partner_id != membership.partner_id.commercial_partner_id:
                raise ValidationError(
                    self.env._(
                        "%(partner)s is a contact of %(company)s: memberships are held "
                        "by the partner company.",
                        partner=membership.partner_id.display_name,
                        company=membership.partner_id.commercial_partner_id.display_name,
                    )
                )

    def _check_not_member_yet(self, pairs):
        """Refuse (partner id, program id) ``pairs`` already taken by another
        membership or repeated among themselves, before the database refuses them."""
        pairs = [
            (partner, program) for partner, program in pairs if partner and program
        ]
        if not pairs:
            return
        taken = {
            (partner.id, program.id)
            for partner, program in self.with_context(active_test=False)._read_group(
                [
                    ("partner_id", "in", [partner for partner, _program in pairs]),
                    ("program_id", "in", [program for _partner, program in pairs]),
                    ("id", "not in", self.ids),
                ],
                ["partner_id", "program_id"],
            )
        }
        seen = set()
        for pair in pairs:
            if pair in taken or pair in seen:
                partner = self.env["res.partner"].browse(pair[0])
                program = self.env["prm.program"].browse(pair[1])
                raise ValidationError(
                    self.env._(
                        "%(partner)s is already a member of the program %(program)s.",
                        partner=partner.display_name,
                        program=program.display_name,
                    )
                )
            seen.add(pair)

    @api.constrains("tier_locked", "tier_lock_reason")
    def _check_lock_reason(self):
        for membership in self:
            if (
                membership.tier_locked
                and not (membership.tier_lock_reason or "").strip()
            ):
                raise ValidationError(
                    self.env._(
                        "Give a reason to lock the tier of %(membership)s.",
                        membership=membership.display_name,
                    )
                )

    @api.constrains("tier_id", "program_id")
    def _check_tier_program(self):
        for membership in self:
            if (
                membership.tier_id
                and membership.tier_id.program_id != membership.program_id
            ):
                raise ValidationError(
                    self.env._(
                        "Tier %(tier)s belongs to another program than %(program)s.",
                        tier=membership.tier_id.name,
                        program=membership.program_id.name,
                    )
                )

    @api.constrains("date_start", "date_end")
    def _check_dates(self):
        for membership in self:
            if (
                membership.date_start
                and membership.date_end
                and membership.date_end < membership.date_start
            ):
                raise ValidationError(
                    self.env._("A membership cannot end before it starts.")
                )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        today = fields.Date.context_today(self)
        for vals in vals_list:
            date_field = STATE_DATE_FIELD.get(vals.get("state"))
            if date_field and not vals.get(date_field):
                vals[date_field] = today
        self._check_not_member_yet(
            [(vals.get("partner_id"), vals.get("program_id")) for vals in vals_list]
        )
        memberships = super().create(vals_list)
        entry = memberships.filtered(lambda m: not m.tier_id and m.program_id.tier_ids)
        for program, records in entry.grouped("program_id").items():
            records.tier_id = program.tier_ids.sorted("sequence")[:1]
        return memberships

    def write(self, vals):
        date_field = STATE_DATE_FIELD.get(vals.get("state"))
        if date_field and date_field not in vals:
            vals = dict(vals, **{date_field: fields.Date.context_today(self)})
        if "partner_id" in vals or "program_id" in vals:
            self._check_not_member_yet(
                [
                    (
                        vals.get("partner_id", membership.partner_id.id),
                        vals.get("program_id", membership.program_id.id),
                    )
                    for membership in self
                ]
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_active(self):
        if any(membership.state == "active" for membership in self):
            raise UserError(
                self.env._("An active membership cannot be deleted: end it instead.")
            )

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_set_onboarding(self):
        self._prm_check_internal()
        self.write({"state": "onboarding"})
        self._instantiate_onboarding()

    def action_activate(self):
        self._prm_check_internal()
        self.write({"state": "active", "date_end": False})

    def action_suspend(self):
        self._prm_check_internal()
        self.write({"state": "suspended"})

    def action_end(self):
        self._prm_check_internal()
        self.write({"state": "ended"})

    def action_unlock_tier(self):
        self._prm_check_internal()
        self.write({"tier_locked": False, "tier_lock_reason": False})

    def action_open_tier_lock(self):
        self._prm_check_internal()
        self.ensure_one()
        return {
            "name": self.env._("Set the tier by hand"),
            "type": "ir.actions.act_window",
            "res_model": "prm.membership.tier.lock",
            "view_mode": "form",
            "target": "new",
            "context": {"default_membership_id": self.id},
        }

    def action_view_tier_history(self):
        self._prm_check_internal()
        self.ensure_one()
        return self.env["ir.actions.act_window"]._prm_action(
            "prm_partner.prm_tier_history_action", [("membership_id", "=", self.id)]
        )

    def action_evaluate_tiers(self):
        """Button: evaluate these memberships now and report what changed."""
        self._prm_check_internal()
        result = self._evaluate_tiers()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": self.env._("Tier evaluation done"),
                "message": self.env._(
                    "%(evaluated)s evaluated: %(promoted)s promoted, %(demoted)s "
                    "demoted, %(at_risk)s newly at risk, %(recovered)s recovered.",
                    **{key: len(value) for key, value in result.items()},
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _set_tier_manually(self, tier, reason, lock=True):
        """Manual override: set ``tier``, lock it and record why."""
        self.ensure_one()
        if not (reason or "").strip():
            raise ValidationError(
                self.env._("Give a reason to change the tier by hand.")
            )
        old_tier = self.tier_id
        self.write(
            {
                "tier_id": tier.id,
                "tier_locked": lock,
                "tier_lock_reason": reason if lock else False,
                "at_risk": False,
                "demotion_date": False,
                "demotion_tier_id": False,
            }
        )
        # the history is an audit log written by the system, never by users
        self.env["prm.tier.history"].sudo().create(
            {
                "membership_id": self.id,
                "old_tier_id": old_tier.id,
                "new_tier_id": tier.id,
                "kind": "manual",
                "user_id": self.env.user.id,
                "reason": reason,
            }
        )

    # ------------------------------------------------------------------
    # MEASURES
    # ------------------------------------------------------------------
    @api.model
    def _won_lead_domain(self, partners, date_from):
        """The leads that count toward tiers: won (active, in a won stage), closed
        on or after ``date_from``, assigned to one of ``partners``."""
        return [
            ("partner_assigned_id", "in", partners.ids),
            ("active", "=", True),
            ("stage_id.is_won", "=", True),
            ("date_closed", ">=", fields.Datetime.to_datetime(date_from)),
        ]

    def _prm_measure(self, today):
        """Measure every criterion of every tier of the memberships' programs.

        Set-based: one grouped lead query per distinct trailing window, one grouped
        certification query, one partner search per tier with an extra domain.

        :return: ``{membership_id: {tier_id: {"won_revenue": float, "won_deals": int,
            "certified_people": int, "satisfaction": float or None,
            "domain_ok": bool}}}``
        """
        if not self:
            return {}
        partners = self.partner_id
        tiers = self.program_id.tier_ids
        Lead = self.env["crm.lead"].sudo()
        wins = {}
        for window in set(tiers.mapped("window_months")):
            date_from = today - relativedelta(months=window)
            rows = Lead._read_group(
                self._won_lead_domain(partners, date_from),
                ["partner_assigned_id", "prm_program_id"],
                ["expected_revenue:sum", "__count"],
            )
            for partner, program, revenue, count in rows:
                wins[window, partner.id, program.id] = (revenue, count)
        people = defaultdict(lambda: defaultdict(set))
        for company, certification, persons in (
            self.env["prm.partner.certification"]
            .sudo()
            ._read_group(
                [
                    ("commercial_partner_id", "in", partners.ids),
                    ("state", "!=", "expired"),
                ],
                ["commercial_partner_id", "certification_id"],
                ["partner_id:array_agg"],
            )
        ):
            people[company.id][certification.id].update(persons)
        domain_ok = {
            tier.id: set(
                self.env["res.partner"]
                .sudo()
                .with_context(active_test=False)
                ._search(
                    expression.AND(
                        [tier._partner_domain(), [("id", "in", partners.ids)]]
                    )
                )
            )
            for tier in tiers.filtered("partner_domain")
        }
        satisfaction = {
            tier.id: self._measure_satisfaction(
                today - relativedelta(months=tier.window_months)
            )
            for tier in tiers.filtered("min_satisfaction")
        }
        result = {}
        for membership in self:
            pid, program = membership.partner_id.id, membership.program_id
            by_tier = result[membership.id] = {}
            for tier in program.tier_ids:
                revenue = deals = 0
                for program_key in (program.id, False):
                    found = wins.get((tier.window_months, pid, program_key))
                    if found:
                        revenue += found[0]
                        deals += found[1]
                certs = tier.certification_ids.ids or people[pid].keys()
                persons = set().union(*(people[pid].get(c, ()) for c in certs))
                by_tier[tier.id] = {
                    "won_revenue": revenue,
                    "won_deals": deals,
                    "certified_people": len(persons),
                    "satisfaction": satisfaction.get(tier.id, {}).get(
                        membership.partner_id
                    ),
                    "domain_ok": tier.id not in domain_ok
                    or (pid in domain_ok[tier.id]),
                }
        return result

    @api.model
    def _tier_met(self, tier, values):
        """Whether the measured ``values`` meet every criterion of ``tier``."""
        satisfaction = values.get("satisfaction")
        return (
            values["won_revenue"] >= tier.min_won_revenue
            and values["won_deals"] >= tier.min_won_deals
            and values["certified_people"] >= tier.min_certified_people
            and (
                not tier.min_satisfaction
                or (satisfaction is not None and satisfaction >= tier.min_satisfaction)
            )
            and values["domain_ok"]
        )

    @api.model
    def _criteria_met(self, tier, values):
        """Return the list of (label, current, threshold, met) of ``tier``."""
        env = self.env
        rows = [
            (
                env._("Won revenue (%(months)s months)", months=tier.window_months),
                values.get("won_revenue", 0.0),
                tier.min_won_revenue,
                "amount",
            ),
            (
                env._("Won deals (%(months)s months)", months=tier.window_months),
                values.get("won_deals", 0),
                tier.min_won_deals,
                "int",
            ),
            (
                env._("Certified people"),
                values.get("certified_people", 0),
                tier.min_certified_people,
                "int",
            ),
        ]
        criteria = [
            (label, current, threshold, current >= threshold, kind)
            for label, current, threshold, kind in rows
        ]
        if tier.min_satisfaction:
            score = values.get("satisfaction")
            criteria.append(
                (
                    env._("Customer satisfaction"),
                    score or 0.0,
                    tier.min_satisfaction,
                    score is not None and score >= tier.min_satisfaction,
                    "float",
                )
            )
        if tier.partner_domain:
            ok = values.get("domain_ok", False)
            criteria.append((env._("Other conditions"), ok, True, ok, "bool"))
        return criteria

    def _progress_html(self, tier, values):
        self.ensure_one()
        lines = []
        for label, current, threshold, met, kind in self._criteria_met(tier, values):
            shown, target = current, threshold
            if kind == "amount":
                shown = format_amount(self.env, current, self.currency_id)
                target = format_amount(self.env, threshold, self.currency_id)
            elif kind == "bool":
                shown = self.env._("met") if met else self.env._("not met")
                target = self.env._("met")
            lines.append(
                Markup("<li class='%s'><span>%s</span>: <b>%s</b> / %s</li>")
                % ("text-success" if met else "text-muted", label, shown, target)
            )
        return Markup("<ul class='list-unstyled mb-0'>%s</ul>") % Markup("").join(lines)

    # ------------------------------------------------------------------
    # TIER EVALUATION
    # ------------------------------------------------------------------
    def _lock_for_evaluation(self):
        """Lock the evaluable memberships among ``self`` (active, tier not locked).

        Rows another transaction holds are skipped (``SKIP LOCKED``): two workers
        evaluating at once each work on their own rows, so they never write
        conflicting tiers or duplicate history lines.
        """
        if not self:
            return self
        self.flush_model()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM prm_membership WHERE id IN %s AND state = 'active' "
                "AND tier_locked IS NOT TRUE ORDER BY id FOR UPDATE SKIP LOCKED",
                tuple(self.ids),
            )
        )
        locked = self.browse([row[0] for row in self.env.cr.fetchall()])
        locked.invalidate_recordset()
        return locked

    def _evaluate_tiers(self, today=None):
        """Evaluate the tiers of these memberships.

        Each unlocked active membership gets the highest tier of its program whose
        criteria it meets (the entry tier when it meets none). A promotion applies at
        once. A demotion waits the program's grace period: the membership is flagged
        at risk with the demotion date and its partner manager gets an activity;
        when the date comes and the partner still falls short, the demotion applies.
        Every tier change is written to ``prm.tier.history`` and to the chatter.

        The work is set-based: queries do not grow with the number of memberships.

        :return: dict of recordsets ``evaluated``, ``promoted``, ``demoted``,
            ``at_risk`` (newly flagged) and ``recovered``.
        """
        today = today or fields.Date.context_today(self)
        memberships = self._lock_for_evaluation()
        outcome = {key: [] for key in ("promoted", "demoted", "at_risk", "recovered")}
        measures = memberships._prm_measure(today)
        tier_writes = defaultdict(list)  # new tier -> membership ids
        risk_writes = defaultdict(list)  # (demotion date, tier id) -> membership ids
        history_vals = []
        for membership in memberships:
            tiers = membership.program_id.tier_ids.sorted("sequence")
            if not tiers:
                continue
            values = measures[membership.id]
            target = next(
                (t for t in reversed(tiers) if self._tier_met(t, values[t.id])),
                tiers[0],
            )
            current = membership.tier_id
            if target == current:
                if membership.at_risk:
                    outcome["recovered"].append(membership.id)
                    risk_writes[False, False].append(membership.id)
                continue
            if not current or target.sequence > current.sequence:
                change = "promoted"
            else:
                date = membership.demotion_date or today + relativedelta(
                    days=membership.program_id.demotion_grace_days
                )
                if date > today:  # grace period: flag at risk, demote later
                    if not membership.at_risk:
                        outcome["at_risk"].append(membership.id)
                    risk_writes[date, target.id].append(membership.id)
                    continue
                change = "demoted"
            outcome[change].append(membership.id)
            tier_writes[target].append(membership.id)
            history_vals.append(
                membership._prepare_history_vals(
                    current, target, values[target.id], today
                )
            )
        result = {key: self.browse(ids) for key, ids in outcome.items()}
        result["evaluated"] = memberships
        self._apply_evaluation(tier_writes, risk_writes, history_vals, result, today)
        return result

    def _prepare_history_vals(self, old_tier, new_tier, values, today):
        self.ensure_one()
        return {
            "membership_id": self.id,
            "old_tier_id": old_tier.id,
            "new_tier_id": new_tier.id,
            "date": today,
            "kind": "automatic",
            "won_revenue": values["won_revenue"],
            "won_deals": values["won_deals"],
            "certified_people": values["certified_people"],
            "satisfaction": values.get("satisfaction") or 0.0,
        }

    def _apply_evaluation(self, tier_writes, risk_writes, history_vals, result, today):
        """Write the outcome in a bounded number of queries (one per target tier or
        demotion date, one batched create for history, messages and activities)."""
        quiet = self.with_context(tracking_disable=True)
        for tier, ids in tier_writes.items():
            quiet.browse(ids).write(
                {
                    "tier_id": tier.id,
                    "at_risk": False,
                    "demotion_date": False,
                    "demotion_tier_id": False,
                }
            )
        for (date, tier_id), ids in risk_writes.items():
            quiet.browse(ids).write(
                {
                    "at_risk": bool(date),
                    "demotion_date": date,
                    "demotion_tier_id": tier_id,
                }
            )
        result["evaluated"].with_env(quiet.env).write({"date_evaluated": today})
        histories = self.env["prm.tier.history"].sudo().create(history_vals)
        histories._post_to_chatter()
        result["at_risk"]._schedule_at_risk_activities()

    def _schedule_at_risk_activities(self):
        if not self:
            return
        model_id = self.env["ir.model"]._get_id(self._name)
        activity_type = self.env.ref("mail.mail_activity_data_todo")
        self.env["mail.activity"].sudo().with_context(
            mail_activity_quick_update=True
        ).create(
            [
                {
                    "res_model_id": model_id,
                    "res_id": membership.id,
                    "activity_type_id": activity_type.id,
                    "user_id": (
                        membership.user_id
                        or membership.program_id.user_id
                        or self.env.user
                    ).id,
                    "date_deadline": membership.demotion_date,
                    "summary": self.env._(
                        "%(partner)s falls short of tier %(tier)s: demotion to "
                        "%(lower)s on %(date)s",
                        partner=membership.partner_id.name,
                        tier=membership.tier_id.name,
                        lower=membership.demotion_tier_id.name,
                        date=membership.demotion_date,
                    ),
                }
                for membership in self
            ]
        )

    # ------------------------------------------------------------------
    # CRON
    # ------------------------------------------------------------------
    @api.model
    def _get_evaluable_domain(self):
        return [("state", "=", "active"), ("tier_locked", "=", False)]

    @api.model
    def _cron_evaluate_tiers(self):
        """Daily cron: evaluate all, committing between chunks (never in tests)."""
        testing = getattr(threading.current_thread(), "testing", False)
        return self._evaluate_all_tiers(auto_commit=not testing)

    @api.model
    def _evaluate_all_tiers(self, auto_commit=False):
        """Evaluate every active unlocked membership, by chunks of
        ``EVALUATION_CHUNK``, reporting progress to the running cron.

        :return: the number of memberships processed
        """
        ids = list(self._search(self._get_evaluable_domain(), order="id"))
        done = 0
        for start in range(0, len(ids), EVALUATION_CHUNK):
            # a fresh recordset per chunk (no prefetch across chunks), and a cache
            # emptied after each chunk, so every chunk costs the same
            self.browse(ids[start : start + EVALUATION_CHUNK])._evaluate_tiers()
            done = min(start + EVALUATION_CHUNK, len(ids))
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(ids) - done)
            if auto_commit:  # never in tests: see _cron_evaluate_tiers
                self.env.cr.commit()  # pylint: disable=invalid-commit
            else:
                self.env.flush_all()
            self.env.invalidate_all()
        return done

    # ------------------------------------------------------------------
    # ONBOARDING
    # ------------------------------------------------------------------
    onboarding_step_ids = fields.One2many(
        "prm.membership.onboarding.step", "membership_id"
    )
    onboarding_progress = fields.Float(
        "Onboarding progress (%)",
        compute="_compute_onboarding_progress",
        store=True,
        aggregator="avg",
        help="Share of the onboarding steps done.",
    )
    onboarding_overdue_count = fields.Integer(
        "Overdue steps", compute="_compute_onboarding_overdue_count"
    )
    application_ids = fields.One2many(
        "prm.application", "membership_id", groups="prm_partner.group_prm_user"
    )
    date_first_deal = fields.Date(
        "First deal on",
        compute="_compute_first_deal",
        help="Close date of the first won lead of the partner after the membership "
        "became active (same leads as the tier criteria).",
    )
    first_deal_days = fields.Integer(
        "Days to first deal", compute="_compute_first_deal"
    )

    @api.depends("onboarding_step_ids.is_done")
    def _compute_onboarding_progress(self):
        for membership in self:
            steps = membership.onboarding_step_ids
            done = len(steps.filtered("is_done"))
            membership.onboarding_progress = (
                round(100.0 * done / len(steps), 1) if steps else 0.0
            )

    def _compute_onboarding_overdue_count(self):
        counts = dict(
            self.env["prm.membership.onboarding.step"]._read_group(
                [("membership_id", "in", self.ids), ("is_overdue", "=", True)],
                ["membership_id"],
                ["__count"],
            )
        )
        for membership in self:
            membership.onboarding_overdue_count = counts.get(membership, 0)

    @api.depends("date_start", "partner_id", "program_id")
    def _compute_first_deal(self):
        """One grouped lead query for all memberships: the close dates of the won
        leads of their partners since the earliest activation, then the first one
        on or after each membership's own activation date that counts for its
        program (a lead without program counts for every program)."""
        started = self.filtered(lambda m: m.id and m.date_start)
        closes = defaultdict(list)
        if started:
            rows = (
                self.env["crm.lead"]
                .sudo()
                ._read_group(
                    self._won_lead_domain(
                        started.partner_id, min(started.mapped("date_start"))
                    ),
                    ["partner_assigned_id", "prm_program_id"],
                    ["date_closed:array_agg"],
                )
            )
            for partner, program, dates in rows:
                closes[partner.id, program.id].extend(dates)
        for membership in self:
            first = False
            if membership in started:
                start = membership.date_start
                dates = [
                    fields.Date.to_date(value)
                    for key in (
                        (membership.partner_id.id, membership.program_id.id),
                        (membership.partner_id.id, False),
                    )
                    for value in closes.get(key, [])
                ]
                first = min((d for d in dates if d >= start), default=False)
            membership.date_first_deal = first
            membership.first_deal_days = (
                (first - membership.date_start).days if first else 0
            )

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_view_onboarding_steps(self):
        self._prm_check_internal()
        self.ensure_one()
        return self.env["ir.actions.act_window"]._prm_action(
            "prm_partner.prm_membership_onboarding_step_action",
            [("membership_id", "=", self.id)],
            {"default_membership_id": self.id},
        )

    # ------------------------------------------------------------------
    # ONBOARDING
    # ------------------------------------------------------------------
    def _instantiate_onboarding(self, today=None):
        """Copy the steps of each program's first active onboarding template onto
        the memberships that have no step yet (one batched create); company-side
        steps become to-do activities of the partner manager.

        :return: the created ``prm.membership.onboarding.step`` records
        """
        today = today or fields.Date.context_today(self)
        memberships = self.filtered(lambda m: not m.onboarding_step_ids)
        templates = self.env["prm.onboarding.template"].search(
            [("program_id", "in", memberships.program_id.ids)]
        )
        template_of = {}
        for template in templates:  # ordered by program, sequence
            template_of.setdefault(template.program_id, template)
        vals_list = [
            membership._prepare_onboarding_step_vals(step, today)
            for membership in memberships
            if membership.program_id in template_of
            for step in template_of[membership.program_id].step_ids
        ]
        steps = self.env["prm.membership.onboarding.step"].sudo().create(vals_list)
        steps.filtered(lambda s: s.owner == "company")._schedule_step_activities()
        return steps

    def _prepare_onboarding_step_vals(self, step, today):
        self.ensure_one()
        return {
            "membership_id": self.id,
            "step_id": step.id,
            "sequence": step.sequence,
            "name": step.name,
            "description": step.description,
            "owner": step.owner,
            "date_due": today + relativedelta(days=step.due_days),
            "certification_id": step.certification_id.id,
        }

    def _activate_if_onboarded(self):
        """Activate the memberships in onboarding whose steps are all done and
        notify their partner manager.

        :return: the activated memberships
        """
        done = self.filtered(
            lambda m: (
                m.state == "onboarding"
                and m.onboarding_step_ids
                and all(m.onboarding_step_ids.mapped("is_done"))
            )
        )
        done.action_activate()
        for membership in done:
            manager = membership.user_id or membership.program_id.user_id
            membership.message_post(
                body=self.env._(
                    "Onboarding complete: %(partner)s is now an active partner of "
                    "%(program)s.",
                    partner=membership.partner_id.name,
                    program=membership.program_id.name,
                ),
                partner_ids=manager.partner_id.ids,
                subtype_xmlid="mail.mt_comment",
            )
        return done

    # ------------------------------------------------------------------
    # PERFORMANCE
    # ------------------------------------------------------------------
    review_ids = fields.One2many("prm.partner.review", "membership_id")
    review_count = fields.Integer(compute="_compute_review_count")
    prm_pipeline_revenue = fields.Monetary(
        "Open pipeline",
        compute="_compute_prm_dashboard",
        help="Expected revenue of the partner's open opportunities in this program "
        "(or without program).",
        groups="prm_partner.group_prm_user",
    )
    prm_expiring_certification_count = fields.Integer(
        "Certifications expiring",
        compute="_compute_prm_dashboard",
        search="_search_prm_expiring_certification_count",
        groups="prm_partner.group_prm_user",
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

    # ---- partners to watch: agreement goals and SLA trend ----
    prm_goals_behind_count = fields.Integer(
        "Goals behind",
        compute="_compute_prm_watch",
        help="Goals of the active agreements whose period has started and whose "
        "progress is below the share of their period elapsed.",
        groups="prm_partner.group_prm_user",
    )
    prm_goals_behind = fields.Boolean(
        "Has goals behind",
        compute="_compute_prm_watch",
        search="_search_prm_goals_behind",
        groups="prm_partner.group_prm_user",
    )
    prm_sla_recent = fields.Float(
        "SLA last 30 days (%)",
        compute="_compute_prm_watch",
        help="Offers answered in time / decided offers of the last 30 days.",
        groups="prm_partner.group_prm_user",
    )
    prm_sla_previous = fields.Float(
        "SLA 30 days before (%)",
        compute="_compute_prm_watch",
        help="Offers answered in time / decided offers of the 30 days before.",
        groups="prm_partner.group_prm_user",
    )
    prm_sla_falling = fields.Boolean(
        "Falling SLA compliance",
        compute="_compute_prm_watch",
        search="_search_prm_sla_falling",
        groups="prm_partner.group_prm_user",
    )

    @api.depends_context("uid")
    def _compute_prm_watch(self):
        today = fields.Date.context_today(self)
        records = self.filtered("id")
        behind = records._prm_goals_behind(today)
        sla = records._prm_sla_trend(today)
        for membership in self:
            trend = sla.get(membership.id, {})
            membership.prm_goals_behind_count = len(behind.get(membership.id, ()))
            membership.prm_goals_behind = bool(behind.get(membership.id))
            membership.prm_sla_recent = trend.get("recent") or 0.0
            membership.prm_sla_previous = trend.get("previous") or 0.0
            membership.prm_sla_falling = trend.get("falling", False)

    @api.model
    def _prm_active_goal_domain(self, membership_ids=None):
        domain = [
            ("agreement_id.state", "=", "active"),
            ("agreement_id.active", "=", True),
            ("agreement_id.membership_id", "!=", False),
        ]
        if membership_ids is not None:
            domain.append(("agreement_id.membership_id", "in", membership_ids))
        return domain

    @api.model
    def _prm_goal_elapsed_share(self, goal, today):
        """Share (0-1) of the goal's period elapsed at ``today``, days counted
        inclusively: 1/n on the first day of an n-day period, 1 from its last day."""
        total = (goal.date_to - goal.date_from).days + 1
        return min((today - goal.date_from).days + 1, total) / total

    def _prm_goals_behind(self, today, all_memberships=False):
        """Goals behind plan of these memberships (of all when
        ``all_memberships``): goals of their active agreements whose period has
        started (``date_from <= today``), with a positive target, whose progress
        is below the elapsed share of their period (see
        ``_prm_goal_elapsed_share``). Two queries (goals, one measure of all
        goals) whatever the number of memberships or goals.

        :return: ``{membership_id: prm.agreement.goal}``
        """
        if not self and not all_memberships:
            return {}
        goals = (
            self.env["prm.agreement.goal"]
            .sudo()
            .search(
                [
                    *self._prm_active_goal_domain(
                        None if all_memberships else self.ids
                    ),
                    ("date_from", "<=", today),
                    ("target", ">", 0),
                ]
            )
        )
        result = {}
        for goal in goals:
            if goal.progress < 100.0 * self._prm_goal_elapsed_share(goal, today):
                membership_id = goal.agreement_id.membership_id.id
                result[membership_id] = result.get(membership_id, goals.browse()) | goal
        return result

    def _prm_sla_trend(self, today, all_memberships=False):
        """SLA compliance of the lead offers of these memberships (of all when
        ``all_memberships``) over the last 30 days (offered from ``today`` - 29
        days, today included) and the 30 days before, in ONE query.

        An offer counts when it is decided: withdrawn offers and pending offers
        whose deadline is not passed yet are left out; it is in time when
        accepted or declined no later than its deadline (the SLA compliance of
        the performance report). The SLA is *falling* when both windows have at
        least ``prm_partner.sla_min_offers`` (default 3) counted offers and the
        compliance of the last 30 days is lower than the one before by more than
        ``prm_partner.sla_drop_points`` (default 10) points.

        :return: ``{membership_id: {"recent", "previous", "falling"}}``, rates in
            % or None without offers
        """
        if not self and not all_memberships:
            return {}
        params = self.env["ir.config_parameter"].sudo()
        min_offers = int(params.get_param("prm_partner.sla_min_offers", 3))
        drop = float(params.get_param("prm_partner.sla_drop_points", 10))
        recent_from = fields.Datetime.to_datetime(today - relativedelta(days=29))
        previous_from = recent_from - relativedelta(days=30)
        date_to = fields.Datetime.to_datetime(today + relativedelta(days=1))
        self.env["prm.lead.offer"].flush_model(
            ["membership_id", "state", "date_offered", "date_deadline", "date_answered"]
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT membership_id,
                       date_offered >= %(recent_from)s AS recent,
                       COUNT(*),
                       COUNT(*) FILTER (
                           WHERE state IN ('accepted', 'declined')
                             AND date_answered <= date_deadline)
                  FROM prm_lead_offer
                 WHERE membership_id IS NOT NULL %(memberships)s
                   AND date_offered >= %(previous_from)s
                   AND date_offered < %(date_to)s
                   AND state != 'withdrawn'
                   AND (state != 'pending' OR date_deadline < %(now)s)
              GROUP BY 1, 2
                """,
                recent_from=recent_from,
                previous_from=previous_from,
                date_to=date_to,
                now=fields.Datetime.now(),
                memberships=SQL()
                if all_memberships
                else SQL("AND membership_id IN %s", tuple(self.ids)),
            )
        )
        counts = {}
        for membership_id, recent, total, in_time in self.env.cr.fetchall():
            counts.setdefault(membership_id, {})[recent] = (total, in_time)
        result = {}
        for membership_id, windows in counts.items():
            recent = windows.get(True, (0, 0))
            previous = windows.get(False, (0, 0))
            recent_rate = 100.0 * recent[1] / recent[0] if recent[0] else None
            previous_rate = 100.0 * previous[1] / previous[0] if previous[0] else None
            result[membership_id] = {
                "recent": recent_rate,
                "previous": previous_rate,
                "falling": recent[0] >= min_offers
                and previous[0] >= min_offers
                and previous_rate - recent_rate > drop,
            }
        return result

    def _search_prm_goals_behind(self, operator, value):
        return self._search_prm_watch_flag(
            operator,
            value,
            lambda today: self.browse()._prm_goals_behind(today, all_memberships=True),
        )

    def _search_prm_sla_falling(self, operator, value):
        return self._search_prm_watch_flag(
            operator,
            value,
            lambda today: {
                membership_id
                for membership_id, trend in self.browse()
                ._prm_sla_trend(today, all_memberships=True)
                .items()
                if trend["falling"]
            },
        )

    def _search_prm_watch_flag(self, operator, value, flagged):
        """Boolean search (``= True``, ``!= False``, ...) on a watch flag."""
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return NotImplemented
        ids = list(flagged(fields.Date.context_today(self)))
        positive = (operator == "=") == value
        return [("id", "in" if positive else "not in", ids)]

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
        (agreement, else tier). The
        performance report applies the same rule in SQL
        (``prm.partner.performance.report._sql_commission_percent``)."""
        memberships = self if memberships is None else memberships
        return {m.id: m.effective_commission_percent or 0.0 for m in memberships}

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
        self._prm_check_scorecard_access()
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
        for (program, tier, peer), values in self._prm_kpi_groups(
            [("program_id", "in", memberships.program_id.ids), *period],
            ["program_id", "tier_id", "membership_id"],
        ):
            for fname, value in values.items():
                if value is not None and fname not in NO_MEDIAN_KPIS:
                    peers.setdefault((program.id, tier.id, fname), {})[peer.id] = value
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
        goals = memberships._prm_scorecard_goals()
        result = {}
        for membership in memberships:
            kpis = []
            for fname, label, kind in SCORECARD_KPIS:
                values = peers.get(
                    (membership.program_id.id, membership.tier_id.id, fname), {}
                )
                others = len(values) - (membership.id in values)
                kpis.append(
                    {
                        "name": fname,
                        "label": self.env._(label),
                        "kind": kind,
                        "value": current.get(membership.id, {}).get(fname),
                        "previous": previous.get(membership.id, {}).get(fname),
                        "median": (
                            statistics.median(values.values())
                            if membership.tier_id and others >= MEDIAN_MIN_PEERS
                            else None
                        ),
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
                "goals": goals.get(membership.id, []),
                # medians follow MEDIAN_MIN_PEERS / NO_MEDIAN_KPIS (see reviews)
                "median_policy": MEDIAN_MIN_PEERS,
            }
        return result

    def _prm_check_scorecard_access(self):
        """Scorecards follow the performance report: a PRM user (not manager)
        sees those of the memberships it manages only; portal users those their
        record rules let them read."""
        self.check_access("read")
        user = self.env.user
        if (
            self.env.su
            or user.share
            or user.has_group("prm_partner.group_prm_manager")
            or all(membership.user_id == user for membership in self)
        ):
            return
        raise AccessError(
            self.env._("You can only see the scorecards of the partners you manage.")
        )

    def _prm_scorecard_goals(self):
        """Goal lines of the active agreements of these memberships, for the
        scorecards: two queries (goals, one measure of all goals).

        :return: ``{membership_id: [{"agreement", "measure", "name", "date_from",
            "date_to", "target", "achieved", "progress", "kind"}]}``
        """
        goals = (
            self.env["prm.agreement.goal"]
            .sudo()
            .search(self._prm_active_goal_domain(self.ids))
        )
        measures = dict(goals._fields["measure"]._description_selection(self.env))
        result = {}
        for goal in goals:
            result.setdefault(goal.agreement_id.membership_id.id, []).append(
                {
                    "agreement": goal.agreement_id.name,
                    "measure": measures.get(goal.measure, goal.measure),
                    "name": goal.name or "",
                    "date_from": fields.Date.to_string(goal.date_from),
                    "date_to": fields.Date.to_string(goal.date_to),
                    "target": goal.target,
                    "achieved": goal.achieved,
                    "progress": goal.progress,
                    "kind": "amount" if goal.measure == "won_revenue" else "int",
                }
            )
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
        self._prm_check_internal()
        self.ensure_one()
        self._prm_check_scorecard_access()
        return {
            "name": self.env._("Scorecard"),
            "type": "ir.actions.act_window",
            "res_model": "prm.membership.scorecard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_membership_id": self.id},
        }

    def action_view_reviews(self):
        self._prm_check_internal()
        self.ensure_one()
        return self.env["ir.actions.act_window"]._prm_action(
            "prm_partner.prm_partner_review_action",
            [("membership_id", "=", self.id)],
            {"default_membership_id": self.id},
        )

    def action_request_feedback(self):
        self._prm_check_internal()
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

    # ------------------------------------------------------------------
    # CAPACITY
    # ------------------------------------------------------------------
    lead_capacity = fields.Integer(
        "Lead capacity",
        default=10,
        index=True,
        tracking=True,
        help="Maximum of pending offers plus open assigned leads at any time; "
        "0 means the partner receives no leads.",
        groups="prm_partner.group_prm_user",
    )
    lead_monthly_quota = fields.Integer(
        "Monthly lead quota",
        tracking=True,
        help="Maximum of leads offered per calendar month (pending and accepted "
        "offers count); 0 means no monthly limit.",
        groups="prm_partner.group_prm_user",
    )
    lead_pending_count = fields.Integer(
        "Pending offers",
        compute="_compute_lead_load",
        groups="prm_partner.group_prm_user",
    )
    lead_open_count = fields.Integer(
        "Open assigned leads",
        compute="_compute_lead_load",
        groups="prm_partner.group_prm_user",
    )
    lead_load = fields.Integer(
        compute="_compute_lead_load",
        help="Pending offers plus open assigned leads.",
        groups="prm_partner.group_prm_user",
    )
    lead_month_count = fields.Integer(
        "Leads this month",
        compute="_compute_lead_load",
        groups="prm_partner.group_prm_user",
    )
    lead_load_percent = fields.Float(
        "Load (%)", compute="_compute_lead_load", groups="prm_partner.group_prm_user"
    )

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
        self._prm_check_internal()
        self.ensure_one()
        return self.env["prm.lead.offer"]._action_view(
            [("membership_id", "=", self.id)]
        )
