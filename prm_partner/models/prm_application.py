import logging
import re

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Command
from odoo.tools import SQL, email_normalize

from ..tools.tax_id import match_keys, normalize_tax_id, validate_tax_id
from .prm_application_score import MAX_SCORE

_logger = logging.getLogger(__name__)

COMPANY_SIZES = [
    ("1", "1-10 employees"),
    ("2", "11-50 employees"),
    ("3", "51-200 employees"),
    ("4", "201-1000 employees"),
    ("5", "More than 1000 employees"),
]
# mail domains anyone can get an address at: they do not identify a company
PUBLIC_MAIL_DOMAINS = {
    "gmail.com",
    "googlemail.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "yahoo.com.br",
    "icloud.com",
    "me.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "gmx.de",
    "mail.com",
    "uol.com.br",
    "bol.com.br",
    "terra.com.br",
    "yandex.com",
    "zoho.com",
    "example.com",
}
PUBLIC_DOMAINS_PARAM = "prm_partner.public_mail_domains"
# hidden field of the public form a person never fills; robots filling every input do
HONEYPOT_FIELD = "fax_number"
# (field, required, max length) of the public form's text answers
TEXT_FIELDS = (
    ("name", True, 128),
    ("contact_name", True, 128),
    ("markets", False, 2000),
    ("offering", False, 2000),
    ("motivation", True, 5000),
)
# NUL and the other control characters but tab and line breaks (PostgreSQL
# refuses NUL in text)
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
PHONE_RE = re.compile(r"^\+?[0-9 ()./-]{6,32}$")
WEBSITE_RE = re.compile(
    r"^https?://[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+"
    r"(:[0-9]{1,5})?(/\S*)?$",
    re.IGNORECASE,
)


