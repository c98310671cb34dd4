from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tools import SQL

# the lead's fields an offer keeps as they were when offered
SNAPSHOT_FIELDS = (
    "snapshot_name",
    "snapshot_customer",
    "snapshot_city",
    "snapshot_country_id",
    "snapshot_expected_revenue",
    "snapshot_description",
)


class PrmLeadOffer(models.Model):
    """A lead offered to one partner company, to accept or decline before a
    deadline. At most one pending offer per lead, and never twice the same
    partner for the same lead (both enforced by the database)."""

    _name = "prm.lead.offer"
    _description = "Lead Offer to a Partner"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "date_offered desc, id desc"
    _rec_name = "lead_id"

    lead_id = fields.Many2one(
        "crm.lead", required=True, index=True, ondelete="cascade", readonly=True
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Partner company",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    membership_id = fields.Many2one(
        "prm.membership", index="btree_not_null", ondelete="set null", readonly=True
    )
    program_id = fields.Many2one(
        related="membership_id.program_id", store=True, index="btree_not_null"
    )
    rule_id = fields.Many2one(
        "prm.assignment.rule",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
        help="Empty when the lead was forwarded by hand.",
    )
    company_id = fields.Many2one(
        related="lead_id.company_id", store=True, index=True, precompute=True
    )
    date_offered = fields.Datetime(
        "Offered at", required=True, default=fields.Datetime.now, readonly=True
    )
    date_deadline = fields.Datetime(
        "Deadline", required=True, index=True, tracking=True
    )
    date_answered = fields.Datetime("Answered at", readonly=True)
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("accepted", "Accepted"),
            ("declined", "Declined"),
            ("expired", "Expired"),
            ("withdrawn", "Withdrawn"),
        ],
        string="Outcome",
        default="pending",
        required=True,
        index=True,
        tracking=True,
        readonly=True,
    )
    decline_reason_id = fields.Many2one(
        "prm.lead.decline.reason", index="btree_not_null", readonly=True
    )
    decline_note = fields.Text("Decline details", readonly=True)
    reminder_sent = fields.Boolean(readonly=True, copy=False)
    notified = fields.Boolean(
        readonly=True,
        copy=False,
        index=True,
        help="The partner was mailed about this offer.",
    )
    # the lead as it was offered (kept: a declined or expired offer shows this,
    # never the lead's live data)
    snapshot_name = fields.Char("Offered lead name", readonly=True, copy=False)
    snapshot_customer = fields.Char("Offered customer", readonly=True, copy=False)
    snapshot_city = fields.Char("Offered city", readonly=True, copy=False)
    snapshot_country_id = fields.Many2one(
        "res.country", string="Offered country", readonly=True, copy=False
    )
    snapshot_expected_revenue = fields.Monetary(
        "Offered expected revenue", readonly=True, copy=False
    )
    snapshot_description = fields.Html("Offered description", readonly=True, copy=False)
    # what the partner sees of the lead: live while the offer is pending (or
    # accepted and the lead still the partner's), the snapshot otherwise
    lead_name = fields.Char(
        "Lead name", compute="_compute_lead_shown", compute_sudo=True
    )
    lead_customer = fields.Char(
        "Customer", compute="_compute_lead_shown", compute_sudo=True
    )
    lead_country_id = fields.Many2one(
        "res.country", "Country", compute="_compute_lead_shown", compute_sudo=True
    )
    lead_city = fields.Char("City", compute="_compute_lead_shown", compute_sudo=True)
    lead_expected_revenue = fields.Monetary(
        "Expected revenue", compute="_compute_lead_shown", compute_sudo=True
    )
    currency_id = fields.Many2one(related="lead_id.company_currency")
    lead_description = fields.Html(
        "Description", compute="_compute_lead_shown", compute_sudo=True
    )

    _sql_constraints = [
        (
            "lead_partner_unique",
            "UNIQUE(lead_id, partner_id)",
            "A lead is never offered twice to the same partner.",
        ),
    ]

    def init(self):
        # the database guarantees a single pending offer per lead, whatever the
        # number of workers distributing leads at once
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS prm_lead_offer_one_pending_idx "
                "ON prm_lead_offer (lead_id) WHERE state = 'pending'"
            )
        )

    @api.model_create_multi
    def create(self, vals_list):
        leads = (
            self.env["crm.lead"]
            .sudo()
            .browse({vals["lead_id"] for vals in vals_list if vals.get("lead_id")})
        )
        by_id = {lead.id: lead for lead in leads}  # prefetched together
        for vals in vals_list:
            if vals.get("lead_id"):
                snapshot = self._prm_snapshot_vals(by_id[vals["lead_id"]])
                for key, value in snapshot.items():
                    vals.setdefault(key, value)
        return super().create(vals_list)

    @api.model
    def _prm_snapshot_vals(self, lead):
        """The shown fields of ``lead``, as they are now."""
        lead = lead.sudo()
        return {
            "snapshot_name": lead.name,
            "snapshot_customer": lead.partner_name or lead.partner_id.name or False,
            "snapshot_city": lead.city,
            "snapshot_country_id": lead.country_id.id,
            "snapshot_expected_revenue": lead.expected_revenue,
            "snapshot_description": lead.description,
        }

    def _prm_shows_live_lead(self):
        self.ensure_one()
        return self.state == "pending" or (
            self.state == "accepted"
            and self.lead_id.partner_assigned_id == self.partner_id
        )

    @api.depends(
        "state",
        "partner_id",
        "lead_id.partner_assigned_id",
        "lead_id.name",
        "lead_id.partner_name",
        "lead_id.city",
        "lead_id.country_id",
        "lead_id.expected_revenue",
        "lead_id.description",
        "snapshot_name",
    )
    def _compute_lead_shown(self):
        for offer in self:
            if offer._prm_shows_live_lead():
                vals = self._prm_snapshot_vals(offer.lead_id)
            else:
                vals = {key: offer[key] for key in SNAPSHOT_FIELDS}
            offer.lead_name = vals["snapshot_name"]
            offer.lead_customer = vals["snapshot_customer"]
            offer.lead_city = vals["snapshot_city"]
            offer.lead_country_id = vals["snapshot_country_id"]
            offer.lead_expected_revenue = vals["snapshot_expected_revenue"]
            offer.lead_description = vals["snapshot_description"]

    @api.depends("lead_id", "partner_id")
    def _compute_display_name(self):
        for offer in self:
            offer.display_name = self.env._(
                "%(lead)s to %(partner)s",
                lead=offer.lead_id.name or "",
                partner=offer.partner_id.name or "",
            )

    def _compute_access_url(self):  # pylint: disable=missing-return
        super()._compute_access_url()
        for offer in self:
            offer.access_url = f"/my/lead_offers/{offer.id}"

    @api.model
    def _prm_recipients_by_partner(self, partners):
        """``{partner company id: res.partner}``: who receives the offer mails of
        each partner company: its portal users, else the company itself (one
        query)."""
        users = (
            self.env["res.users"]
            .sudo()
            .search_fetch(
                [
                    ("partner_id.commercial_partner_id", "in", partners.ids),
                    ("share", "=", True),
                ],
                ["partner_id"],
            )
        )
        people = {}
        for user in users:
            company = user.partner_id.commercial_partner_id.id
            people[company] = people.get(company, self.env["res.partner"]) | (
                user.partner_id
            )
        return {partner.id: people.get(partner.id, partner) for partner in partners}

    def _send_offer_mails(self, kind):
        """Mail each partner company one digest listing its offers among these
        (``kind`` "new" or "reminder"), rendered from the QWeb view
        ``prm_partner.mail_body_lead_offers`` (compiled once) in the partner's
        language, and queued in one batch: a fixed number of queries whatever
        the number of offers.

        :return: the queued ``mail.mail``
        """
        if not self:
            return self.env["mail.mail"]
        offers = self.sudo().with_prefetch(self.ids)
        recipients = self._prm_recipients_by_partner(offers.partner_id)
        base_url = self[:1].get_base_url()
        QWeb = self.env["ir.qweb"]
        vals_list = []
        for partner, partner_offers in offers.grouped("partner_id").items():
            lang = partner.lang or self.env.lang
            env = self.with_context(lang=lang).env
            subject = (
                env._("New leads offered to %(partner)s", partner=partner.name)
                if kind == "new"
                else env._(
                    "Reminder: leads wait for the answer of %(partner)s",
                    partner=partner.name,
                )
            )
            body = QWeb.with_context(lang=lang)._render(
                "prm_partner.mail_body_lead_offers",
                {
                    "partner": partner,
                    "offers": partner_offers.with_context(lang=lang),
                    "kind": kind,
                    "base_url": base_url,
                },
            )
            vals_list.append(
                {
                    "subject": subject,
                    "body_html": body,
                    "recipient_ids": [
                        Command.link(pid) for pid in recipients[partner.id].ids
                    ],
                    "auto_delete": True,
                }
            )
        return self.env["mail.mail"].sudo().create(vals_list)

    @api.model
    def _action_view(self, domain):
        """The offers window action, on ``domain``."""
        return self.env["ir.actions.act_window"]._prm_action(
            "prm_partner.prm_lead_offer_action", domain, {}
        )

    # ------------------------------------------------------------------
    # ANSWERS
    # ------------------------------------------------------------------
    def _check_answerable(self):
        now = fields.Datetime.now()
        for offer in self:
            if offer.membership_id.sudo().state != "active":
                raise UserError(
                    self.env._(
                        "Your company's partnership is not active: the offer of "
                        "%(lead)s can no longer be answered.",
                        lead=offer.lead_name,
                    )
                )
            if offer.state == "expired" or (
                offer.state == "pending" and offer.date_deadline < now
            ):
                raise UserError(
                    self.env._(
                        "The offer of %(lead)s expired on %(deadline)s: it can no "
                        "longer be answered.",
                        lead=offer.lead_id.name,
                        deadline=fields.Datetime.to_string(offer.date_deadline),
                    )
                )
            if offer.state == "withdrawn":
                raise UserError(
                    self.env._(
                        "The offer of %(lead)s was withdrawn: it can no longer be "
                        "answered.",
                        lead=offer.lead_id.name,
                    )
                )
            if offer.state != "pending":
                raise UserError(
                    self.env._(
                        "The offer of %(lead)s was already answered.",
                        lead=offer.lead_id.name,
                    )
                )

    def action_accept(self):
        """The partner accepts: the lead is assigned to it, converted to an
        opportunity if needed, and its portal users follow it."""
        self._prm_check_internal()
        self._check_answerable()
        self._lock_pending()
        self._check_lead_available()
        now = fields.Datetime.now()
        self.write({"state": "accepted", "date_answered": now})
        for offer in self:
            lead = offer.lead_id
            lead.write(
                {
                    "partner_assigned_id": offer.partner_id.id,
                    "date_partner_assign": fields.Date.context_today(self),
                    "prm_program_id": offer.program_id.id or lead.prm_program_id.id,
                    "prm_origin": "assigned",
                }
            )
            if lead.type == "lead":
                lead.convert_opportunity(lead.partner_id)
            lead._prm_subscribe_partner_users(offer.partner_id)
            lead._message_log(
                body=Markup("<p>%s</p>")
                % self.env._(
                    "%(partner)s accepted the lead.", partner=offer.partner_id.name
                )
            )
        return True

    def action_decline(self, reason=None, note=None):
        """The partner declines (a reason from the list and/or free text): the
        lead goes at once to the next eligible partner."""
        self._prm_check_internal()
        reason = reason or self.env["prm.lead.decline.reason"]
        note = (note or "").strip()
        if not reason and not note:
            raise UserError(self.env._("Give a reason to decline the lead."))
        self._check_answerable()
        self._lock_pending()
        self.write(
            {
                "state": "declined",
                "date_answered": fields.Datetime.now(),
                "decline_reason_id": reason.id,
                "decline_note": note or False,
            }
        )
        self._after_refusal()
        return True

    def action_withdraw(self):
        """The company takes the offer back (no re-offer: the lead waits for the
        next distribution run)."""
        self._prm_check_internal()
        pending = self.filtered(lambda o: o.state == "pending")
        pending.write({"state": "withdrawn", "date_answered": fields.Datetime.now()})
        pending.flush_recordset(["state"])
        return True

    def _check_lead_available(self):
        """The lead must still be open and assigned to nobody (or already to the
        offer's partner)."""
        for offer in self:
            lead = offer.lead_id.sudo()
            assigned = lead.partner_assigned_id
            if not lead._prm_is_open() or (assigned and assigned != offer.partner_id):
                raise UserError(
                    self.env._(
                        "%(lead)s is no longer available: it can no longer be "
                        "accepted.",
                        lead=offer.lead_name,
                    )
                )

    def _lock_pending(self):
        """Lock the offers (they must still be pending): a second answer that
        arrives at the same time waits, then finds them answered."""
        self.flush_recordset()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM prm_lead_offer WHERE id IN %s AND state = 'pending' "
                "FOR UPDATE",
                tuple(self.ids),
            )
        )
        if len(self.env.cr.fetchall()) != len(self):
            self.invalidate_recordset(["state"])
            self._check_answerable()

    def _after_refusal(self):
        """Declined or expired: remember the partner on the lead and offer the
        lead to the next partner (or apply the fallback)."""
        for partner, offers in self.grouped("partner_id").items():
            offers.lead_id.write(
                {"partner_declined_ids": [fields.Command.link(partner.id)]}
            )
        self.env["prm.assignment.rule"].sudo()._action_assign_partner_leads(
            leads=self.lead_id.sudo()
        )

    # ------------------------------------------------------------------
    # CRON PARTS
    # ------------------------------------------------------------------
    @api.model
    def _expire_overdue_offers(self):
        """Pending offers past their deadline expire; their leads are offered to
        the next partner. Rows another worker holds are skipped.

        :return: the expired offers
        """
        self.env.cr.execute(
            SQL(
                "SELECT id FROM prm_lead_offer WHERE state = 'pending' AND "
                "date_deadline < %s ORDER BY id FOR UPDATE SKIP LOCKED",
                fields.Datetime.now(),
            )
        )
        offers = self.sudo().browse([row[0] for row in self.env.cr.fetchall()])
        if not offers:
            return offers
        offers.invalidate_recordset()
        offers.write({"state": "expired"})
        offers._message_log_batch(
            bodies={
                offer.id: Markup("<p>%s</p>")
                % self.env._("The deadline passed without an answer.")
                for offer in offers
            }
        )
        offers._after_refusal()
        return offers

    @api.model
    def _send_deadline_reminders(self):
        """Remind partners of pending offers whose deadline is near (once)."""
        now = fields.Datetime.now()
        offers = self.sudo().search(
            [
                ("state", "=", "pending"),
                ("reminder_sent", "=", False),
                ("rule_id.reminder_hours", ">", 0),
                ("date_deadline", ">", now),
            ]
        )
        due = offers.filtered(
            lambda o: o.date_deadline - timedelta(hours=o.rule_id.reminder_hours) <= now
        )
        if due:
            due._send_offer_mails("reminder")
            due.write({"reminder_sent": True})
        return due

    def _notify_offered(self):
        """Tell the partners about these new offers: one mail per partner company
        listing them (the offers are also in its portal)."""
        pending = self.filtered(lambda o: o.state == "pending" and not o.notified)
        pending._send_offer_mails("new")
        pending.write({"notified": True})
