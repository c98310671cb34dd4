import math

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL


class CrmLead(models.Model):
    _inherit = "crm.lead"

    # same name as website_crm_partner_assign, so data can move between the modules
    partner_assigned_id = fields.Many2one(
        "res.partner",
        string="Assigned partner",
        index="btree_not_null",
        tracking=True,
        domain="[('is_company', '=', True)]",
        help="Partner company working this lead or opportunity.",
    )
    prm_program_id = fields.Many2one(
        "prm.program",
        string="Partner program",
        index="btree_not_null",
        help="Program under which the partner works this lead; leads without a "
        "program count for every program of the partner.",
    )
    date_partner_assign = fields.Date(
        "Partner assignment date",
        compute="_compute_date_partner_assign",
        store=True,
        readonly=False,
        copy=True,
        help="Last date this lead was assigned to a partner.",
    )
    # same relation as website_crm_partner_assign
    partner_declined_ids = fields.Many2many(
        "res.partner",
        "crm_lead_declined_partner",
        "lead_id",
        "partner_id",
        string="Partners who declined",
        copy=False,
        groups="base.group_user",
    )
    prm_offer_ids = fields.One2many(
        "prm.lead.offer", "lead_id", string="Partner offers"
    )
    prm_offer_id = fields.Many2one(
        "prm.lead.offer",
        string="Current offer",
        compute="_compute_prm_offer",
        store=True,
        index="btree_not_null",
        help="The pending offer of this lead, if any.",
        groups="base.group_user",
    )
    prm_offer_deadline = fields.Datetime(
        "Offer deadline",
        related="prm_offer_id.date_deadline",
        store=True,
        groups="base.group_user",
    )
    prm_offer_partner_id = fields.Many2one(
        related="prm_offer_id.partner_id", string="Offered to", groups="base.group_user"
    )
    prm_rule_id = fields.Many2one(
        "prm.assignment.rule",
        string="Assignment rule",
        compute="_compute_prm_offer",
        store=True,
        index="btree_not_null",
        help="The rule of the lead's offers: it stays the same for every re-offer.",
        groups="base.group_user",
    )
    prm_offer_count = fields.Integer(compute="_compute_prm_offer_count")
    prm_claim_ids = fields.One2many(
        "prm.lead.claim", "lead_id", string="Partner claims"
    )
    prm_claim_count = fields.Integer(compute="_compute_prm_claim_count")
    prm_claim_pending = fields.Boolean(
        "Claim pending",
        compute="_compute_prm_claim_count",
        help="The assigned partner reported this opportunity won or lost: the "
        "claim waits for a partner manager.",
    )
    prm_origin = fields.Selection(
        [
            ("assigned", "Assigned by the company"),
            ("registered", "Registered by the partner"),
        ],
        string="Partner origin",
        index="btree_not_null",
        tracking=True,
        copy=False,
    )
    prm_fallback = fields.Boolean(
        "Partner fallback",
        index=True,
        copy=False,
        help="No partner accepted the lead: it went to the rule's fallback team and "
        "is not offered to partners any more.",
        groups="base.group_user",
    )
    prm_registration_id = fields.Many2one(
        "prm.deal.registration",
        string="Deal registration",
        index="btree_not_null",
        copy=False,
    )
    prm_protected_until = fields.Date(
        "Protected until",
        index="btree_not_null",
        tracking=True,
        copy=False,
        help="While protected, the customer is reserved to the assigned partner: "
        "no other partner is offered it or can register it.",
    )

    # ------------------------------------------------------------------
    # COMPUTE
    # ------------------------------------------------------------------
    @api.depends("partner_assigned_id")
    def _compute_date_partner_assign(self):
        today = fields.Date.context_today(self)
        for lead in self:
            lead.date_partner_assign = (lead.partner_assigned_id and today) or False

    @api.depends("prm_offer_ids.state", "prm_offer_ids.rule_id")
    def _compute_prm_offer(self):
        for lead in self:
            offers = lead.prm_offer_ids
            lead.prm_offer_id = offers.filtered(lambda o: o.state == "pending")[:1]
            lead.prm_rule_id = offers.filtered("rule_id").sorted("id")[-1:].rule_id

    def _compute_prm_offer_count(self):
        counts = dict(
            self.env["prm.lead.offer"]._read_group(
                [("lead_id", "in", self.ids)], ["lead_id"], ["__count"]
            )
        )
        for lead in self:
            lead.prm_offer_count = counts.get(lead, 0)

    def _compute_prm_claim_count(self):
        counts = {}
        for lead, state, count in self.env["prm.lead.claim"]._read_group(
            [("lead_id", "in", self.ids)], ["lead_id", "state"], ["__count"]
        ):
            counts.setdefault(lead.id, {})[state] = count
        for lead in self:
            by_state = counts.get(lead.id, {})
            lead.prm_claim_count = sum(by_state.values())
            lead.prm_claim_pending = bool(by_state.get("pending"))

    # ------------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------------
    def write(self, vals):
        before = {}
        if "partner_assigned_id" in vals:
            before = {lead.id: lead.partner_assigned_id for lead in self}
        result = super().write(vals)
        if before:
            self._prm_unfollow_former_partners(before)
        return result

    def _prm_unfollow_former_partners(self, before):
        """A lead that leaves a partner company (reassigned or unassigned) is no
        longer followed by that company's people (one search, one unlink, as
        ``message_unsubscribe`` does).

        :param before: ``{lead id: the partner company assigned before}``
        """
        left = self.filtered(
            lambda lead: (
                before.get(lead.id) and before[lead.id] != lead.partner_assigned_id
            )
        )
        if not left:
            return
        followers = (
            self.env["mail.followers"]
            .sudo()
            .search([("res_model", "=", self._name), ("res_id", "in", left.ids)])
        )
        followers.filtered(
            lambda f: f.partner_id.commercial_partner_id == before[f.res_id]
        ).unlink()

    # ------------------------------------------------------------------
    # DISTRIBUTION
    # ------------------------------------------------------------------
    @api.model
    def _prm_get_assignable_domain(self):
        """Leads waiting for a partner: open, not assigned, no pending offer, not
        handed to the fallback yet."""
        return [
            ("active", "=", True),
            ("probability", "<", 100),
            ("partner_assigned_id", "=", False),
            ("prm_offer_id", "=", False),
            ("prm_fallback", "=", False),
        ]

    def _prm_lock_assignable(self):
        """Lock the leads among ``self`` still waiting for a partner. Leads
        another worker holds are skipped (``FOR UPDATE SKIP LOCKED``).

        :return: the locked leads
        """
        if not self:
            return self
        self.flush_model()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM crm_lead WHERE id IN %s AND active "
                "AND COALESCE(probability, 0) < 100 AND partner_assigned_id IS NULL "
                "AND prm_offer_id IS NULL AND prm_fallback IS NOT TRUE "
                "ORDER BY id FOR UPDATE SKIP LOCKED",
                tuple(self.ids),
            )
        )
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    @api.model
    def _prm_protected_customers(self, today):
        """Customers reserved by approved registrations still protected.

        :return: ``{"email": {...}, "domain": {...}, "vat": {...}, "customer":
            {...}}``, each mapping a key to the protecting partner's id
        """
        registrations = (
            self.env["prm.deal.registration"]
            .sudo()
            .search_fetch(
                [("state", "=", "approved"), ("protection_until", ">=", today)],
                [
                    "partner_id",
                    "email_normalized",
                    "email_domain",
                    "vat_normalized",
                    "lead_id",
                ],
            )
        )
        protected = {"email": {}, "domain": {}, "vat": {}, "customer": {}}
        for registration in registrations:
            owner = registration.partner_id.id
            if registration.email_normalized:
                protected["email"][registration.email_normalized] = owner
            if registration.email_domain:
                protected["domain"][registration.email_domain] = owner
            if registration.vat_normalized:
                protected["vat"][registration.vat_normalized] = owner
            customer = registration.lead_id.partner_id.commercial_partner_id
            if customer:
                protected["customer"][customer.id] = owner
        return protected

    def _prm_protection_owner(self, protected):
        """Partner id that holds a protected registration on this lead's
        customer, or ``False``."""
        self.ensure_one()
        if not any(protected.values()):
            return False
        Registration = self.env["prm.deal.registration"]
        email = self.email_normalized
        customer = self.partner_id.commercial_partner_id
        vat = Registration._normalize_vat(customer.vat)
        domain = Registration._email_domain(email)
        return (
            (email and protected["email"].get(email))
            or (domain and protected["domain"].get(domain))
            or (vat and protected["vat"].get(vat))
            or (customer and protected["customer"].get(customer.id))
            or False
        )

    def _prm_subscribe_partner_users(self, partner):
        """The portal users of ``partner`` follow these leads."""
        users = (
            self.env["res.users"]
            .sudo()
            .search(
                [
                    ("partner_id.commercial_partner_id", "=", partner.id),
                    ("share", "=", True),
                ]
            )
        )
        if users:
            self.message_subscribe(partner_ids=users.partner_id.ids)

    def action_assign_partner_leads(self):
        """List action: offer the selected leads to partners now."""
        self._prm_check_internal()
        rules = self.env["prm.assignment.rule"]
        rules._check_can_assign()
        result = rules.search([])._action_assign_partner_leads(leads=self)
        return rules._assignment_notification(result)

    def action_prm_forward(self):
        self._prm_check_internal()
        self.ensure_one()
        return {
            "name": self.env._("Forward to a partner"),
            "type": "ir.actions.act_window",
            "res_model": "crm.lead.prm.forward",
            "view_mode": "form",
            "target": "new",
            "context": {"default_lead_id": self.id},
        }

    def action_view_prm_offers(self):
        self._prm_check_internal()
        self.ensure_one()
        return self.env["prm.lead.offer"]._action_view([("lead_id", "=", self.id)])

    def action_view_prm_claims(self):
        self._prm_check_internal()
        self.ensure_one()
        return self.env["ir.actions.act_window"]._prm_action(
            "prm_partner.prm_lead_claim_action", [("lead_id", "=", self.id)], {}
        )

    # ------------------------------------------------------------------
    # PORTAL ("My opportunities")
    # ------------------------------------------------------------------
    def _prm_is_open(self):
        """Open for the partner: active, neither won nor lost."""
        self.ensure_one()
        return (
            self.active and (self.probability or 0) < 100 and not self.stage_id.is_won
        )

    def _prm_portal_stages(self):
        """The stages a partner may pick for this opportunity: the pipeline of
        its sales team (or shared stages), never a won stage."""
        self.ensure_one()
        return (
            self.env["crm.stage"]
            .sudo()
            .search(
                [
                    ("is_won", "=", False),
                    "|",
                    ("team_id", "=", False),
                    ("team_id", "=", self.team_id.id),
                ]
            )
        )

    def _prm_portal_check_open(self, author):
        """Refuse any portal change unless the lead is open and assigned to the
        company of ``author`` (the portal user's contact)."""
        self.ensure_one()
        if (
            not author
            or not self.partner_assigned_id
            or author.commercial_partner_id != self.partner_assigned_id
        ):
            raise AccessError(self.env._("This opportunity is not yours."))
        if not self._prm_is_open():
            raise UserError(
                self.env._(
                    "%(lead)s is closed (won, lost or archived): it can no longer be "
                    "changed from the portal. Write to your partner manager if it "
                    "is wrong.",
                    lead=self.name,
                )
            )

    def _prm_portal_update(self, values):
        """Apply what a partner reported in the portal (called on the record as
        sudo after the portal user's access was checked). Only open
        opportunities of the partner's company change; "won" or "lost" is not
        applied but creates a claim (``prm.lead.claim``) a partner manager
        confirms or rejects.

        :param values: dict with ``author_id`` (the portal user's contact id) and
            optional ``stage_id`` (int), ``expected_revenue`` (float),
            ``activity_date`` (date), ``date_deadline`` (date, expected close),
            ``note`` (str), ``outcome`` ("won" or "lost") and ``lost_reason_id``
            (int)
        :return: the claim created, or an empty ``prm.lead.claim``
        """
        self.ensure_one()
        author = self.env["res.partner"].browse(values.get("author_id")).exists()
        self._prm_portal_check_open(author)
        outcome = values.get("outcome") or False
        if outcome:
            if outcome not in ("won", "lost"):
                raise UserError(self.env._("Report the deal won or lost."))
            return self.env["prm.lead.claim"]._prm_portal_claim(self, author, values)
        self._prm_portal_progress(values, author)
        return self.env["prm.lead.claim"]

    def _prm_portal_progress(self, values, author):
        """Stage, expected revenue, close date, next activity and a note."""
        today = fields.Date.context_today(self)
        vals = {}
        if values.get("stage_id"):
            stage = self._prm_portal_stages().filtered(
                lambda s: s.id == values["stage_id"]
            )
            if not stage:
                raise UserError(self.env._("Choose a stage of the pipeline."))
            vals["stage_id"] = stage.id
        revenue = values.get("expected_revenue")
        if revenue is not None:
            if not math.isfinite(revenue):
                raise UserError(self.env._("The expected revenue is not a number."))
            if revenue < 0:
                raise UserError(self.env._("The expected revenue cannot be negative."))
            vals["expected_revenue"] = revenue
        close = values.get("date_deadline")
        if close and close != self.date_deadline:
            if close < today:
                raise UserError(
                    self.env._("The expected close date cannot be in the past.")
                )
            vals["date_deadline"] = close
        activity_date = values.get("activity_date")
        if activity_date and activity_date < today:
            raise UserError(self.env._("The next activity cannot be in the past."))
        if vals:
            self.write(vals)
        if activity_date:
            self._prm_portal_next_activity(activity_date)
        note = (values.get("note") or "").strip()
        if note:
            self.message_post(
                body=note,
                author_id=author.id,
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )

    def _prm_portal_next_activity(self, date_deadline):
        """Move the partner's next step, or plan one for the salesperson."""
        summary = self.env._("Next step by the partner")
        activity = self.activity_ids.filtered(lambda a: a.summary == summary)[:1]
        if activity:
            activity.date_deadline = date_deadline
            return
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            date_deadline=date_deadline,
            summary=summary,
            user_id=(self.user_id or self.env.ref("base.user_admin")).id,
        )
