import logging
import re

from dateutil.relativedelta import relativedelta
from markupsafe import Markup
from psycopg2 import Error as PsycopgError

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, email_normalize, mute_logger

_logger = logging.getLogger(__name__)

DEFAULT_PROTECTION_DAYS = 90
DEFAULT_SIMILARITY = 0.6
DEFAULT_PUBLIC_DOMAINS = (
    "gmail.com,googlemail.com,yahoo.com,yahoo.fr,hotmail.com,hotmail.fr,outlook.com,"
    "live.com,msn.com,icloud.com,me.com,aol.com,gmx.com,gmx.de,mail.com,proton.me,"
    "protonmail.com,yandex.com,zoho.com,uol.com.br,bol.com.br,terra.com.br"
)
# fields a partner fills in the portal form "Register a deal"
PORTAL_FIELDS = (
    "customer_name",
    "contact_name",
    "email",
    "phone",
    "vat",
    "country_id",
    "state_id",
    "expected_revenue",
    "date_close_expected",
    "description",
)
EMAIL_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


class PrmDealRegistration(models.Model):
    """A deal a partner registers: checked for conflicts, approved or rejected by
    a manager; approval gives the partner the opportunity, protected for a while."""

    _name = "prm.deal.registration"
    _description = "Deal Registration"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    name = fields.Char(
        "Reference", readonly=True, copy=False, default="/", index="trigram"
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Partner company",
        required=True,
        index=True,
        tracking=True,
        domain="[('is_company', '=', True), ('prm_is_partner', '=', True)]",
    )
    submitted_by_id = fields.Many2one(
        "res.partner", string="Submitted by", readonly=True, index="btree_not_null"
    )
    program_id = fields.Many2one(
        "prm.program", index="btree_not_null", tracking=True, ondelete="restrict"
    )
    company_id = fields.Many2one(
        "res.company", default=lambda self: self.env.company, index=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    user_id = fields.Many2one(
        "res.users",
        string="Reviewer",
        index="btree_not_null",
        tracking=True,
        domain="[('share', '=', False)]",
    )
    # ---- the customer ----
    customer_name = fields.Char(
        "Customer company", required=True, tracking=True, index="trigram"
    )
    contact_name = fields.Char("Contact name", required=True)
    email = fields.Char()
    email_normalized = fields.Char(
        compute="_compute_email_keys", store=True, index="btree_not_null"
    )
    email_domain = fields.Char(
        compute="_compute_email_keys",
        store=True,
        index="btree_not_null",
        help="Domain of the email, unless it is a public mail domain.",
    )
    phone = fields.Char()
    vat = fields.Char("Tax ID")
    vat_normalized = fields.Char(
        compute="_compute_vat_normalized", store=True, index="btree_not_null"
    )
    country_id = fields.Many2one("res.country")
    state_id = fields.Many2one(
        "res.country.state",
        string="Region",
        domain="[('country_id', '=?', country_id)]",
    )
    expected_revenue = fields.Monetary(tracking=True)
    date_close_expected = fields.Date("Expected close date", tracking=True)
    description = fields.Text()
    # ---- review ----
    state = fields.Selection(
        [
            ("submitted", "Submitted"),
            ("approved", "Approved"),
            ("rejected", "Rejected"),
            ("expired", "Protection expired"),
        ],
        default="submitted",
        required=True,
        index=True,
        tracking=True,
        readonly=True,
    )
    reject_reason = fields.Text(tracking=True)
    conflict_ids = fields.One2many("prm.deal.conflict", "registration_id")
    conflict_count = fields.Integer(compute="_compute_conflict_count", store=True)
    lead_id = fields.Many2one(
        "crm.lead",
        string="Opportunity",
        index="btree_not_null",
        tracking=True,
        help="Set it before approving to link an existing opportunity; approval "
        "creates one otherwise.",
    )
    date_approved = fields.Date(readonly=True, copy=False)
    protection_until = fields.Date(
        index="btree_not_null", tracking=True, readonly=True, copy=False
    )
    extension_requested = fields.Boolean(readonly=True, copy=False, tracking=True)
    extension_granted = fields.Boolean(readonly=True, copy=False, tracking=True)

    # ------------------------------------------------------------------
    # SETUP
    # ------------------------------------------------------------------
    def init(self):
        """Similar company names use PostgreSQL's ``pg_trgm``; without the right
        to create it, detection falls back to ILIKE."""
        self.env.cr.execute(SQL("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"))
        if self.env.cr.fetchone():
            return
        try:
            with self.env.cr.savepoint(), mute_logger("odoo.sql_db"):
                self.env.cr.execute(SQL("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        except PsycopgError:
            _logger.warning(
                "pg_trgm could not be created: deal registration conflicts on "
                "similar company names fall back to ILIKE."
            )

    # ------------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------------
    @api.model
    def _public_domains(self):
        value = self._param("public_email_domains", DEFAULT_PUBLIC_DOMAINS, str)
        return {d.strip().lower() for d in (value or "").split(",") if d.strip()}

    @api.model
    def _email_domain(self, email):
        """Domain of ``email``, ``False`` for public mail domains."""
        normalized = email_normalize(email or "")
        if not normalized:
            return False
        domain = normalized.rsplit("@", 1)[1]
        return False if domain in self._public_domains() else domain

    @api.model
    def _normalize_vat(self, vat):
        return re.sub(r"[^0-9A-Za-z]", "", vat or "").upper() or False

    @api.model
    def _param(self, key, default, cast):
        value = self.env["ir.config_parameter"].sudo().get_param(f"prm_partner.{key}")
        return cast(value) if value else default

    @api.model
    def _protection_days(self):
        return self._param("deal_protection_days", DEFAULT_PROTECTION_DAYS, int)

    @api.model
    def _similarity_threshold(self):
        return self._param("deal_similarity_threshold", DEFAULT_SIMILARITY, float)

    @api.model
    def _has_trigram(self):
        self.env.cr.execute(SQL("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"))
        return bool(self.env.cr.fetchone())

    # ------------------------------------------------------------------
    # COMPUTE / CONSTRAINTS
    # ------------------------------------------------------------------
    @api.depends("email")
    def _compute_email_keys(self):
        for registration in self:
            registration.email_normalized = email_normalize(registration.email or "")
            registration.email_domain = self._email_domain(registration.email)

    @api.depends("vat")
    def _compute_vat_normalized(self):
        for registration in self:
            registration.vat_normalized = self._normalize_vat(registration.vat)

    @api.depends("conflict_ids")
    def _compute_conflict_count(self):
        counts = dict(
            self.env["prm.deal.conflict"]._read_group(
                [("registration_id", "in", self.ids)], ["registration_id"], ["__count"]
            )
        )
        for registration in self:
            registration.conflict_count = counts.get(registration, 0)

    def _compute_access_url(self):  # pylint: disable=missing-return
        super()._compute_access_url()
        for registration in self:
            registration.access_url = f"/my/deal_registrations/{registration.id}"

    @api.constrains("customer_name", "contact_name")
    def _check_names(self):
        for registration in self:
            if not (registration.customer_name or "").strip():
                raise ValidationError(self.env._("Give the customer company's name."))
            if not (registration.contact_name or "").strip():
                raise ValidationError(self.env._("Give the customer contact's name."))

    @api.constrains("email")
    def _check_email(self):
        for registration in self.filtered("email"):
            if not EMAIL_RE.match(registration.email.strip()):
                raise ValidationError(
                    self.env._(
                        "%(email)s is not a valid email address.",
                        email=registration.email,
                    )
                )

    @api.constrains("country_id", "state_id")
    def _check_state_country(self):
        for registration in self.filtered("state_id"):
            if (
                registration.country_id
                and registration.state_id.country_id != registration.country_id
            ):
                raise ValidationError(
                    self.env._(
                        "%(state)s is not in %(country)s.",
                        state=registration.state_id.name,
                        country=registration.country_id.name,
                    )
                )

    @api.constrains("expected_revenue")
    def _check_revenue(self):
        for registration in self:
            if registration.expected_revenue < 0:
                raise ValidationError(
                    self.env._("The expected revenue cannot be negative.")
                )

    @api.constrains("date_close_expected")
    def _check_close_date(self):
        today = fields.Date.context_today(self)
        for registration in self.filtered("date_close_expected"):
            if registration.state == "submitted" and (
                registration.date_close_expected < today
            ):
                raise ValidationError(
                    self.env._("The expected close date cannot be in the past.")
                )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = (
                    self.env["ir.sequence"].next_by_code("prm.deal.registration") or "/"
                )
        registrations = super().create(vals_list)
        registrations._set_reviewer()
        registrations._detect_conflicts()
        registrations._check_not_protected()
        registrations._schedule_review()
        return registrations

    def _set_reviewer(self):
        for registration in self.filtered(lambda r: not r.user_id):
            membership = registration.partner_id.prm_membership_ids.filtered(
                lambda m, r=registration: (
                    not r.program_id or m.program_id == r.program_id
                )
            )[:1]
            registration.user_id = (
                membership.user_id or membership.program_id.user_id or self.env.user
            )

    def _schedule_review(self):
        for registration in self:
            if registration.user_id and not registration.user_id.share:
                registration.activity_schedule(
                    "mail.mail_activity_data_todo",
                    user_id=registration.user_id.id,
                    summary=self.env._(
                        "Review the deal registration of %(partner)s",
                        partner=registration.partner_id.name,
                    ),
                )

    # ------------------------------------------------------------------
    # CONFLICTS
    # ------------------------------------------------------------------
    def _detect_conflicts(self):
        """List the open leads/opportunities (of other partners and of the
        internal team) and the live registrations of other partners that match
        each registration: same email, same email domain (public domains
        ignored), same VAT, or a similar company name (trigram similarity at or
        above the configured threshold; ILIKE without ``pg_trgm``)."""
        Conflict = self.env["prm.deal.conflict"].sudo()
        self.sudo().conflict_ids.unlink()
        trigram = self._has_trigram()
        threshold = self._similarity_threshold()
        vals_list = []
        for registration in self:
            found = {}
            for kind, lead_ids in registration._conflicting_leads(
                trigram, threshold
            ).items():
                for lead_id, score in lead_ids:
                    found.setdefault(("lead", lead_id), (kind, score))
            for kind, reg_ids in registration._conflicting_registrations(
                trigram, threshold
            ).items():
                for reg_id, score in reg_ids:
                    found.setdefault(("registration", reg_id), (kind, score))
            for (target, record_id), (kind, score) in found.items():
                vals_list.append(
                    {
                        "registration_id": registration.id,
                        "lead_id": record_id if target == "lead" else False,
                        "other_registration_id": (
                            record_id if target == "registration" else False
                        ),
                        "match_type": kind,
                        "similarity": score,
                    }
                )
        Conflict.create(vals_list)
        self.invalidate_recordset(["conflict_ids", "conflict_count"])
        return True

    def _conflicting_leads(self, trigram, threshold):
        """:return: ``{match_type: [(lead_id, similarity)]}``"""
        self.ensure_one()
        Lead = self.env["crm.lead"].sudo()
        base = [
            ("active", "=", True),
            ("probability", "<", 100),
            ("id", "!=", self.lead_id.id or 0),
            "|",
            ("partner_assigned_id", "=", False),
            ("partner_assigned_id", "!=", self.partner_id.id),
        ]
        found = {}
        if self.email_normalized:
            found["email"] = [
                (lead_id, 1.0)
                for lead_id in Lead._search(
                    [*base, ("email_normalized", "=", self.email_normalized)]
                )
            ]
        if self.email_domain:
            found["domain"] = [
                (lead_id, 1.0)
                for lead_id in Lead._search(
                    [*base, ("email_normalized", "=ilike", f"%@{self.email_domain}")]
                )
            ]
        if self.vat_normalized:
            found["vat"] = [
                (lead.id, 1.0)
                for lead in Lead.search(
                    [*base, ("partner_id.vat", "!=", False)]
                ).filtered(
                    lambda lead: (
                        self._normalize_vat(lead.partner_id.commercial_partner_id.vat)
                        == self.vat_normalized
                    )
                )
            ]
        allowed = list(Lead._search(base))
        if allowed:
            found["name"] = self._similar_names(
                "crm_lead",
                "COALESCE(NULLIF(partner_name, ''), contact_name, '')",
                allowed,
                trigram,
                threshold,
            )
        return found

    def _conflicting_registrations(self, trigram, threshold):
        """:return: ``{match_type: [(registration_id, similarity)]}``"""
        self.ensure_one()
        base = [
            ("id", "!=", self.id),
            ("partner_id", "!=", self.partner_id.id),
            ("state", "in", ["submitted", "approved"]),
        ]
        Registration = self.sudo()
        found = {}
        for kind, field in (
            ("email", "email_normalized"),
            ("domain", "email_domain"),
            ("vat", "vat_normalized"),
        ):
            if self[field]:
                found[kind] = [
                    (reg_id, 1.0)
                    for reg_id in Registration._search(
                        [*base, (field, "=", self[field])]
                    )
                ]
        allowed = list(Registration._search(base))
        if allowed:
            found["name"] = self._similar_names(
                "prm_deal_registration", "customer_name", allowed, trigram, threshold
            )
        return found

    def _similar_names(self, table, expression, ids, trigram, threshold):
        """Ids among ``ids`` of ``table`` whose ``expression`` is similar to the
        customer name (one query)."""
        name = (self.customer_name or "").strip()
        if not name:
            return []
        column = SQL(expression)  # constant expressions from this class only
        if trigram:
            query = SQL(
                "SELECT id, similarity(%(column)s, %(name)s) AS score FROM %(table)s "
                "WHERE id IN %(ids)s AND similarity(%(column)s, %(name)s) >= %(limit)s",
                column=column,
                name=name,
                table=SQL.identifier(table),
                ids=tuple(ids),
                limit=threshold,
            )
        else:
            query = SQL(
                "SELECT id, 1.0 FROM %(table)s WHERE id IN %(ids)s AND "
                "(%(column)s ILIKE %(pattern)s "
                "OR %(name)s ILIKE %(wildcard)s || %(column)s || %(wildcard)s) "
                "AND %(column)s != ''",
                column=column,
                table=SQL.identifier(table),
                ids=tuple(ids),
                pattern=f"%{name}%",
                name=name,
                wildcard="%",
            )
        self.env.cr.execute(query)
        return [(row[0], float(row[1])) for row in self.env.cr.fetchall()]

    def _check_not_protected(self):
        """Refuse a registration whose customer is protected for another partner."""
        today = fields.Date.context_today(self)
        for registration in self:
            for conflict in registration.sudo().conflict_ids:
                lead = conflict.lead_id
                other = conflict.other_registration_id
                until = False
                if (
                    lead
                    and lead.prm_protected_until
                    and lead.prm_protected_until >= today
                    and lead.partner_assigned_id != registration.partner_id
                ):
                    until = lead.prm_protected_until
                elif (
                    other
                    and other.state == "approved"
                    and other.protection_until
                    and other.protection_until >= today
                ):
                    until = other.protection_until
                if until and conflict.match_type != "name":
                    # never say by whom nor until when: that belongs to the other
                    # partner
                    raise ValidationError(
                        self.env._(
                            "This customer is already registered: it cannot be "
                            "registered again for now."
                        )
                    )

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_check_conflicts(self):
        self._prm_check_internal()
        self._detect_conflicts()
        return True

    def _check_submitted(self):
        for registration in self:
            if registration.state != "submitted":
                raise UserError(
                    self.env._(
                        "Registration %(name)s was already reviewed.",
                        name=registration.name,
                    )
                )

    def action_approve(self):
        """Approve: create (or link) the opportunity, assign it to the partner,
        protect it, and mail the partner."""
        self._prm_check_internal()
        self._check_submitted()
        today = fields.Date.context_today(self)
        until = today + relativedelta(days=self._protection_days())
        for registration in self:
            vals = registration._prepare_lead_vals(until)
            lead = registration.lead_id
            if lead:
                lead.prm_offer_ids.action_withdraw()
                lead.write(vals)
            else:
                lead = self.env["crm.lead"].create(
                    dict(vals, **registration._prepare_new_lead_vals())
                )
            lead._prm_subscribe_partner_users(registration.partner_id)
            registration.write(
                {
                    "state": "approved",
                    "lead_id": lead.id,
                    "date_approved": today,
                    "protection_until": until,
                    "reject_reason": False,
                }
            )
        self.activity_unlink(["mail.mail_activity_data_todo"])
        self._notify_partner("prm_partner.mail_template_deal_registration_approved")
        return True

    def _prepare_lead_vals(self, until):
        return {
            "partner_assigned_id": self.partner_id.id,
            "prm_program_id": self.program_id.id,
            "prm_origin": "registered",
            "prm_registration_id": self.id,
            "prm_protected_until": until,
            "type": "opportunity",
        }

    def _prepare_new_lead_vals(self):
        return {
            "name": self.env._(
                "%(customer)s (registered)", customer=self.customer_name
            ),
            "partner_name": self.customer_name,
            "contact_name": self.contact_name,
            "email_from": self.email,
            "phone": self.phone,
            "country_id": self.country_id.id,
            "state_id": self.state_id.id,
            "expected_revenue": self.expected_revenue,
            "date_deadline": self.date_close_expected,
            "description": self.description,
            "company_id": self.company_id.id,
        }

    def action_reject(self):
        """Reject with the reason written on the registration; the partner is
        mailed."""
        self._prm_check_internal()
        self._check_submitted()
        for registration in self:
            if not (registration.reject_reason or "").strip():
                raise UserError(
                    self.env._(
                        "Write the reason to reject %(name)s.", name=registration.name
                    )
                )
        self.write({"state": "rejected"})
        self.activity_unlink(["mail.mail_activity_data_todo"])
        self._notify_partner("prm_partner.mail_template_deal_registration_rejected")
        return True

    def action_request_extension(self):
        """The partner asks once to extend the protection."""
        self._prm_check_internal()
        for registration in self:
            if registration.state != "approved":
                raise UserError(
                    self.env._(
                        "Only an approved, protected registration can be extended."
                    )
                )
            if registration.extension_requested:
                raise UserError(
                    self.env._(
                        "An extension of %(name)s was already requested.",
                        name=registration.name,
                    )
                )
        self.write({"extension_requested": True})
        for registration in self:
            registration.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=registration.user_id.id or self.env.ref("base.user_admin").id,
                summary=self.env._(
                    "%(partner)s asks to extend the protection of %(name)s",
                    partner=registration.partner_id.name,
                    name=registration.name,
                ),
            )
        return True

    def action_grant_extension(self):
        """Extend the protection by the configured number of days (once)."""
        self._prm_check_internal()
        for registration in self:
            if (
                registration.state != "approved"
                or not registration.extension_requested
                or registration.extension_granted
            ):
                raise UserError(
                    self.env._(
                        "%(name)s has no pending extension request.",
                        name=registration.name,
                    )
                )
            until = registration.protection_until + relativedelta(
                days=self._protection_days()
            )
            registration.write({"protection_until": until, "extension_granted": True})
            registration.lead_id.prm_protected_until = until
        self.activity_unlink(["mail.mail_activity_data_todo"])
        return True

    def _notify_partner(self, template_xmlid):
        template = self.env.ref(template_xmlid)
        for registration in self:
            registration.message_post_with_source(
                template,
                subtype_xmlid="mail.mt_comment",
                partner_ids=(
                    registration.submitted_by_id or registration.partner_id
                ).ids,
            )

    # ------------------------------------------------------------------
    # PORTAL / CRON
    # ------------------------------------------------------------------
    @api.model
    def _prm_portal_register(self, partner, values):
        """Create a registration for the portal user's company ``partner``
        (validated by the model's constraints; refused when the company is not a
        member of any program).

        :param partner: the portal user's contact (``res.partner``)
        :param values: the form fields (already parsed)
        """
        company = partner.commercial_partner_id
        membership = company.sudo().prm_membership_ids.filtered(
            lambda m: m.state == "active"
        )[:1]
        if not membership:
            raise UserError(self.env._("Only active partners can register deals."))
        vals = {key: value for key, value in values.items() if key in PORTAL_FIELDS}
        # the names are NOT NULL columns: refuse missing ones before the INSERT
        for key, message in (
            ("customer_name", self.env._("Give the customer company's name.")),
            ("contact_name", self.env._("Give the customer contact's name.")),
        ):
            if not (vals.get(key) or "").strip():
                raise ValidationError(message)
        vals.update(
            {
                "partner_id": company.id,
                "submitted_by_id": partner.id,
                "program_id": membership.program_id.id,
                "company_id": membership.company_id.id or self.env.company.id,
            }
        )
        return self.sudo().create(vals)

    @api.model
    def _cron_expire_protection(self):
        """Protection windows that ended: the registration is marked expired."""
        today = fields.Date.context_today(self)
        expired = self.sudo().search(
            [("state", "=", "approved"), ("protection_until", "<", today)]
        )
        expired.write({"state": "expired"})
        expired._message_log_batch(
            bodies={
                registration.id: Markup("<p>%s</p>")
                % self.env._("The protection window ended.")
                for registration in expired
            }
        )
        return expired
