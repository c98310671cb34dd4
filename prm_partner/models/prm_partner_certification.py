from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError

DEFAULT_REMINDER_DAYS = 30


class PrmPartnerCertification(models.Model):
    """A person of a partner company holds a certification, for a while."""

    _name = "prm.partner.certification"
    _description = "Certification held by a partner's person"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_expiry desc, id desc"
    _rec_name = "certification_id"

    partner_id = fields.Many2one(
        "res.partner",
        string="Person",
        required=True,
        index=True,
        ondelete="cascade",
        tracking=True,
        domain="[('is_company', '=', False)]",
    )
    commercial_partner_id = fields.Many2one(
        related="partner_id.commercial_partner_id",
        string="Partner company",
        store=True,
        index=True,
    )
    certification_id = fields.Many2one(
        "prm.certification", required=True, index=True, tracking=True
    )
    level = fields.Selection(related="certification_id.level")
    date_obtained = fields.Date(
        required=True, default=fields.Date.context_today, tracking=True
    )
    date_expiry = fields.Date(
        compute="_compute_date_expiry",
        store=True,
        readonly=False,
        precompute=True,
        index="btree_not_null",
        tracking=True,
        help="Empty when the certification never expires.",
    )
    state = fields.Selection(
        [
            ("valid", "Valid"),
            ("expiring", "Expiring soon"),
            ("expired", "Expired"),
        ],
        compute="_compute_state",
        store=True,
        index=True,
        tracking=True,
        precompute=True,
    )
    evidence = fields.Binary(attachment=True, help="Certificate or other proof.")
    evidence_filename = fields.Char()
    notes = fields.Text(groups="prm_partner.group_prm_user")
    reminder_expiry_date = fields.Date(
        copy=False,
        help="Expiry date for which the reminder was sent (one reminder per expiry).",
        groups="prm_partner.group_prm_user",
    )
    company_id = fields.Many2one(
        "res.company", default=lambda self: self.env.company, index=True
    )

    @api.depends("date_obtained", "certification_id.validity_months")
    def _compute_date_expiry(self):
        for record in self:
            months = record.certification_id.validity_months
            record.date_expiry = (
                record.date_obtained + relativedelta(months=months)
                if record.date_obtained and months
                else False
            )

    @api.depends("date_expiry")
    def _compute_state(self):
        today = fields.Date.context_today(self)
        soon = today + relativedelta(days=self._reminder_days())
        for record in self:
            record.state = self._state_for(record.date_expiry, today, soon)

    @api.model
    def _state_for(self, date_expiry, today, soon):
        if not date_expiry or date_expiry > soon:
            return "valid"
        return "expiring" if date_expiry >= today else "expired"

    @api.model
    def _reminder_days(self):
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("prm_partner.certification_reminder_days")
        )
        return int(value) if value else DEFAULT_REMINDER_DAYS

    @api.constrains("partner_id")
    def _check_partner_is_member(self):
        companies = self.partner_id.commercial_partner_id
        members = {
            partner
            for [partner] in self.env["prm.membership"]
            .sudo()
            ._read_group([("partner_id", "in", companies.ids)], ["partner_id"])
        }
        for record in self:
            if record.commercial_partner_id not in members:
                raise ValidationError(
                    self.env._(
                        "%(person)s cannot hold a certification: the company "
                        "%(company)s is not a partner of any program.",
                        person=record.partner_id.display_name,
                        company=record.commercial_partner_id.display_name,
                    )
                )

    @api.constrains("date_obtained", "date_expiry")
    def _check_dates(self):
        for record in self:
            if record.date_expiry and record.date_expiry < record.date_obtained:
                raise ValidationError(
                    self.env._("A certification cannot expire before it is obtained.")
                )

    # ---- cron ----
    @api.model
    def _cron_update_certifications(self):
        """Daily: refresh states (valid -> expiring -> expired) and send reminders."""
        self._update_states()
        self._send_expiry_reminders()

    @api.model
    def _update_states(self):
        """Set-based: one search and one write per target state."""
        today = fields.Date.context_today(self)
        soon = today + relativedelta(days=self._reminder_days())
        stale = {
            "expired": [("state", "!=", "expired"), ("date_expiry", "<", today)],
            "expiring": [
                ("state", "!=", "expiring"),
                ("date_expiry", ">=", today),
                ("date_expiry", "<=", soon),
            ],
            "valid": [
                ("state", "!=", "valid"),
                "|",
                ("date_expiry", "=", False),
                ("date_expiry", ">", soon),
            ],
        }
        for state, domain in stale.items():
            records = self.sudo().search(domain)
            if records:
                records.write({"state": state})

    @api.model
    def _send_expiry_reminders(self):
        """Remind each expiring certification once per expiry date: an activity for
        the partner manager and a mail to the person."""
        expiring = (
            self.sudo()
            .search([("state", "=", "expiring"), ("date_expiry", "!=", False)])
            .filtered(lambda c: c.reminder_expiry_date != c.date_expiry)
        )
        if not expiring:
            return
        managers = expiring._partner_managers()
        activity_type = self.env.ref("mail.mail_activity_data_todo")
        model_id = self.env["ir.model"]._get_id(self._name)
        self.env["mail.activity"].with_context(mail_activity_quick_update=True).create(
            [
                {
                    "res_model_id": model_id,
                    "res_id": record.id,
                    "activity_type_id": activity_type.id,
                    "user_id": managers.get(
                        record.commercial_partner_id, self.env.user
                    ).id,
                    "date_deadline": record.date_expiry,
                    "summary": self.env._(
                        "Certification %(certification)s of %(person)s expires on "
                        "%(date)s",
                        certification=record.certification_id.name,
                        person=record.partner_id.name,
                        date=record.date_expiry,
                    ),
                }
                for record in expiring
            ]
        )
        template = self.env.ref("prm_partner.mail_template_certification_expiry")
        for record in expiring.filtered("partner_id.email"):
            record.message_post_with_source(
                template,
                subtype_xmlid="mail.mt_comment",
                partner_ids=record.partner_id.ids,
            )
        for expiry, records in expiring.grouped("date_expiry").items():
            records.write({"reminder_expiry_date": expiry})

    def _partner_managers(self):
        """Partner manager of each partner company: the manager of its first active
        membership, else of its first membership, else the program's responsible."""
        memberships = (
            self.env["prm.membership"]
            .sudo()
            .search([("partner_id", "in", self.commercial_partner_id.ids)])
        )
        managers = {}
        for membership in memberships.sorted(lambda m: (m.state != "active", m.id)):
            user = membership.user_id or membership.program_id.user_id
            if user and membership.partner_id not in managers:
                managers[membership.partner_id] = user
        return managers
