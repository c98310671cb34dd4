import uuid

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import consteq

PROMOTER_MIN = 9
DETRACTOR_MAX = 6


def parse_score(value):
    """The 0-10 score given in a form as an int, or None when it is not one."""
    try:
        score = int(value)
    except (TypeError, ValueError):
        return None
    return score if 0 <= score <= 10 else None


def clean_comment(env, value, limit=10000):
    """A free-text answer from a form as stored text, or False: trimmed, at most
    ``limit`` characters; a NUL byte (refused by PostgreSQL) is refused."""
    if not isinstance(value, str):
        return False
    if "\x00" in value:
        raise ValidationError(env._("The comment holds an invalid character."))
    return value.strip()[:limit] or False


class PrmLeadSatisfaction(models.Model):
    """Customer satisfaction (0-10) on one won partner deal, given by the customer
    through a tokenised public link or entered by a manager."""

    _name = "prm.lead.satisfaction"
    _description = "Customer Satisfaction of a Partner Deal"
    _inherit = ["mail.thread"]
    _order = "date_answered desc, id desc"
    _rec_name = "lead_id"

    lead_id = fields.Many2one(
        "crm.lead", string="Deal", required=True, index=True, ondelete="cascade"
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Partner company",
        compute="_compute_from_lead",
        store=True,
        index=True,
        precompute=True,
    )
    program_id = fields.Many2one(
        "prm.program",
        compute="_compute_from_lead",
        store=True,
        index="btree_not_null",
        precompute=True,
    )
    customer_id = fields.Many2one(
        "res.partner", compute="_compute_from_lead", store=True, precompute=True
    )
    company_id = fields.Many2one(
        "res.company",
        compute="_compute_from_lead",
        store=True,
        index=True,
        precompute=True,
    )
    state = fields.Selection(
        [("requested", "Requested"), ("answered", "Answered")],
        default="requested",
        required=True,
        index=True,
        tracking=True,
    )
    source = fields.Selection(
        [("customer", "Customer (public link)"), ("manager", "Entered by a manager")],
        default="customer",
        required=True,
        readonly=True,
        help="Set by the server: the customer's answer through the link sent to "
        "the customer, or a score entered by a manager.",
    )
    score = fields.Integer(tracking=True, help="0 (not at all satisfied) to 10.")
    comment = fields.Text()
    date_requested = fields.Datetime(default=fields.Datetime.now, readonly=True)
    date_answered = fields.Datetime(index="btree_not_null", readonly=True)
    access_token = fields.Char(
        copy=False, readonly=True, groups="prm_partner.group_prm_user"
    )
    category = fields.Selection(
        [
            ("promoter", "Promoter"),
            ("passive", "Passive"),
            ("detractor", "Detractor"),
        ],
        compute="_compute_category",
        store=True,
    )

    _sql_constraints = [
        ("lead_unique", "UNIQUE(lead_id)", "A deal has one satisfaction survey."),
        (
            "score_range",
            "CHECK(score IS NULL OR (score >= 0 AND score <= 10))",
            "The satisfaction score goes from 0 to 10.",
        ),
    ]

    @api.depends("lead_id")
    def _compute_from_lead(self):
        for record in self:
            lead = record.lead_id
            record.partner_id = lead.partner_assigned_id
            record.program_id = lead.prm_program_id
            record.customer_id = lead.partner_id.commercial_partner_id
            record.company_id = lead.company_id

    @api.depends("score", "state")
    def _compute_category(self):
        for record in self:
            if record.state != "answered":
                record.category = False
            elif record.score >= PROMOTER_MIN:
                record.category = "promoter"
            elif record.score <= DETRACTOR_MAX:
                record.category = "detractor"
            else:
                record.category = "passive"

    @api.constrains("lead_id")
    def _check_lead(self):
        for record in self:
            lead = record.lead_id
            if not lead.partner_assigned_id or not lead.stage_id.is_won:
                raise ValidationError(
                    self.env._(
                        "Satisfaction is measured on won partner deals only: "
                        "%(lead)s is not won or has no assigned partner.",
                        lead=lead.display_name,
                    )
                )

    @api.constrains("score")
    def _check_score(self):
        for record in self:
            if record.score and not 0 <= record.score <= 10:
                raise ValidationError(
                    self.env._("The satisfaction score goes from 0 to 10.")
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            # the token and the source are the server's, never the form's
            vals["access_token"] = str(uuid.uuid4())
            vals.pop("source", None)
            if "score" in vals:
                vals.update(source="manager", state="answered")
                vals.setdefault("date_answered", fields.Datetime.now())
        return super().create(vals_list)

    def write(self, vals):
        if not self._is_customer_answer():
            vals = {
                key: value
                for key, value in vals.items()
                if key not in ("source", "access_token") or self.env.su
            }
            if "score" in vals:
                # a manager entering or correcting a score
                vals.update(
                    state="answered",
                    source="manager",
                    date_answered=vals.get("date_answered") or fields.Datetime.now(),
                )
        return super().write(vals)

    def _is_customer_answer(self):
        """Only ``_submit_customer_answer`` (server code, sudo) records a
        customer's answer; a context key alone, as sent over RPC, is not enough."""
        return self.env.su and self.env.context.get("prm_customer_answer")

    def message_post(self, **kwargs):
        """No message of a survey holds its link: messages of the thread are
        readable by the rated partner's users (e.g. a template chosen in the
        composer would post the link)."""
        tokens = [token for token in self.sudo().mapped("access_token") if token]
        body = str(kwargs.get("body") or "")
        if any(token in body for token in tokens):
            raise UserError(
                self.env._(
                    "The survey link is sent to the customer by e-mail only: use "
                    "the action Request customer satisfaction on the deal."
                )
            )
        return super().message_post(**kwargs)

    # ------------------------------------------------------------------
    # PUBLIC LINK
    # ------------------------------------------------------------------
    def _get_public_url(self):
        self.ensure_one()
        return f"/prm/satisfaction/{self.id}/{self.sudo().access_token}"

    @api.model
    def _get_by_token(self, satisfaction_id, token):
        """The survey ``satisfaction_id`` if ``token`` is its token, else an empty
        recordset. Returned with sudo: the caller is anonymous."""
        record_sudo = self.sudo().browse(satisfaction_id).exists()
        if (
            not record_sudo
            or not token
            or not record_sudo.access_token
            or not consteq(record_sudo.access_token, token)
        ):
            return self.browse()
        return record_sudo

    def _submit_customer_answer(self, score, comment=None):
        """Record the customer's answer once; a used link is refused."""
        self.ensure_one()
        if self.state == "answered":
            raise UserError(
                self.env._("This survey was already answered: thank you again.")
            )
        score = parse_score(score)
        if score is None:
            raise ValidationError(
                self.env._("Choose a score from 0 to 10 to answer the survey.")
            )
        self.sudo().with_context(prm_customer_answer=True).write(
            {
                "score": score,
                "comment": clean_comment(self.env, comment),
                "state": "answered",
                "source": "customer",
                "date_answered": fields.Datetime.now(),
                # a link works once
                "access_token": str(uuid.uuid4()),
            }
        )

    # ------------------------------------------------------------------
    # REQUESTS
    # ------------------------------------------------------------------
    @api.model
    def _request_for_leads(self, leads):
        """Create the surveys of won partner ``leads`` that have none yet and mail
        the customers the public link; return the created surveys."""
        existing = self.sudo().search([("lead_id", "in", leads.ids)]).lead_id
        todo = (
            leads.filtered(
                lambda lead: lead.stage_id.is_won and lead.partner_assigned_id
            )
            - existing
        )
        surveys = self.create([{"lead_id": lead.id} for lead in todo])
        surveys._send_survey_mail()
        return surveys

    def _send_survey_mail(self):
        """Mail the public link to the customer alone.

        The mail is addressed by ``email_to`` (no recipients, no followers
        notified) and is not attached to the survey's thread, so that no message
        readable by the rated partner's users holds the token; once sent it is
        deleted (``auto_delete``). The chatter gets a note without the link.
        Surveys whose customer address belongs to the rated partner company are
        not sent: a manager enters the customer's answer instead."""
        template = self.env.ref(
            "prm_partner.prm_mail_template_lead_satisfaction",
            raise_if_not_found=False,
        )
        if not template:
            return
        own_emails = self._get_partner_company_emails()
        for survey in self:
            contact = survey.lead_id.partner_id
            email = contact.email_normalized
            if not email:
                continue
            if (
                contact.commercial_partner_id == survey.partner_id.commercial_partner_id
                or email in own_emails.get(survey.partner_id.commercial_partner_id, ())
            ):
                survey.message_post(
                    body=self.env._(
                        "Survey not sent: the customer's address belongs to the "
                        "rated partner company. Enter the customer's answer here."
                    ),
                    subtype_xmlid="mail.mt_note",
                )
                continue
            template.send_mail(
                survey.id,
                email_values={
                    "email_to": contact.email_formatted,
                    "recipient_ids": [],
                    "partner_ids": [],
                    "model": False,
                    "res_id": False,
                },
            )
            survey.message_post(
                body=self.env._(
                    "Survey link sent by e-mail to the customer %(email)s.",
                    email=email,
                ),
                subtype_xmlid="mail.mt_note",
            )

    def _get_partner_company_emails(self):
        """``{commercial partner: {normalized e-mails of its contacts}}`` of the
        rated partner companies, in one query."""
        companies = self.partner_id.commercial_partner_id
        result = {}
        contacts = (
            self.env["res.partner"]
            .sudo()
            .with_context(active_test=False)
            .search_fetch(
                [
                    ("commercial_partner_id", "in", companies.ids),
                    ("email_normalized", "!=", False),
                ],
                ["commercial_partner_id", "email_normalized"],
            )
        )
        for contact in contacts:
            result.setdefault(contact.commercial_partner_id, set()).add(
                contact.email_normalized
            )
        return result

    @api.model
    def _measure(self, partners, date_from=None, date_to=None):
        """CSAT and NPS per partner company from answered surveys.

        :return: ``{partner: {"count": int, "csat": float, "nps": float}}``
        """
        domain = [("partner_id", "in", partners.ids), ("state", "=", "answered")]
        if date_from:
            domain.append(("date_answered", ">=", date_from))
        if date_to:
            domain.append(("date_answered", "<", date_to))
        result = {}
        rows = self.sudo()._read_group(
            domain, ["partner_id", "category"], ["__count", "score:sum"]
        )
        for partner, category, count, total in rows:
            values = result.setdefault(
                partner, {"count": 0, "sum": 0, "promoter": 0, "detractor": 0}
            )
            values["count"] += count
            values["sum"] += total
            if category in ("promoter", "detractor"):
                values[category] += count
        return {
            partner: {
                "count": values["count"],
                "csat": values["sum"] / values["count"],
                "nps": 100.0
                * (values["promoter"] - values["detractor"])
                / values["count"],
            }
            for partner, values in result.items()
        }
