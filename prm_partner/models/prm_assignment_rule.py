import logging
import random
import threading
from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.safe_eval import safe_eval

_logger = logging.getLogger(__name__)

ASSIGN_CHUNK = 500
WIN_RATE_MONTHS = 12


class PrmAssignmentRule(models.Model):
    """Which leads go to which partners, how the partner is picked, how long it
    has to answer, how many partners are tried and what happens when nobody
    accepts. Rules are tried by sequence: a lead follows the first rule it
    matches, and keeps that rule for every later offer."""

    _name = "prm.assignment.rule"
    _description = "Partner Lead Assignment Rule"
    _inherit = ["mail.thread"]
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(default=10, index=True)
    active = fields.Boolean(default=True, tracking=True)
    program_id = fields.Many2one(
        "prm.program", required=True, index=True, ondelete="cascade", tracking=True
    )
    company_id = fields.Many2one(
        related="program_id.company_id", store=True, index=True, precompute=True
    )
    currency_id = fields.Many2one(related="program_id.currency_id")

    # ---- which leads ----
    country_ids = fields.Many2many("res.country", string="Countries")
    state_ids = fields.Many2many(
        "res.country.state",
        string="States",
        domain="country_ids and [('country_id', 'in', country_ids)] or []",
    )
    zip_prefixes = fields.Char(
        help="Comma-separated zip prefixes (e.g. 75, 92); empty means any zip."
    )
    tag_ids = fields.Many2many(
        "crm.tag", string="Tags", help="The lead must carry at least one of them."
    )
    revenue_min = fields.Monetary("Minimum expected revenue")
    revenue_max = fields.Monetary(
        "Maximum expected revenue", help="0 means no maximum."
    )
    lead_type = fields.Selection(
        [
            ("both", "Leads and opportunities"),
            ("lead", "Leads only"),
            ("opportunity", "Opportunities only"),
        ],
        default="both",
        required=True,
    )
    lead_domain = fields.Char(
        "Extra lead condition", default="[]", help="Optional domain on the leads."
    )

    # ---- which partners ----
    min_tier_id = fields.Many2one(
        "prm.tier",
        string="Minimum tier",
        domain="[('program_id', '=', program_id)]",
        help="Only active members of the program at this tier or above.",
    )
    certification_ids = fields.Many2many(
        "prm.certification",
        "prm_assignment_rule_certification_rel",
        "rule_id",
        "certification_id",
        string="Required certifications",
        help="The partner must have, for each of them, at least one person holding "
        "it (valid or expiring, not expired).",
    )
    require_agreement_territory = fields.Boolean(
        "Agreement must cover the territory",
        help="Only partners with an agreement in force in the program (active, "
        "today within its dates) that covers the lead's country and, when it "
        "lists states of that country, the lead's state.",
    )

    # ---- how ----
    pick_method = fields.Selection(
        [
            ("weighted", "Weighted by tier weight and remaining capacity"),
            ("round_robin", "Round-robin"),
            ("win_rate", "Best recent win rate"),
        ],
        string="Pick",
        default="weighted",
        required=True,
    )
    deadline_hours = fields.Integer(
        "Acceptance deadline (hours)", default=48, required=True
    )
    reminder_hours = fields.Integer(
        "Reminder (hours before deadline)",
        default=12,
        help="A reminder goes to the partner this many hours before the deadline; "
        "0 sends none.",
    )
    max_offers = fields.Integer(
        "Maximum offers per lead",
        default=3,
        required=True,
        help="After this many partners declined or let the deadline pass, the "
        "fallback applies.",
    )
    fallback_team_id = fields.Many2one("crm.team", string="Fallback sales team")
    fallback_user_id = fields.Many2one(
        "res.users", string="Fallback salesperson", domain="[('share', '=', False)]"
    )
    offer_ids = fields.One2many("prm.lead.offer", "rule_id")
    offer_count = fields.Integer(compute="_compute_offer_stats")
    accepted_count = fields.Integer(compute="_compute_offer_stats")

    _sql_constraints = [
        (
            "deadline_positive",
            "CHECK(deadline_hours > 0)",
            "The acceptance deadline must be at least one hour.",
        ),
        (
            "max_offers_positive",
            "CHECK(max_offers > 0)",
            "A lead must be offered at least once.",
        ),
    ]

    # ------------------------------------------------------------------
    # COMPUTE / CONSTRAINTS
    # ------------------------------------------------------------------
    def _compute_offer_stats(self):
        rows = self.env["prm.lead.offer"]._read_group(
            [("rule_id", "in", self.ids)], ["rule_id", "state"], ["__count"]
        )
        totals, accepted = defaultdict(int), defaultdict(int)
        for rule, state, count in rows:
            totals[rule] += count
            if state == "accepted":
                accepted[rule] += count
        for rule in self:
            rule.offer_count = totals[rule]
            rule.accepted_count = accepted[rule]

    @api.constrains("revenue_min", "revenue_max", "reminder_hours", "deadline_hours")
    def _check_values(self):
        for rule in self:
            if rule.revenue_min < 0 or rule.revenue_max < 0 or rule.reminder_hours < 0:
                raise ValidationError(
                    self.env._(
                        "Rule %(rule)s: revenues and reminder cannot be negative.",
                        rule=rule.name,
                    )
                )
            if rule.revenue_max and rule.revenue_max < rule.revenue_min:
                raise ValidationError(
                    self.env._(
                        "Rule %(rule)s: the maximum revenue is below the minimum.",
                        rule=rule.name,
                    )
                )
            if rule.deadline_hours <= 0 or rule.max_offers <= 0:
                raise ValidationError(
                    self.env._(
                        "Rule %(rule)s: the deadline and the maximum number of "
                        "offers must be positive.",
                        rule=rule.name,
                    )
                )

    @api.constrains("lead_domain")
    def _check_lead_domain(self):
        for rule in self:
            try:
                self.env["crm.lead"].search_count(rule._lead_extra_domain(), limit=1)
            except Exception as error:
                raise ValidationError(
                    self.env._(
                        "Rule %(rule)s: the extra lead condition is not a valid "
                        "domain (%(error)s).",
                        rule=rule.name,
                        error=error,
                    )
                ) from error

    @api.constrains("min_tier_id", "program_id")
    def _check_tier_program(self):
        for rule in self:
            if rule.min_tier_id and rule.min_tier_id.program_id != rule.program_id:
                raise ValidationError(
                    self.env._(
                        "Rule %(rule)s: the minimum tier belongs to another program.",
                        rule=rule.name,
                    )
                )

    # ------------------------------------------------------------------
    # DOMAINS (extension hooks)
    # ------------------------------------------------------------------
    def _lead_extra_domain(self):
        self.ensure_one()
        return safe_eval(self.lead_domain) if self.lead_domain else []

    def _get_lead_domain(self):
        """Domain of the leads this rule takes."""
        self.ensure_one()
        domain = [("company_id", "in", [self.company_id.id, False])]
        if self.country_ids:
            domain.append(("country_id", "in", self.country_ids.ids))
        if self.state_ids:
            domain.append(("state_id", "in", self.state_ids.ids))
        prefixes = [
            p.strip() for p in (self.zip_prefixes or "").split(",") if p.strip()
        ]
        if prefixes:
            domain = expression.AND(
                [
                    domain,
                    expression.OR([[("zip", "=ilike", f"{p}%")] for p in prefixes]),
                ]
            )
        if self.tag_ids:
            domain.append(("tag_ids", "in", self.tag_ids.ids))
        if self.revenue_min:
            domain.append(("expected_revenue", ">=", self.revenue_min))
        if self.revenue_max:
            domain.append(("expected_revenue", "<=", self.revenue_max))
        if self.lead_type != "both":
            domain.append(("type", "=", self.lead_type))
        return expression.AND([domain, self._lead_extra_domain()])

    def _get_membership_domain(self):
        """Domain of the memberships eligible under this rule (before
        certifications, agreements, capacity and the lead's own history)."""
        self.ensure_one()
        domain = [
            ("program_id", "=", self.program_id.id),
            ("state", "=", "active"),
            ("tier_id.lead_weight", ">", 0),
            ("lead_capacity", ">", 0),
        ]
        if self.min_tier_id:
            domain.append(("tier_sequence", ">=", self.min_tier_id.sequence))
        return domain

    # ------------------------------------------------------------------
    # ACTIONS (button, list action)
    # ------------------------------------------------------------------
    def action_assign_partner_leads(self):
        """Button: distribute the waiting leads with these rules now and tell
        what happened."""
        self._check_can_assign()
        result = self._action_assign_partner_leads()
        return self._assignment_notification(result)

    @api.model
    def _assignment_notification(self, result):
        message = self.env._(
            "%(offered)s leads offered to partners, %(fallback)s handed to the "
            "fallback team, %(waiting)s waiting for partner capacity.",
            offered=len(result["offers"]),
            fallback=len(result["fallback"]),
            waiting=len(result["waiting"]),
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": self.env._("Partner lead distribution"),
                "message": message,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_view_offers(self):
        self.ensure_one()
        return self.env["prm.lead.offer"]._action_view([("rule_id", "=", self.id)])

    # ------------------------------------------------------------------
    # CRON
    # ------------------------------------------------------------------
    @api.model
    def _cron_assign_partner_leads(self):
        """Cron: expire overdue offers (their leads are offered again at once),
        send reminders, then offer the waiting leads. Commits between chunks,
        never in tests."""
        auto_commit = not getattr(threading.current_thread(), "testing", False)
        Offer = self.env["prm.lead.offer"]
        Offer._expire_overdue_offers()
        Offer._send_deadline_reminders()
        Offer.search(
            [("state", "=", "pending"), ("notified", "=", False)]
        )._notify_offered()
        if auto_commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        self.search([])._action_assign_partner_leads(auto_commit=auto_commit)
        return True

    # ------------------------------------------------------------------
    # ENGINE
    # ------------------------------------------------------------------
    def _action_assign_partner_leads(
        self, leads=None, auto_commit=False, chunk_size=ASSIGN_CHUNK
    ):
        """Offer waiting leads to partners, by chunks of ``chunk_size``.

        :param leads: restrict to these ``crm.lead`` (e.g. selected in the list,
            or the leads of declined/expired offers); all waiting leads otherwise
        :param auto_commit: commit after each chunk (crons only, never tests)
        :param chunk_size: number of leads per chunk; the number of queries per
            chunk does not depend on it
        :return: ``{"offers": prm.lead.offer created, "fallback": crm.lead given to
            the fallback, "waiting": crm.lead matching a rule but with no partner
            capacity left, "unmatched": crm.lead matching no rule}``
        """
        rules = (self or self.search([])).filtered("active").sorted()
        Lead = self.env["crm.lead"]
        result = {
            "offers": self.env["prm.lead.offer"],
            "fallback": Lead,
            "waiting": Lead,
            "unmatched": Lead,
        }
        if not rules:
            return result
        domain = Lead._prm_get_assignable_domain()
        if leads is not None:
            domain = expression.AND([domain, [("id", "in", leads.ids)]])
        lead_ids = list(
            Lead.with_context(active_test=False)._search(domain, order="id")
        )
        total = len(lead_ids)
        _logger.info("Partner lead distribution: %s leads, %s rules", total, len(rules))
        run = {}  # eligible memberships, computed once per run
        for start in range(0, total, chunk_size):
            chunk = Lead.browse(lead_ids[start : start + chunk_size])
            chunk_result = rules._assign_partner_leads_chunk(chunk, run)
            for key, records in chunk_result.items():
                result[key] |= records
            done = min(start + chunk_size, total)
            self.env["ir.cron"]._notify_progress(done=done, remaining=total - done)
            if auto_commit:  # never in tests: see _cron_assign_partner_leads
                self.env.cr.commit()  # pylint: disable=invalid-commit
        # one mail per partner for the whole run (offers a crash left unnotified
        # are mailed by the next cron run)
        result["offers"]._notify_offered()
        _logger.info(
            "Partner lead distribution done: %s offers, %s fallback, %s waiting",
            len(result["offers"]),
            len(result["fallback"]),
            len(result["waiting"]),
        )
        return result

    def _assign_partner_leads_chunk(self, leads, run=None):
        """Offer one chunk of leads. Set-based: a fixed number of queries per
        rule, whatever the number of leads.

        1. lock the leads still waiting (``FOR UPDATE SKIP LOCKED``): a lead
           another worker holds is left to it;
        2. match each lead to its rule (the rule of its earlier offers, else the
           first matching rule by sequence);
        3. find the eligible memberships of each rule, lock them
           (``FOR NO KEY UPDATE SKIP LOCKED``: a membership another worker holds
           is not used by this one, so capacity is never exceeded), measure
           their load;
        4. pick a partner per lead in memory, updating the loads as it goes;
        5. create the offers in one batch, apply the fallback per rule (the
           partners are mailed once per run, see ``_action_assign_partner_leads``).

        :param run: dict shared by the chunks of one run; the eligible
            memberships of the rules (step 3 before locking) and the territory
            their agreements cover are computed once and kept there
        """
        run = {} if run is None else run
        Lead = self.env["crm.lead"]
        Offer = self.env["prm.lead.offer"]
        result = {"offers": Offer, "fallback": Lead, "waiting": Lead, "unmatched": Lead}
        leads = leads._prm_lock_assignable()
        if not leads:
            return result
        now = fields.Datetime.now()
        today = fields.Date.context_today(self)

        # 1. history of the leads: earlier offers and their rule
        history = {
            lead.id: (set(partner_ids), count)
            for lead, partner_ids, count in Offer._read_group(
                [("lead_id", "in", leads.ids)],
                ["lead_id"],
                ["partner_id:array_agg", "__count"],
            )
        }
        leads.fetch(["prm_rule_id", "partner_declined_ids", "email_from", "partner_id"])

        # 2. rule of each lead
        lead_rule, remaining = self._prm_match_leads(leads)
        result["unmatched"] = Lead.browse(remaining)
        rules = self.browse({rule.id for rule in lead_rule.values()}).sorted()
        if not rules:
            return result

        # 3. eligible memberships per rule, locked, with their load
        if "eligible" not in run:
            run["eligible"] = self._prm_eligible_memberships()
            # plain tuples (membership id, partner id, tier weight) for step 4
            run["pools"] = {
                rule: [(m.id, m.partner_id.id, m.tier_id.lead_weight) for m in records]
                for rule, records in run["eligible"].items()
            }
        eligible = {rule: run["eligible"][rule] for rule in rules}
        pools = run["pools"]
        memberships = self.env["prm.membership"].union(*eligible.values())
        # memberships another worker holds are skipped: their leads wait
        memberships = memberships._prm_lock_for_assignment()
        load = memberships._prm_lead_load()
        last_offer, win_rate = rules._prm_pick_data(memberships, today)
        if "coverage" not in run:
            # territory of the agreements in force: one query per run
            run["coverage"] = self._prm_agreement_coverage(
                self.env["prm.membership"].union(
                    *(
                        run["eligible"][rule]
                        for rule in self
                        if rule.require_agreement_territory
                    )
                ),
                today,
            )
        coverage = run["coverage"]
        protected = Lead._prm_protected_customers(today)
        if not any(protected.values()):
            protected = None

        # 4. pick, on plain data: room left per locked membership, and per rule
        # the pool of its memberships that have room at the start of the chunk
        room = {membership_id: lo.room() for membership_id, lo in load.items()}
        open_pools = {
            rule: [entry for entry in pools[rule] if room.get(entry[0], 0) > 0]
            for rule in rules
        }
        membership_of = {m.id: m for m in memberships}
        offer_vals, fallback = [], defaultdict(list)
        waiting = []
        for tick, lead in enumerate(leads, start=1):
            rule = lead_rule.get(lead.id)
            if not rule:
                continue
            offered, count = history.get(lead.id, (set(), 0))
            if count >= rule.max_offers:
                fallback[rule].append(lead.id)
                continue
            owner = lead._prm_protection_owner(protected) if protected else False
            excluded = offered | set(lead.partner_declined_ids.ids)
            available = rule._prm_candidates(
                lead, open_pools[rule], excluded, owner, coverage, room=room
            )
            if available:
                membership_id = rule._prm_pick(
                    lead.id, available, room, last_offer, win_rate
                )
                room[membership_id] -= 1
                last_offer[membership_id] = (now, tick)
                offer_vals.append(
                    rule._prepare_offer_vals(lead, membership_of[membership_id], now)
                )
            elif owner or rule._prm_candidates(
                lead, pools[rule], excluded, owner, coverage
            ):
                # eligible partners are full or held by another worker (or the
                # customer is protected for a partner): the lead waits
                waiting.append(lead.id)
            else:
                # nobody left to try: the fallback applies
                fallback[rule].append(lead.id)
        result["waiting"] = Lead.browse(waiting)

        # 5. write
        if offer_vals:
            offers = Offer.with_context(
                mail_create_nolog=True, mail_create_nosubscribe=True
            ).create(offer_vals)
            result["offers"] = offers
        for rule, lead_ids in fallback.items():
            fallback_leads = Lead.browse(lead_ids)
            fallback_leads.write(rule._prepare_fallback_vals())
            result["fallback"] |= fallback_leads
        if result["fallback"]:
            result["fallback"]._message_log_batch(
                bodies={
                    lead.id: Markup("<p>%s</p>")
                    % self.env._(
                        "No partner accepted this lead: it goes to the fallback team."
                    )
                    for lead in result["fallback"]
                }
            )
        return result

    def _prm_match_leads(self, leads):
        """Rule of each lead: the rule of its earlier offers when it is among
        these rules, else the first of these rules (by sequence) whose lead
        domain it matches; one query per rule.

        :return: ``({lead_id: rule}, [ids of the leads matching no rule])``
        """
        Lead = self.env["crm.lead"].with_context(active_test=False)
        lead_rule = {}
        for lead in leads:
            if lead.prm_rule_id in self:
                lead_rule[lead.id] = lead.prm_rule_id
        remaining = [lead.id for lead in leads if lead.id not in lead_rule]
        for rule in self:
            if not remaining:
                break
            matched = set(
                Lead._search(
                    expression.AND([rule._get_lead_domain(), [("id", "in", remaining)]])
                )
            )
            for lead_id in matched:
                lead_rule[lead_id] = rule
            remaining = [lead_id for lead_id in remaining if lead_id not in matched]
        return lead_rule, remaining

    def _prm_pick_data(self, memberships, today):
        """What the pick methods of these rules need, only when one uses it.

        :return: ``(last_offer, win_rate)``: ``{membership_id: (date of the last
            offer, 0)}`` for round-robin, ``{partner_id: win rate}`` for the
            best recent win rate
        """
        last_offer, win_rate = {}, {}
        if any(rule.pick_method == "round_robin" for rule in self):
            last_offer = {
                membership_id: (date, 0)
                for membership_id, date in memberships._prm_last_offer_dates().items()
            }
        if any(rule.pick_method == "win_rate" for rule in self):
            win_rate = memberships._prm_win_rates(today)
        return last_offer, win_rate

    def _prm_eligible_memberships(self):
        """Eligible memberships of each rule: one search per rule, one grouped
        certification query for all.

        :return: ``{rule: prm.membership}``
        """
        Membership = self.env["prm.membership"]
        eligible = {
            rule: Membership.search_fetch(
                rule._get_membership_domain(),
                ["partner_id", "tier_id", "lead_capacity", "lead_monthly_quota"],
                order="id",
            )
            for rule in self
        }
        needed = self.certification_ids
        if needed:
            partners = Membership.union(*eligible.values()).partner_id
            held = defaultdict(set)
            for company, certification_ids in (
                self.env["prm.partner.certification"]
                .sudo()
                ._read_group(
                    [
                        ("commercial_partner_id", "in", partners.ids),
                        ("certification_id", "in", needed.ids),
                        ("state", "!=", "expired"),
                    ],
                    ["commercial_partner_id"],
                    ["certification_id:array_agg"],
                )
            ):
                held[company.id].update(certification_ids)
            for rule in self.filtered("certification_ids"):
                required = set(rule.certification_ids.ids)
                eligible[rule] = eligible[rule].filtered(
                    lambda m, r=required: r <= held[m.partner_id.id]
                )
        return eligible

    @api.model
    def _prm_agreement_coverage(self, memberships, today=None):
        """Territory covered, on ``today``, by the agreements in force of each
        membership, in one query whatever the number of memberships.

        An agreement is in force when it is not archived, its state is
        *active* and ``date_start <= today <= date_end``. It covers each of its
        countries: the whole country when it lists no state of that country,
        else only the listed states of it (states of a country it does not list
        cover nothing). The agreements of the membership's partner company in
        the membership's program add up.

        :return: ``{membership_id: {country_id: None (every state) or set of
            state ids}}``; a membership without an agreement in force is absent
        """
        if not memberships:
            return {}
        today = today or fields.Date.context_today(self)
        Agreement = self.env["prm.agreement"]
        Agreement.flush_model(
            [
                "active",
                "state",
                "date_start",
                "date_end",
                "partner_id",
                "program_id",
                "country_ids",
                "state_ids",
            ]
        )
        self.env["res.country.state"].flush_model(["country_id"])
        # every agreement counts, whoever runs the distribution
        self.env.cr.execute(
            SQL(
                """
                SELECT a.partner_id, a.program_id,
                       ARRAY(SELECT rc.country_id
                               FROM prm_agreement_country_rel rc
                              WHERE rc.agreement_id = a.id),
                       ARRAY(SELECT ARRAY[s.id, s.country_id]
                               FROM prm_agreement_country_state_rel rs
                               JOIN res_country_state s ON s.id = rs.state_id
                              WHERE rs.agreement_id = a.id)
                  FROM prm_agreement a
                 WHERE a.active
                   AND a.state = 'active'
                   AND a.date_start <= %(today)s
                   AND a.date_end >= %(today)s
                   AND a.partner_id IN %(partners)s
                   AND a.program_id IN %(programs)s
                """,
                today=today,
                partners=tuple(memberships.partner_id.ids),
                programs=tuple(memberships.program_id.ids),
            )
        )
        by_key = defaultdict(dict)
        for partner_id, program_id, country_ids, state_pairs in self.env.cr.fetchall():
            listed = defaultdict(set)
            for state_id, state_country_id in state_pairs:
                listed[state_country_id].add(state_id)
            territory = by_key[partner_id, program_id]
            for country_id in country_ids:
                if country_id in territory and territory[country_id] is None:
                    continue  # already covered whole by another agreement
                if country_id not in listed:
                    territory[country_id] = None
                else:
                    territory.setdefault(country_id, set()).update(listed[country_id])
        return {
            membership.id: by_key[key]
            for membership in memberships
            if by_key.get(key := (membership.partner_id.id, membership.program_id.id))
        }

    @api.model
    def _prm_covers(self, coverage, membership_id, lead):
        """Whether the agreements in force of the membership cover the lead's
        territory (``coverage``: see ``_prm_agreement_coverage``): the lead's
        country is one of their countries and, when they list states of that
        country, the lead's state is one of them."""
        territory = coverage.get(membership_id)
        if not territory or lead.country_id.id not in territory:
            return False
        states = territory[lead.country_id.id]
        return states is None or lead.state_id.id in states

    def _prm_candidates(self, lead, pool, excluded, owner, coverage, *, room=None):
        """Entries of ``pool`` (membership id, partner id, weight) that may be
        offered ``lead``: not ``excluded`` (already offered or declined), the
        protection ``owner`` only when there is one, covered by an agreement
        when the rule asks for it and, when ``room`` (membership id: room left)
        is given, with room left."""
        self.ensure_one()
        territory = self.require_agreement_territory
        return [
            entry
            for entry in pool
            if (room is None or room[entry[0]] > 0)
            and entry[1] not in excluded
            and (not owner or entry[1] == owner)
            and (not territory or self._prm_covers(coverage, entry[0], lead))
        ]

    def _prm_pick(self, lead_id, candidates, room, last_offer, win_rate):
        """Pick one membership among ``candidates``, tuples ``(membership id,
        partner id, tier weight)`` all with room left (``room``: membership id
        -> room left); return its id.

        - ``weighted``: random choice weighted by tier weight x remaining
          capacity, drawn from ``random.Random(lead_id)``: the same lead in the
          same situation always gets the same partner (reproducible);
        - ``round_robin``: the membership offered a lead the longest ago (never
          offered first), ties by id; ``last_offer`` maps membership ids to
          ``(date, order in this run)``;
        - ``win_rate``: the best win rate over the last 12 months (won / (won +
          lost), ``win_rate`` maps partner ids to it), ties by most remaining
          capacity then lowest id.
        """
        self.ensure_one()
        if self.pick_method == "round_robin":
            never = (fields.Datetime.to_datetime("1970-01-01"), 0)
            return min(candidates, key=lambda c: (last_offer.get(c[0]) or never, c[0]))[
                0
            ]
        if self.pick_method == "win_rate":
            return max(
                candidates,
                key=lambda c: (win_rate.get(c[1], 0.0), room[c[0]], -c[0]),
            )[0]
        weights = [c[2] * room[c[0]] for c in candidates]
        return random.Random(lead_id).choices(candidates, weights=weights)[0][0]

    def _prepare_offer_vals(self, lead, membership, now):
        self.ensure_one()
        return {
            "lead_id": lead.id,
            "partner_id": membership.partner_id.id,
            "membership_id": membership.id,
            "rule_id": self.id,
            "date_offered": now,
            "date_deadline": now + timedelta(hours=self.deadline_hours),
        }

    def _prepare_fallback_vals(self):
        self.ensure_one()
        vals = {"prm_fallback": True}
        if self.fallback_team_id:
            vals["team_id"] = self.fallback_team_id.id
        if self.fallback_user_id:
            vals["user_id"] = self.fallback_user_id.id
        return vals

    @api.model
    def _check_can_assign(self):
        if not (
            self.env.user.has_group("prm_partner.group_prm_manager")
            or self.env.is_superuser()
        ):
            raise UserError(
                self.env._("Only partner managers can distribute leads to partners.")
            )


class PrmLeadLoad:
    """Load of one membership during a distribution run (pending offers plus
    open assigned leads against capacity, offers of the month against quota)."""

    __slots__ = ("capacity", "load", "month", "pending", "quota")

    def __init__(self, capacity, quota, load=0, month=0):
        self.capacity, self.quota, self.load, self.month = capacity, quota, load, month
        self.pending = 0

    def room(self):
        room = self.capacity - self.load
        if self.quota:
            room = min(room, self.quota - self.month)
        return max(room, 0)
