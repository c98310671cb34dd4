import threading
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

LIFECYCLE_CHUNK = 500
# states of an agreement that is, or will be, in force
LIVE_STATES = ("draft", "sent", "active")


class PrmAgreement(models.Model):
    """A partnership agreement: the terms, goals and territory agreed with one
    partner company in one program, with its lifecycle and renewal chain."""

    _name = "prm.agreement"
    _description = "Partnership Agreement"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin"]
    _order = "date_start desc, id desc"
    _rec_names_search = ["name", "title", "partner_id"]

    name = fields.Char(
        "Reference",
        required=True,
        readonly=True,
        copy=False,
        default=lambda self: self.env._("New"),
        index="trigram",
    )
    title = fields.Char(required=True, tracking=True)
    agreement_type = fields.Selection(
        [
            ("reseller", "Reseller"),
            ("referral", "Referral"),
            ("services", "Services"),
            ("technology", "Technology"),
            ("nda", "Non-disclosure"),
            ("other", "Other"),
        ],
        string="Type",
        required=True,
        default="reseller",
        tracking=True,
    )
    active = fields.Boolean(default=True, tracking=True)
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("sent", "Sent"),
            ("active", "Active"),
            ("expired", "Expired"),
            ("terminated", "Terminated"),
            ("renewed", "Renewed"),
        ],
        default="draft",
        required=True,
        index=True,
        tracking=True,
        copy=False,
        group_expand="_group_expand_states",
    )
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
    # not precomputed: a precompute runs on a new record, and assigning it to the
    # membership adds that phantom record to the cached ``agreement_ids`` of the
    # membership, which then counts in its effective benefits
    membership_id = fields.Many2one(
        "prm.membership",
        compute="_compute_membership_id",
        store=True,
        index="btree_not_null",
        ondelete="set null",
        help="The partner's membership of the program, whose benefits this "
        "agreement may override.",
    )
    company_id = fields.Many2one(
        related="program_id.company_id", store=True, index=True, precompute=True
    )
    currency_id = fields.Many2one(related="program_id.currency_id")
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        index="btree_not_null",
        tracking=True,
        default=lambda self: self.env.user,
        domain="[('share', '=', False)]",
    )
    date_start = fields.Date(
        "Start date",
        required=True,
        index=True,
        tracking=True,
        default=fields.Date.context_today,
    )
    date_end = fields.Date("End date", required=True, index=True, tracking=True)
    # ---- signature ----
    signed_on = fields.Datetime(readonly=True, copy=False, tracking=True)
    signed_by_id = fields.Many2one(
        "res.partner",
        string="Signed by",
        copy=False,
        tracking=True,
        domain="[('id', 'child_of', partner_id), ('is_company', '=', False)]",
        help="The contact of the partner company who signed.",
    )
    signer_name = fields.Char("Signer name", copy=False)
    signature = fields.Image(
        copy=False, attachment=True, max_width=1024, max_height=1024
    )
    # ---- terms ----
    override_commission = fields.Boolean(
        "Own commission",
        help="The agreement's commission replaces the tier's for this membership.",
    )
    commission_percent = fields.Float("Commission (%)", tracking=True)
    override_discount = fields.Boolean(
        "Own discount",
        help="The agreement's discount replaces the tier's for this membership.",
    )
    discount_percent = fields.Float("Discount (%)", tracking=True)
    payment_terms = fields.Text()
    country_ids = fields.Many2many(
        "res.country",
        "prm_agreement_country_rel",
        "agreement_id",
        "country_id",
        string="Countries",
    )
    state_ids = fields.Many2many(
        "res.country.state",
        "prm_agreement_country_state_rel",
        "agreement_id",
        "state_id",
        string="States",
    )
    exclusive = fields.Boolean(
        "Exclusive territory",
        tracking=True,
        help="No other exclusive agreement of the program may cover an "
        "intersecting territory over an overlapping period.",
    )
    benefits = fields.Html()
    obligations = fields.Html()
    shared_resources = fields.Html()
    communication_channels = fields.Html()
    joint_strategy = fields.Html()
    attachment_ids = fields.Many2many(
        "ir.attachment",
        "prm_agreement_attachment_rel",
        "agreement_id",
        "attachment_id",
        string="Documents",
        copy=False,
    )
    goal_ids = fields.One2many("prm.agreement.goal", "agreement_id", copy=True)
    # ---- renewal ----
    auto_renew = fields.Boolean("Automatic renewal", tracking=True)
    renewal_months = fields.Integer(
        "Renewal term (months)",
        default=12,
        help="Length of the agreement that automatically follows this one.",
    )
    notice_days = fields.Integer(
        "Notice period (days)",
        default=30,
        help="The partner and the responsible are told this many days before the end.",
    )
    date_notice = fields.Date(
        "Notice date",
        compute="_compute_date_notice",
        store=True,
        index=True,
        help="End date minus the notice period: the end-of-term notice goes then.",
    )
    notice_end_date = fields.Date(
        copy=False,
        readonly=True,
        help="End date for which the end-of-term notice was sent (one notice per "
        "end date).",
    )
    predecessor_id = fields.Many2one(
        "prm.agreement",
        string="Renews",
        copy=False,
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
    )
    renewal_ids = fields.One2many("prm.agreement", "predecessor_id")
    successor_id = fields.Many2one(
        "prm.agreement",
        string="Renewed by",
        compute="_compute_successor_id",
        store=True,
        index="btree_not_null",
    )
    renewal_chain_ids = fields.Many2many(
        "prm.agreement",
        "prm_agreement_renewal_chain_rel",
        "agreement_id",
        "chain_agreement_id",
        string="Renewal chain",
        compute="_compute_renewal_chain_ids",
        store=True,
        recursive=True,
        help="All the agreements of the renewal chain, this one included.",
    )
    # ---- termination ----
    termination_reason = fields.Text(copy=False, tracking=True)
    date_terminated = fields.Date("Terminated on", copy=False, readonly=True)
    goal_count = fields.Integer(compute="_compute_goal_count")

    # ------------------------------------------------------------------
    # COMPUTE
    # ------------------------------------------------------------------
    @api.depends("partner_id", "program_id")
    def _compute_membership_id(self):
        memberships = self.env["prm.membership"].search(
            [
                ("partner_id", "in", self.partner_id.ids),
                ("program_id", "in", self.program_id.ids),
            ]
        )
        by_key = {(m.partner_id, m.program_id): m for m in memberships}
        for agreement in self:
            agreement.membership_id = by_key.get(
                (agreement.partner_id, agreement.program_id), False
            )

    @api.depends("date_end", "notice_days")
    def _compute_date_notice(self):
        for agreement in self:
            agreement.date_notice = agreement.date_end and (
                agreement.date_end - timedelta(days=max(agreement.notice_days, 0))
            )

    @api.depends("renewal_ids")
    def _compute_successor_id(self):
        for agreement in self:
            agreement.successor_id = agreement.renewal_ids[:1]

    def _compute_access_url(self):  # pylint: disable=missing-return
        super()._compute_access_url()
        for agreement in self:
            agreement.access_url = f"/my/agreements/{agreement.id}"

    # A renewal changes the chain of every agreement of the chain, not only of its
    # neighbours: the dependency goes through the whole chain (recursive), and the
    # field is stored so that the whole chain is marked for recomputation, even the
    # agreements whose chain was never read in this transaction.
    @api.depends("predecessor_id.renewal_chain_ids", "successor_id.renewal_chain_ids")
    def _compute_renewal_chain_ids(self):
        for agreement in self:
            chain = agreement
            current = agreement.predecessor_id
            while current and current not in chain:
                chain |= current
                current = current.predecessor_id
            current = agreement.successor_id
            while current and current not in chain:
                chain |= current
                current = current.successor_id
            agreement.renewal_chain_ids = chain.sorted("date_start")

    def _compute_goal_count(self):
        counts = dict(
            self.env["prm.agreement.goal"]._read_group(
                [("agreement_id", "in", self.ids)], ["agreement_id"], ["__count"]
            )
        )
        for agreement in self:
            agreement.goal_count = counts.get(agreement, 0)

    def _group_expand_states(self, states, domain):
        return [key for key, _label in self._fields["state"].selection]

    # ------------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------------
    @api.constrains("date_start", "date_end")
    def _check_dates(self):
        for agreement in self:
            if agreement.date_end < agreement.date_start:
                raise ValidationError(
                    self.env._(
                        "Agreement %(agreement)s: the end date must not be before "
                        "the start date.",
                        agreement=agreement.display_name,
                    )
                )
        # goals must stay inside the (new) term
        self.goal_ids._check_goal()

    @api.constrains("commission_percent", "discount_percent")
    def _check_percentages(self):
        for agreement in self:
            for value in (agreement.commission_percent, agreement.discount_percent):
                if not 0 <= value <= 100:
                    raise ValidationError(
                        self.env._(
                            "Agreement %(agreement)s: commission and discount must "
                            "be between 0 and 100%%.",
                            agreement=agreement.display_name,
                        )
                    )

    @api.constrains("renewal_months", "notice_days", "auto_renew")
    def _check_renewal(self):
        for agreement in self:
            if agreement.renewal_months < 0 or agreement.notice_days < 0:
                raise ValidationError(
                    self.env._(
                        "Agreement %(agreement)s: the renewal term and the notice "
                        "period cannot be negative.",
                        agreement=agreement.display_name,
                    )
                )
            if agreement.auto_renew and not agreement.renewal_months:
                raise ValidationError(
                    self.env._(
                        "Agreement %(agreement)s: an automatic renewal needs a "
                        "renewal term of at least one month.",
                        agreement=agreement.display_name,
                    )
                )

    @api.constrains("partner_id", "program_id", "membership_id", "signed_by_id")
    def _check_partner(self):
        for agreement in self:
            if not agreement.partner_id.is_company:
                raise ValidationError(
                    self.env._(
                        "An agreement is made with a partner company, not with the "
                        "contact %(contact)s.",
                        contact=agreement.partner_id.name,
                    )
                )
            if not agreement.membership_id:
                raise ValidationError(
                    self.env._(
                        "%(partner)s is not a member of program %(program)s: enroll "
                        "it before making an agreement.",
                        partner=agreement.partner_id.name,
                        program=agreement.program_id.name,
                    )
                )
            signer = agreement.signed_by_id
            if signer and signer.commercial_partner_id != agreement.partner_id:
                raise ValidationError(
                    self.env._(
                        "Agreement %(agreement)s: %(signer)s is not a contact of "
                        "%(partner)s.",
                        agreement=agreement.display_name,
                        signer=signer.name,
                        partner=agreement.partner_id.name,
                    )
                )

    @api.constrains(
        "exclusive",
        "program_id",
        "state",
        "date_start",
        "date_end",
        "country_ids",
        "state_ids",
    )
    def _check_exclusivity(self):
        exclusive = self.filtered(
            lambda a: a.exclusive and a.state in LIVE_STATES and a.active
        )
        if not exclusive:
            return
        for agreement in exclusive:
            if not (agreement.country_ids or agreement.state_ids):
                raise ValidationError(
                    self.env._(
                        "Agreement %(agreement)s is exclusive: give it a territory "
                        "(countries or states).",
                        agreement=agreement.display_name,
                    )
                )
        # every agreement counts, whoever may read it: exclusivity is a business rule
        candidates = self.sudo().search(
            [
                ("exclusive", "=", True),
                ("state", "in", LIVE_STATES),
                ("program_id", "in", exclusive.program_id.ids),
                ("date_start", "<=", max(exclusive.mapped("date_end"))),
                ("date_end", ">=", min(exclusive.mapped("date_start"))),
            ]
        )
        for agreement in exclusive:
            for other in candidates:
                if (
                    other != agreement
                    and other.program_id == agreement.program_id
                    and other.date_start <= agreement.date_end
                    and agreement.date_start <= other.date_end
                    and agreement._territory_intersects(other)
                ):
                    raise ValidationError(
                        self.env._(
                            "Agreement %(agreement)s is exclusive, but agreement "
                            "%(other)s (%(partner)s) is also exclusive in program "
                            "%(program)s over an overlapping period and an "
                            "intersecting territory.",
                            agreement=agreement.display_name,
                            other=other.display_name,
                            partner=other.partner_id.name,
                            program=agreement.program_id.name,
                        )
                    )

    def _territory_intersects(self, other):
        """Whether two territories share a country, a state, or one holds a
        country the other holds a state of."""
        self.ensure_one()
        return bool(
            (self.country_ids & other.country_ids)
            or (self.state_ids & other.state_ids)
            or (self.country_ids & other.state_ids.country_id)
            or (other.country_ids & self.state_ids.country_id)
        )

    # ------------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------------
    @api.depends("name", "title")
    def _compute_display_name(self):
        for agreement in self:
            agreement.display_name = (
                f"{agreement.name} - {agreement.title}"
                if agreement.title
                else agreement.name
            )

    @api.model_create_multi
    def create(self, vals_list):
        new = self.env._("New")
        for vals in vals_list:
            if vals.get("name", new) == new:
                vals["name"] = self.env["ir.sequence"].next_by_code(
                    "prm.agreement"
                ) or self.env._("New")
        return super().create(vals_list)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_active(self):
        if any(agreement.state == "active" for agreement in self):
            raise UserError(
                self.env._(
                    "An active agreement cannot be deleted: terminate or archive "
                    "it instead."
                )
            )

    def _get_report_base_filename(self):
        self.ensure_one()
        return self.env._("Agreement %(reference)s", reference=self.name)

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_send(self):
        """Send draft agreements to the partner for signature (state *sent*)."""
        self._prm_check_internal()
        if any(agreement.state != "draft" for agreement in self):
            raise UserError(self.env._("Only draft agreements can be sent."))
        self.write({"state": "sent"})
        for agreement in self:
            agreement.message_subscribe(partner_ids=agreement.partner_id.ids)
            agreement.message_post(
                body=self.env._(
                    "Agreement %(agreement)s is ready for your signature in your "
                    "partner portal.",
                    agreement=agreement.display_name,
                ),
                partner_ids=agreement.partner_id.ids,
                subtype_xmlid="mail.mt_comment",
            )

    def action_reset_draft(self):
        self._prm_check_internal()
        if any(agreement.state != "sent" for agreement in self):
            raise UserError(self.env._("Only sent agreements can go back to draft."))
        self.write({"state": "draft"})

    def action_confirm_signature(self):
        """Back office: record a signature obtained outside the portal (the signed
        copy among the documents), by the contact set in *Signed by*."""
        self._prm_check_internal()
        for agreement in self:
            if not agreement.signed_by_id:
                raise UserError(
                    self.env._(
                        "Agreement %(agreement)s: choose the contact who signed first.",
                        agreement=agreement.display_name,
                    )
                )
            agreement._action_sign(agreement.signed_by_id.name, agreement.signed_by_id)

    def action_terminate(self):
        """End agreements in force before their term; a reason is mandatory."""
        self._prm_check_internal()
        for agreement in self:
            if agreement.state not in ("sent", "active"):
                raise UserError(
                    self.env._(
                        "Agreement %(agreement)s is not in force: it cannot be "
                        "terminated.",
                        agreement=agreement.display_name,
                    )
                )
            if not (agreement.termination_reason or "").strip():
                raise UserError(
                    self.env._(
                        "Agreement %(agreement)s: give the termination reason first.",
                        agreement=agreement.display_name,
                    )
                )
        self.write(
            {
                "state": "terminated",
                "date_terminated": fields.Date.context_today(self),
                "auto_renew": False,
            }
        )

    def action_view_goals(self):
        self._prm_check_internal()
        self.ensure_one()
        return self.env["ir.actions.act_window"]._prm_action(
            "prm_partner.prm_agreement_goal_action",
            [("agreement_id", "=", self.id)],
            {"default_agreement_id": self.id},
        )

    # ------------------------------------------------------------------
    # SIGNATURE
    # ------------------------------------------------------------------
    def _check_signable(self):
        """Raise a translated UserError unless every agreement can be signed now."""
        today = fields.Date.context_today(self)
        for agreement in self:
            if agreement.state != "sent" or agreement.signed_on:
                raise UserError(
                    self.env._(
                        "Agreement %(agreement)s cannot be signed: it is not waiting "
                        "for a signature.",
                        agreement=agreement.display_name,
                    )
                )
            if agreement.date_end < today:
                raise UserError(
                    self.env._(
                        "Agreement %(agreement)s cannot be signed: it ended on "
                        "%(date)s.",
                        agreement=agreement.display_name,
                        date=agreement.date_end,
                    )
                )

    def _is_signable_by(self, user):
        """Whether ``user`` may sign this agreement now: it waits for a signature,
        has not ended, and the user belongs to the partner company."""
        self.ensure_one()
        return (
            self.state == "sent"
            and not self.signed_on
            and self.date_end >= fields.Date.context_today(self)
            and user.partner_id.commercial_partner_id == self.partner_id
        )

    def _action_sign(self, name, signer, signature=None):
        """Record the signature of ``signer`` (a contact of the partner company) and
        activate the agreement when its start date has come (else the daily job
        activates it on its start date). The printed agreement is attached as the
        signed copy.

        :param str name: the name the signer typed
        :param signer: ``res.partner`` record of the signing contact
        :param signature: base64 PNG of the drawn signature, if any
        """
        self.ensure_one()
        self._check_signable()
        if not (name or "").strip():
            raise UserError(self.env._("Type the signer's name to sign."))
        self.write(
            {
                "signed_on": fields.Datetime.now(),
                "signed_by_id": signer.id,
                "signer_name": name,
                "signature": signature or False,
            }
        )
        self._activate_due(fields.Date.context_today(self))
        pdf = (
            self.env["ir.actions.report"]
            .sudo()
            ._render_qweb_pdf("prm_partner.action_report_prm_agreement", self.ids)[0]
        )
        filename = self.env._("%(reference)s (signed).pdf", reference=self.name)
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": filename,
                    "raw": pdf,
                    "res_model": self._name,
                    "res_id": self.id,
                    "mimetype": "application/pdf",
                }
            )
        )
        self.attachment_ids = [fields.Command.link(attachment.id)]
        self.message_post(
            body=self.env._(
                "Agreement signed by %(name)s (%(signer)s).",
                name=name,
                signer=signer.name,
            ),
            attachment_ids=attachment.ids,
            author_id=signer.id,
            subtype_xmlid="mail.mt_note",
        )
        return True

    def _activate_due(self, today):
        """Activate the signed agreements of ``self`` whose start date has come."""
        due = self.filtered(
            lambda a: a.state == "sent" and a.signed_on and a.date_start <= today
        )
        due.write({"state": "active"})
        return due

    # ------------------------------------------------------------------
    # LIFECYCLE (daily cron)
    # ------------------------------------------------------------------
    @api.model
    def _cron_lifecycle(self):
        """Daily cron: see ``_run_lifecycle``; commits between chunks, never in
        tests."""
        testing = getattr(threading.current_thread(), "testing", False)
        return self._run_lifecycle(auto_commit=not testing)

    @api.model
    def _lifecycle_domains(self, today):
        """Hook: the domain of the agreements each lifecycle step processes."""
        return {
            "activate": [
                ("state", "=", "sent"),
                ("signed_on", "!=", False),
                ("date_start", "<=", today),
            ],
            "notice": [
                ("state", "=", "active"),
                ("date_notice", "<=", today),
                ("date_end", ">=", today),
            ],
            "end": [("state", "=", "active"), ("date_end", "<", today)],
        }

    @api.model
    def _run_lifecycle(self, today=None, auto_commit=False):
        """Move agreements along their lifecycle, step by step and chunk by chunk:

        - *activate*: signed agreements in state *sent* whose start date has come;
        - *notice*: active agreements whose notice date has come get an activity for
          the responsible and a mail to the partner and the responsible, once per
          end date;
        - *end*: active agreements past their end date become *renewed* (with an
          active successor) when set to renew, else *expired*.

        Each chunk locks its rows with ``FOR UPDATE SKIP LOCKED`` and re-checks the
        step's condition, so two workers running at once never process the same
        agreement twice.

        :return: dict ``{step: number of agreements processed}``
        """
        today = today or fields.Date.context_today(self)
        done = {}
        for step, domain in self._lifecycle_domains(today).items():
            records = self.sudo().search(domain, order="id")
            done[step] = 0
            for start in range(0, len(records), LIFECYCLE_CHUNK):
                chunk = records[start : start + LIFECYCLE_CHUNK]._lock_for_lifecycle(
                    domain
                )
                getattr(chunk, f"_lifecycle_{step}")(today)
                done[step] += len(chunk)
                processed = min(start + LIFECYCLE_CHUNK, len(records))
                self.env["ir.cron"]._notify_progress(
                    done=processed, remaining=len(records) - processed
                )
                if auto_commit:  # never in tests: see _cron_lifecycle
                    self.env.cr.commit()  # pylint: disable=invalid-commit
        return done

    def _lock_for_lifecycle(self, domain):
        """Lock the rows of ``self`` other transactions do not hold, and keep those
        still matching ``domain``."""
        if not self:
            return self
        self.flush_model()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM prm_agreement WHERE id IN %s ORDER BY id "
                "FOR UPDATE SKIP LOCKED",
                tuple(self.ids),
            )
        )
        locked = self.browse([row[0] for row in self.env.cr.fetchall()])
        locked.invalidate_recordset()
        return locked.filtered_domain(domain)

    def _lifecycle_activate(self, today):
        return self._activate_due(today)

    def _lifecycle_notice(self, today):
        pending = self.filtered(lambda a: a.notice_end_date != a.date_end)
        if not pending:
            return pending
        activity_type = self.env.ref("mail.mail_activity_data_todo")
        model_id = self.env["ir.model"]._get_id(self._name)
        self.env["mail.activity"].with_context(mail_activity_quick_update=True).create(
            [
                {
                    "res_model_id": model_id,
                    "res_id": agreement.id,
                    "activity_type_id": activity_type.id,
                    "user_id": (agreement.user_id or self.env.user).id,
                    "date_deadline": agreement.date_end,
                    "summary": self.env._(
                        "Agreement %(agreement)s ends on %(date)s: renew it or let "
                        "it expire",
                        agreement=agreement.display_name,
                        date=agreement.date_end,
                    ),
                }
                for agreement in pending
            ]
        )
        template = self.env.ref("prm_partner.mail_template_agreement_end_notice")
        for agreement in pending:
            agreement.message_post_with_source(
                template,
                subtype_xmlid="mail.mt_comment",
                partner_ids=(agreement.partner_id | agreement.user_id.partner_id).ids,
            )
        for date_end, agreements in pending.grouped("date_end").items():
            agreements.write({"notice_end_date": date_end})
        return pending

    def _lifecycle_end(self, today):
        renewing = self.filtered("auto_renew")
        (self - renewing).write({"state": "expired"})
        if renewing:
            successors = self.create(
                [agreement._prepare_renewal_vals() for agreement in renewing]
            )
            renewing.write({"state": "renewed"})
            successors._message_log_batch(
                bodies={
                    successor.id: self.env._(
                        "Automatic renewal of %(agreement)s.",
                        agreement=successor.predecessor_id.display_name,
                    )
                    for successor in successors
                }
            )
        return self

    def _prepare_renewal_vals(self):
        """Values of the successor: same terms, the renewal term from the day after
        the end, active at once (tacit renewal: the signature of the renewed
        agreement carries over); goals are shifted by the same number of days,
        inside the new term."""
        self.ensure_one()
        date_start = self.date_end + timedelta(days=1)
        date_end = date_start + relativedelta(months=self.renewal_months, days=-1)
        shift = date_start - self.date_start
        vals = self.copy_data(
            {
                "date_start": date_start,
                "date_end": date_end,
                "predecessor_id": self.id,
                "state": "active",
                "signed_on": self.signed_on,
                "signed_by_id": self.signed_by_id.id,
                "signer_name": self.signer_name,
                "goal_ids": [
                    fields.Command.create(
                        {
                            "measure": goal.measure,
                            "target": goal.target,
                            "name": goal.name,
                            "date_from": min(goal.date_from + shift, date_end),
                            "date_to": min(goal.date_to + shift, date_end),
                        }
                    )
                    for goal in self.goal_ids
                ],
            }
        )[0]
        return vals