class PrmApplication(models.Model):
    """A company applying to join a partner program, from the public form or
    entered by a recruiter, scored on the program's criteria, then approved
    (partner, membership, portal access, onboarding) or rejected."""

    _name = "prm.application"
    _description = "Partner Application"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "priority desc, id desc"
    _rec_names_search = ["name", "contact_name", "email"]

    # ---- applicant ----
    name = fields.Char("Company name", required=True, index="trigram", tracking=True)
    vat = fields.Char("Tax ID", tracking=True)
    vat_normalized = fields.Char(
        compute="_compute_vat_normalized",
        store=True,
        index="btree_not_null",
        help="Tax ID without separators, with the country prefix for Brazil and "
        "the EU member states: what duplicates and existing companies are "
        "matched on.",
    )
    country_id = fields.Many2one("res.country", tracking=True)
    website = fields.Char()
    contact_name = fields.Char(required=True, tracking=True)
    email = fields.Char(required=True, tracking=True)
    email_domain = fields.Char(
        compute="_compute_email_domain", store=True, index="btree_not_null"
    )
    phone = fields.Char()
    lang = fields.Selection(
        "_get_lang_selection", string="Language", default=lambda s: s.env.lang
    )
    company_size = fields.Selection(COMPANY_SIZES)
    markets = fields.Text("Markets served")
    offering = fields.Text("Complementary offering")
    motivation = fields.Text()
    remote_addr = fields.Char(
        "Submitted from",
        readonly=True,
        index="btree_not_null",
        help="Network address of the public form submission (the rate limit "
        "counts every submission in prm.application.attempt).",
    )
    # ---- pipeline ----
    program_id = fields.Many2one(
        "prm.program",
        required=True,
        index=True,
        tracking=True,
        ondelete="restrict",
    )
    company_id = fields.Many2one(
        related="program_id.company_id", store=True, index=True, precompute=True
    )
    stage_id = fields.Many2one(
        "prm.application.stage",
        default=lambda self: self._default_stage(),
        required=True,
        index=True,
        tracking=True,
        ondelete="restrict",
        group_expand="_read_group_stage_ids",
        copy=False,
    )
    kind = fields.Selection(
        related="stage_id.kind", store=True, index=True, string="Outcome"
    )
    user_id = fields.Many2one(
        "res.users",
        string="Recruiter",
        compute="_compute_user_id",
        store=True,
        readonly=False,
        precompute=True,
        index="btree_not_null",
        tracking=True,
        domain="[('share', '=', False)]",
    )
    priority = fields.Selection(
        [("0", "Normal"), ("1", "Good"), ("2", "Very good"), ("3", "Excellent")],
        default="0",
    )
    color = fields.Integer()
    interview_notes = fields.Html()
    date_last_stage_update = fields.Datetime(
        default=fields.Datetime.now, readonly=True, copy=False
    )
    date_decision = fields.Datetime(readonly=True, copy=False, tracking=True)
    days_to_decision = fields.Float(
        compute="_compute_days_to_decision",
        store=True,
        aggregator="avg",
        help="Days between the application and its approval or rejection.",
    )
    approved_rate = fields.Float(
        "Approval rate (%)",
        compute="_compute_approved_rate",
        store=True,
        aggregator="avg",
        help="100 for approved applications and 0 for the others: its average in "
        "the analysis is the approval rate.",
    )
    # ---- qualification ----
    score_ids = fields.One2many("prm.application.score", "application_id", copy=False)
    score = fields.Float(
        "Weighted score",
        compute="_compute_score",
        store=True,
        aggregator="avg",
        help="Sum of score x weight over the criteria, divided by 5 x the sum of "
        "the weights, on a 0-100 scale.",
    )
    min_score = fields.Float(related="program_id.min_qualification_score")
    score_override = fields.Boolean(
        "Minimum score waived",
        tracking=True,
        copy=False,
        help="Set by a manager: the application may be approved below the "
        "program's minimum score.",
    )
    score_override_reason = fields.Text("Waiver reason", tracking=True, copy=False)
    # ---- decision ----
    rejection_reason_id = fields.Many2one(
        "prm.application.rejection.reason",
        index="btree_not_null",
        tracking=True,
        copy=False,
        ondelete="restrict",
    )
    rejection_note = fields.Text(copy=False)
    partner_id = fields.Many2one(
        "res.partner",
        string="Partner company",
        index="btree_not_null",
        tracking=True,
        copy=False,
        domain="[('is_company', '=', True)]",
        help="Set on approval (or beforehand to link an existing company: its "
        "contact then waits for a partner manager's confirmation before any "
        "portal invitation).",
    )
    contact_id = fields.Many2one(
        "res.partner", index="btree_not_null", copy=False, readonly=True
    )
    membership_id = fields.Many2one(
        "prm.membership", index="btree_not_null", copy=False, readonly=True
    )
    # ---- existing company ----
    matched_partner_id = fields.Many2one(
        "res.partner",
        string="Existing company",
        compute="_compute_matched_partner",
        help="An existing company with the tax ID or the mail domain of this "
        "application (public mail domains never match): approving asks to create "
        "a new company or to link to this one.",
    )
    match_reason = fields.Selection(
        [("vat", "Same tax ID"), ("email_domain", "Same mail domain")],
        compute="_compute_matched_partner",
    )
    company_choice = fields.Selection(
        [
            ("new", "Create a new company"),
            ("link", "Link to the existing company"),
        ],
        string="Approved as",
        readonly=True,
        copy=False,
        tracking=True,
    )
    contact_state = fields.Selection(
        [
            ("pending", "To confirm"),
            ("confirmed", "Confirmed"),
            ("refused", "Not invited"),
        ],
        string="Contact in the existing company",
        readonly=True,
        copy=False,
        tracking=True,
        index="btree_not_null",
        help="An application linked to an existing company invites nobody to the "
        "portal: a partner manager confirms the contact first.",
    )
    contact_confirmed_by_id = fields.Many2one(
        "res.users", string="Contact confirmed by", readonly=True, copy=False
    )
    date_contact_confirmed = fields.Datetime(readonly=True, copy=False)

    _sql_constraints = [
        (
            "score_override_reason",
            "CHECK(score_override IS NOT TRUE OR score_override_reason IS NOT NULL)",
            "Give a reason to waive the minimum score.",
        ),
    ]

    # ------------------------------------------------------------------
    # DEFAULTS AND COMPUTE
    # ------------------------------------------------------------------
    @api.model
    def _get_lang_selection(self):
        return self.env["res.lang"].get_installed()

    @api.model
    def _default_stage(self):
        return self.env["prm.application.stage"].search(
            [("kind", "=", "open")], limit=1
        )

    @api.model
    def _read_group_stage_ids(self, stages, domain):
        return stages.search([], order=stages._order)

    @api.depends("vat", "country_id")
    def _compute_vat_normalized(self):
        for application in self:
            application.vat_normalized = (
                normalize_tax_id(application.vat, application.country_id.code) or False
            )

    @api.depends("email")
    def _compute_email_domain(self):
        public = self._public_mail_domains()
        for application in self:
            email = email_normalize(application.email or "")
            domain = email.rpartition("@")[2] if email else False
            application.email_domain = domain if domain not in public else False

    @api.depends("program_id")
    def _compute_user_id(self):
        for application in self:
            if not application.user_id:
                application.user_id = application.program_id.user_id

    @api.depends("date_decision")
    def _compute_days_to_decision(self):
        for application in self:
            start = application.create_date or fields.Datetime.now()
            application.days_to_decision = (
                round((application.date_decision - start).total_seconds() / 86400, 2)
                if application.date_decision
                else 0.0
            )

    @api.depends("kind")
    def _compute_approved_rate(self):
        for application in self:
            application.approved_rate = 100.0 if application.kind == "approved" else 0.0

    @api.depends("score_ids.score", "score_ids.criterion_id.weight")
    def _compute_score(self):
        for application in self:
            lines = application.score_ids
            total = sum(lines.mapped("weight"))
            points = sum(int(line.score) * line.weight for line in lines)
            application.score = (
                round(100.0 * points / (MAX_SCORE * total), 1) if total else 0.0
            )

    @api.depends("vat_normalized", "email_domain", "kind")
    def _compute_matched_partner(self):
        matches = self.filtered(lambda a: a.kind == "open")._match_companies()
        for application in self:
            company, reason = matches.get(application, (False, False))
            application.matched_partner_id = company
            application.match_reason = reason

    def _match_companies(self):
        """The existing company each application matches: the active company
        with the same tax ID (with or without its country prefix), else the
        company of an active partner with the same mail domain. Two queries for
        the whole set.

        :return: ``{application: (company, "vat" or "email_domain")}``
        """
        keys = {app: match_keys(app.vat_normalized) for app in self}
        by_vat = self._companies_by_vat(set().union(*keys.values()))
        by_domain = self._companies_by_domain(
            set(self.mapped("email_domain")) - {False}
        )
        Partner = self.env["res.partner"]
        found = {}
        for app in self:
            ids = sorted(by_vat[key] for key in keys[app] if key in by_vat)
            if ids:
                found[app] = (Partner.browse(ids[0]), "vat")
            elif app.email_domain in by_domain:
                found[app] = (
                    Partner.browse(by_domain[app.email_domain]),
                    "email_domain",
                )
        return found

    @api.model
    def _companies_by_vat(self, keys):
        """``{tax ID without separators: id of the oldest active company}``"""
        if not keys:
            return {}
        self.env["res.partner"].flush_model(["vat", "is_company", "active"])
        compact = SQL("regexp_replace(upper(vat), %s, '', 'g')", "[^A-Z0-9]")
        self.env.cr.execute(
            SQL(
                "SELECT %s, id FROM res_partner WHERE is_company AND active "
                "AND vat IS NOT NULL AND %s IN %s ORDER BY id DESC",
                compact,
                compact,
                tuple(keys),
            )
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _companies_by_domain(self, domains):
        """``{mail domain: id of the oldest active company whose own address or
        whose active contacts' addresses are at that domain}``"""
        if not domains:
            return {}
        self.env["res.partner"].flush_model(
            ["email_normalized", "commercial_partner_id", "is_company", "active"]
        )
        self.env.cr.execute(
            SQL(
                "SELECT split_part(p.email_normalized, '@', 2), c.id "
                "FROM res_partner p "
                "JOIN res_partner c ON c.id = p.commercial_partner_id "
                "WHERE p.active AND c.active AND c.is_company "
                "AND p.email_normalized IS NOT NULL "
                "AND split_part(p.email_normalized, '@', 2) IN %s ORDER BY c.id DESC",
                tuple(domains),
            )
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _public_mail_domains(self):
        extra = (
            self.env["ir.config_parameter"].sudo().get_param(PUBLIC_DOMAINS_PARAM, "")
        )
        return PUBLIC_MAIL_DOMAINS | {
            domain.strip().lower() for domain in extra.split(",") if domain.strip()
        }

    # ------------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------------
    @api.constrains("email")
    def _check_email(self):
        for application in self:
            if not email_normalize(application.email or ""):
                raise ValidationError(
                    self.env._(
                        "%(email)s is not a valid email address.",
                        email=application.email,
                    )
                )

    @api.constrains("vat", "country_id")
    def _check_vat(self):
        for application in self:
            error = validate_tax_id(
                self.env, application.vat, application.country_id.code
            )
            if error:
                raise ValidationError(
                    self.env._(
                        "%(application)s: %(error)s",
                        application=application.name,
                        error=error,
                    )
                )

    @api.constrains("score_override", "score_override_reason")
    def _check_override_reason(self):
        for application in self:
            if (
                application.score_override
                and not (application.score_override_reason or "").strip()
            ):
                raise ValidationError(
                    self.env._("Give a reason to waive the minimum score.")
                )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        self._check_override_rights(vals_list)
        applications = super().create(vals_list)
        applications._create_score_lines()
        applications._log_stage()
        return applications

    def write(self, vals):
        self._check_override_rights([vals])
        if "stage_id" in vals:
            stage = self.env["prm.application.stage"].browse(vals["stage_id"])
            if not self.env.context.get("prm_application_decision"):
                self._check_stage_move(stage)
            vals = dict(vals, date_last_stage_update=fields.Datetime.now())
        result = super().write(vals)
        if "stage_id" in vals:
            self._log_stage()
        return result

    def _check_override_rights(self, vals_list):
        if any(
            "score_override" in vals or "score_override_reason" in vals
            for vals in vals_list
        ) and not self.env.user.has_group("prm_partner.group_prm_manager"):
            raise AccessError(
                self.env._("Only a partner manager can waive the minimum score.")
            )

    def _check_stage_move(self, stage):
        """A drag in the kanban only moves undecided applications between
        in-progress stages: decisions go through their buttons."""
        if stage.kind != "open":
            raise UserError(
                self.env._(
                    "Use the Approve or Reject button to decide an application: "
                    "moving it to %(stage)s does not create the partner nor send "
                    "the answer.",
                    stage=stage.name,
                )
            )
        if any(application.kind != "open" for application in self):
            raise UserError(
                self.env._(
                    "A decided application stays where it is: reopen a rejected "
                    "one with the Reopen button; an approved one stays approved."
                )
            )

    def _create_score_lines(self):
        criteria = self.env["prm.qualification.criterion"].search(
            [("program_id", "in", self.program_id.ids)]
        )
        by_program = criteria.grouped("program_id")
        self.env["prm.application.score"].create(
            [
                {"application_id": application.id, "criterion_id": criterion.id}
                for application in self
                for criterion in by_program.get(application.program_id, [])
                if criterion not in application.score_ids.criterion_id
            ]
        )

    def _log_stage(self):
        """Close the open stage log lines of these applications and open one in
        their new stage (two queries for the whole set)."""
        now = fields.Datetime.now()
        Log = self.env["prm.application.stage.log"].sudo()
        Log.search(
            [("application_id", "in", self.ids), ("date_out", "=", False)]
        ).write({"date_out": now})
        Log.create(
            [
                {
                    "application_id": application.id,
                    "stage_id": application.stage_id.id,
                    "date_in": now,
                }
                for application in self
            ]
        )

    # ------------------------------------------------------------------
    # PUBLIC FORM
    # ------------------------------------------------------------------
    @api.model
    def _public_form_fields(self):
        """Names of the answers the public form posts (besides the honeypot)."""
        return [
            "program_id",
            "name",
            "vat",
            "country_id",
            "website",
            "contact_name",
            "email",
            "phone",
            "company_size",
            "markets",
            "offering",
            "motivation",
        ]

    @api.model
    def _validate_public_values(self, post):
        """Check every answer of the public form.

        :param dict post: the raw posted strings
        :return: ``(vals, errors)``: values ready for ``create`` and a dict
            ``{field name: translated message}``, empty when all is well
        """
        env, vals, errors = self.env, {}, {}
        values, garbled = {}, []
        for name in self._public_form_fields():
            value = post.get(name)
            value = value.strip() if isinstance(value, str) else ""
            if CONTROL_RE.search(value):
                garbled.append(name)
                value = ""
            values[name] = value
        for name, required, size in TEXT_FIELDS:
            value = values[name]
            if required and not value:
                errors[name] = env._("This field is required.")
            elif len(value) > size:
                errors[name] = env._("Keep it under %(size)s characters.", size=size)
            vals[name] = value or False
        program = self._public_program(values["program_id"])
        if not program:
            errors["program_id"] = env._("Choose one of the published programs.")
        vals["program_id"] = program.id
        email = (
            email_normalize(values["email"]) if len(values["email"]) <= 254 else False
        )
        if not email:
            errors["email"] = env._("Enter a valid email address.")
        vals["email"] = email or values["email"]
        country = (
            env["res.country"].browse(int(values["country_id"])).exists()
            if values["country_id"].isdigit() and len(values["country_id"]) < 10
            else env["res.country"]
        )
        if not country:
            errors["country_id"] = env._("Choose a country.")
        vals["country_id"] = country.id
        vat_error = validate_tax_id(env, values["vat"], country.code)
        if vat_error:
            errors["vat"] = vat_error
        vals["vat"] = values["vat"] or False
        website = values["website"]
        if website and not website.lower().startswith(("http://", "https://")):
            website = f"https://{website}"
        if website and (len(website) > 256 or not WEBSITE_RE.match(website)):
            errors["website"] = env._("Enter a website address like www.example.com.")
        vals["website"] = website or False
        if values["phone"] and not PHONE_RE.match(values["phone"]):
            errors["phone"] = env._(
                "Enter a phone number: digits, spaces and + ( ) - . /"
            )
        vals["phone"] = values["phone"] or False
        sizes = dict(COMPANY_SIZES)
        if values["company_size"] not in sizes:
            errors["company_size"] = env._("Choose the size of your company.")
        vals["company_size"] = values["company_size"] or False
        for name in garbled:
            errors[name] = env._("Remove the control characters from this field.")
        return vals, errors

    @api.model
    def _public_program(self, program_id):
        """The published, active program of ``program_id`` (a string or an int),
        or an empty recordset. Read as superuser: programs are public only once
        published, which is what this checks."""
        program_id = str(program_id or "")
        if not program_id.isdigit() or len(program_id) > 9:
            return self.env["prm.program"]
        program_sudo = self.env["prm.program"].sudo().browse(int(program_id)).exists()
        if program_sudo and program_sudo.active and program_sudo.is_published:
            return program_sudo
        return self.env["prm.program"]

    def _find_duplicate(self, vals):
        """The open application of the same program with the same tax ID or the
        same company mail domain (public mail domains never match)."""
        country = self.env["res.country"].browse(vals.get("country_id") or [])
        vat = normalize_tax_id(vals.get("vat"), country.code)
        email = email_normalize(vals.get("email") or "")
        domain_part = email.rpartition("@")[2] if email else ""
        if domain_part in self._public_mail_domains():
            domain_part = ""
        keys = []
        if vat:
            keys.append(("vat_normalized", "=", vat))
        if domain_part:
            keys.append(("email_domain", "=", domain_part))
        if not keys:
            return self.browse()
        domain = [("program_id", "=", vals["program_id"]), ("kind", "=", "open")]
        domain += ["|"] * (len(keys) - 1) + keys
        return self.search(domain, order="id", limit=1)

    @api.model
    def _submit_public_application(self, post, remote_addr):
        """Handle a submission of the public form (the caller runs as superuser:
        nothing here trusts the input).

        Every submission counts in the rate limit of its network (an IPv4
        address or an IPv6 /64 prefix), whatever becomes of it: see
        ``prm.application.attempt``.

        :return: dict with ``status`` (``created``, ``attached``, ``invalid``,
            ``rate_limited``, ``spam``), ``errors`` (``{field name or "form":
            message}``) and ``application``
        """
        attempt, limited = self.env["prm.application.attempt"]._record_attempt(
            remote_addr
        )
        result = self._process_submission(post, remote_addr, limited)
        attempt.outcome = result["status"]
        return result

    def _process_submission(self, post, remote_addr, limited):
        application = self.browse()
        if limited:
            message = self.env._(
                "Too many applications were sent from your network in the past "
                "hour. Please try again later."
            )
            return {
                "status": "rate_limited",
                "errors": {"form": message},
                "application": application,
            }
        if post.get(HONEYPOT_FIELD):
            # the honeypot is filled: store nothing and tell the robot nothing
            _logger.info("Partner application dropped: honeypot filled")
            return {"status": "spam", "errors": {}, "application": application}
        vals, errors = self._validate_public_values(post)
        if errors:
            return {"status": "invalid", "errors": errors, "application": application}
        duplicate = self._find_duplicate(vals)
        if duplicate:
            duplicate._attach_submission(vals)
            return {"status": "attached", "errors": {}, "application": duplicate}
        vals.update(remote_addr=remote_addr, lang=self.env.lang)
        application = self.create(vals)
        application.message_post(
            body=self.env._("Application received from the public form."),
            message_type="notification",
        )
        return {"status": "created", "errors": {}, "application": application}

    def _attach_submission(self, vals):
        """Log another submission of the same company on this application."""
        self.ensure_one()
        labels = {
            name: self._fields[name].get_description(self.env)["string"]
            for name in self._public_form_fields()
        }
        lines = Markup("").join(
            Markup("<li><b>%s</b>: %s</li>") % (labels[name], value)
            for name, value in vals.items()
            if value and name in labels and name not in ("program_id", "country_id")
        )
        self.message_post(
            body=Markup("<p>%s</p><ul>%s</ul>")
            % (
                self.env._(
                    "The same company applied again (same tax ID or mail domain): "
                    "its new answers are below."
                ),
                lines,
            ),
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_open_reject(self):
        return {
            "name": self.env._("Reject the application"),
            "type": "ir.actions.act_window",
            "res_model": "prm.application.reject",
            "view_mode": "form",
            "target": "new",
            "context": {"default_application_ids": self.ids},
        }

    def action_reopen(self):
        if any(application.kind != "rejected" for application in self):
            raise UserError(self.env._("Only rejected applications can be reopened."))
        self.with_context(prm_application_decision=True).write(
            {
                "stage_id": self._default_stage().id,
                "date_decision": False,
                "rejection_reason_id": False,
                "rejection_note": False,
            }
        )

    def action_view_membership(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "prm.membership",
            "view_mode": "form",
            "res_id": self.membership_id.id,
        }

    def _check_decidable(self):
        for application in self:
            if application.kind != "open":
                raise UserError(
                    self.env._(
                        "The application %(application)s is already decided.",
                        application=application.display_name,
                    )
                )

    def _reject(self, reason, note=False, send_mail=True):
        """Reject with ``reason``; mail the applicant the translated template."""
        self._check_decidable()
        if not reason:
            raise ValidationError(self.env._("Give a reason to reject."))
        stage = self.env["prm.application.stage"].search(
            [("kind", "=", "rejected")], limit=1
        )
        if not stage:
            raise UserError(self.env._("Configure a stage of kind Rejected first."))
        self.with_context(prm_application_decision=True).write(
            {
                "stage_id": stage.id,
                "rejection_reason_id": reason.id,
                "rejection_note": note,
                "date_decision": fields.Datetime.now(),
            }
        )
        if send_mail:
            template = self.env.ref("prm_partner.mail_template_application_rejected")
            for application in self:
                template.send_mail(
                    application.id, email_layout_xmlid="mail.mail_notification_light"
                )
                application.message_post(
                    body=self.env._(
                        "Rejection mail sent to %(email)s.", email=application.email
                    ),
                    message_type="notification",
                )

    def action_approve(self):
        """Button: open the approval screen, which says what approving does
        and, for an application matching an existing company, asks whether to
        create a new company or to link to the existing one."""
        return {
            "name": self.env._("Approve the application"),
            "type": "ir.actions.act_window",
            "res_model": "prm.application.approve",
            "view_mode": "form",
            "target": "new",
            "context": {"default_application_ids": self.ids},
        }

    def _check_min_score(self):
        for application in self:
            if (
                application.score < application.min_score
                and not application.score_override
            ):
                raise ValidationError(
                    self.env._(
                        "%(application)s scores %(score)s, below the minimum of "
                        "%(minimum)s of the program %(program)s: score it again or "
                        "ask a manager to waive the minimum with a reason.",
                        application=application.display_name,
                        score=application.score,
                        minimum=application.min_score,
                        program=application.program_id.name,
                    )
                )

    def _approve(self, company_choice=False):
        """Approve these applications.

        The partner company of each is:

        - the company set on the application beforehand, or the matched existing
          company when ``company_choice`` (or the application's stored choice)
          is ``"link"``: the contact (same email under that company, else a new
          one) gets **no** portal user; it waits for a partner manager's
          confirmation (``action_confirm_contact``) unless it already has a user;
        - a new company otherwise (``"new"``, or no existing company matches):
          its new contact is invited to the portal.

        An application matching an existing company (``matched_partner_id``)
        with no choice is refused. A membership in the program is created in
        state onboarding with the entry tier (or an applicant membership moves
        to onboarding) and the onboarding steps of the program's template are
        instantiated. Approval needs the weighted score to reach the program's
        minimum unless a manager waived it.

        :param str company_choice: ``"new"`` or ``"link"``, for the applications
            matching an existing company
        :return: the memberships
        """
        self._check_decidable()
        self._check_min_score()
        stage = self.env["prm.application.stage"].search(
            [("kind", "=", "approved")], limit=1
        )
        if not stage:
            raise UserError(self.env._("Configure a stage of kind Approved first."))
        self._apply_company_choice(company_choice)
        linked = self.filtered("partner_id")
        self._link_partners()
        memberships = self._create_memberships()
        self.with_context(prm_application_decision=True).write(
            {"stage_id": stage.id, "date_decision": fields.Datetime.now()}
        )
        memberships._instantiate_onboarding()
        (self - linked)._invite_to_portal()
        linked._hold_contacts()
        for application in self:
            application.message_post(
                body=self.env._(
                    "Approved: %(partner)s joins %(program)s.",
                    partner=application.partner_id.name,
                    program=application.program_id.name,
                ),
                message_type="notification",
            )
        return memberships

    def _apply_company_choice(self, company_choice):
        """Record how each application is approved: ``link`` to the company set
        on it or to the matched company, ``new`` company otherwise. Refuses the
        applications matching an existing company without a choice."""
        if company_choice not in (False, None, "new", "link"):
            raise UserError(self.env._("Choose to create or to link a company."))
        undecided = self.filtered(
            lambda a: (
                not a.partner_id
                and a.matched_partner_id
                and not (company_choice or a.company_choice)
            )
        )
        if undecided:
            raise UserError(
                self.env._(
                    "%(applications)s match an existing company: choose to create "
                    "a new company or to link to the existing one.",
                    applications=", ".join(undecided.mapped("display_name")),
                )
            )
        for application in self:
            if application.partner_id:
                application.company_choice = "link"
            elif not application.matched_partner_id:
                application.company_choice = "new"
            else:
                choice = company_choice or application.company_choice
                application.company_choice = choice
                if choice == "link":
                    application.partner_id = application.matched_partner_id

    def _link_partners(self):
        """Create the new partner companies (one batched create) and find or
        create the contacts (same email under the company, else a new one)."""
        Partner = self.env["res.partner"]
        new = self.filtered(lambda a: not a.partner_id)
        created = Partner.create([app._prepare_company_vals() for app in new])
        for application, company in zip(new, created, strict=True):
            application.partner_id = company
        emails = [email_normalize(e) for e in self.mapped("email")]
        contacts = Partner.search(
            [
                ("commercial_partner_id", "in", self.partner_id.ids),
                ("is_company", "=", False),
                ("email_normalized", "in", emails),
            ],
            order="id",
        )
        by_key = {}
        for contact in contacts:
            key = (contact.commercial_partner_id, contact.email_normalized)
            by_key.setdefault(key, contact)
        for application in self:
            key = (
                application.partner_id.commercial_partner_id,
                email_normalize(application.email),
            )
            if key in by_key:
                application.contact_id = by_key[key]
        new = self.filtered(lambda a: not a.contact_id)
        created = Partner.create([app._prepare_contact_vals() for app in new])
        for application, contact in zip(new, created, strict=True):
            application.contact_id = contact

    def _hold_contacts(self):
        """Applications linked to an existing company: a contact with a user
        already has its access and is confirmed; the others wait for a partner
        manager (nobody is invited to the portal before)."""
        with_user = self.filtered(lambda a: a.contact_id.sudo().user_ids)
        with_user.contact_state = "confirmed"
        waiting = self - with_user
        waiting.contact_state = "pending"
        for application in waiting:
            application.message_post(
                body=self.env._(
                    "%(contact)s was added to the existing company %(company)s "
                    "without portal access: a partner manager confirms the contact "
                    "before anyone is invited.",
                    contact=application.contact_id.display_name,
                    company=application.partner_id.display_name,
                ),
                message_type="notification",
            )

    def _check_contact_confirmer(self):
        if not self.env.user.has_group("prm_partner.group_prm_manager"):
            raise AccessError(
                self.env._("Only a partner manager can confirm or refuse a contact.")
            )
        if any(application.contact_state != "pending" for application in self):
            raise UserError(
                self.env._(
                    "Only the contact of an approved application linked to an "
                    "existing company, not confirmed yet, can be confirmed or refused."
                )
            )

    def action_confirm_contact(self):
        """Button (partner managers): confirm that the applicant's contact
        belongs to the existing company and invite it to the portal."""
        self._check_contact_confirmer()
        self._invite_to_portal()
        self._record_contact_decision(
            "confirmed",
            lambda app: self.env._(
                "%(user)s confirmed %(contact)s as a contact of %(company)s: "
                "portal invitation sent to %(email)s.",
                user=self.env.user.name,
                contact=app.contact_id.display_name,
                company=app.partner_id.display_name,
                email=app.contact_id.email,
            ),
        )
        return True

    def action_refuse_contact(self):
        """Button (partner managers): the applicant does not belong to the
        existing company; nobody is invited (archive the contact if needed)."""
        self._check_contact_confirmer()
        self._record_contact_decision(
            "refused",
            lambda app: self.env._(
                "%(user)s refused %(contact)s as a contact of %(company)s: "
                "nobody is invited to the portal.",
                user=self.env.user.name,
                contact=app.contact_id.display_name,
                company=app.partner_id.display_name,
            ),
        )
        return True

    def _record_contact_decision(self, state, message):
        """Store who decided on the linked contact and when, and post
        ``message(application)`` on each application."""
        self.write(
            {
                "contact_state": state,
                "contact_confirmed_by_id": self.env.user.id,
                "date_contact_confirmed": fields.Datetime.now(),
            }
        )
        for application in self:
            application.message_post(
                body=message(application), message_type="notification"
            )

    def _invite_to_portal(self):
        """Grant portal access to the contacts that have no user yet, the way the
        portal wizard does (it creates the user and queues the invitation mail).
        Runs as superuser: recruiters need no right on users."""
        contacts = self.contact_id.filtered(
            lambda c: not c.with_context(active_test=False).user_ids
        )
        if not contacts:
            return
        wizard_sudo = (
            self.env["portal.wizard"]
            .sudo()
            .create({"partner_ids": [Command.set(contacts.ids)]})
        )
        for wizard_user_sudo in wizard_sudo.user_ids:
            wizard_user_sudo.action_grant_access()

    def _prepare_company_vals(self):
        self.ensure_one()
        return {
            "name": self.name,
            "is_company": True,
            "vat": self.vat,
            "country_id": self.country_id.id,
            "website": self.website,
            "phone": self.phone,
            "lang": self.lang,
        }

    def _prepare_contact_vals(self):
        self.ensure_one()
        return {
            "name": self.contact_name,
            "parent_id": self.partner_id.commercial_partner_id.id,
            "email": self.email,
            "phone": self.phone,
            "lang": self.lang,
        }

    def _create_memberships(self):
        """Create the memberships in state onboarding (an applicant membership of
        the same company and program moves to onboarding instead)."""
        Membership = self.env["prm.membership"]
        existing = Membership.search(
            [
                ("partner_id", "in", self.partner_id.commercial_partner_id.ids),
                ("program_id", "in", self.program_id.ids),
            ]
        )
        by_pair = {(m.partner_id, m.program_id): m for m in existing}
        to_create, applicants = [], Membership
        for application in self:
            company = application.partner_id.commercial_partner_id
            found = by_pair.get((company, application.program_id))
            if found and found.state != "applicant":
                raise ValidationError(
                    self.env._(
                        "%(partner)s is already a member of the program %(program)s.",
                        partner=company.display_name,
                        program=application.program_id.name,
                    )
                )
            if found:
                application.membership_id = found
                applicants |= found
            else:
                to_create.append(application._prepare_membership_vals())
        applicants.action_set_onboarding()
        created = Membership.create(to_create)
        for membership in created:
            self.filtered(
                lambda a, m=membership: (
                    a.partner_id.commercial_partner_id == m.partner_id
                    and a.program_id == m.program_id
                )
            ).membership_id = membership
        return self.membership_id

    def _prepare_membership_vals(self):
        self.ensure_one()
        return {
            "partner_id": self.partner_id.commercial_partner_id.id,
            "program_id": self.program_id.id,
            "state": "onboarding",
            "user_id": (self.user_id or self.program_id.user_id or self.env.user).id,
        }
