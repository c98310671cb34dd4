from collections import defaultdict

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models


class PrmMembership(models.Model):
    """Onboarding checklist, progress and time to first deal of a membership."""

    _inherit = "prm.membership"

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
    application_ids = fields.One2many("prm.application", "membership_id")
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
    def action_set_onboarding(self):
        result = super().action_set_onboarding()
        self._instantiate_onboarding()
        return result

    def action_view_onboarding_steps(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "prm_partner.prm_membership_onboarding_step_action"
        )
        action["domain"] = [("membership_id", "=", self.id)]
        action["context"] = {"default_membership_id": self.id}
        return action

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
