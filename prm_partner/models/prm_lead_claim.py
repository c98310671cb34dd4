import math

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, format_amount


class PrmLeadClaim(models.Model):
    """A partner reports one of its open opportunities won or lost. The lead
    keeps its state until a partner manager (or the lead's salesperson)
    confirms the claim, which then marks the lead won with the claimed revenue
    or lost with the reason, or rejects it with a reason. Nothing downstream
    (tiers, goals, commissions, scorecards, reports) reads claims: they count
    the lead's own won/lost state. At most one pending claim per lead (enforced
    by the database)."""

    _name = "prm.lead.claim"
    _description = "Partner-reported Opportunity Outcome"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _rec_name = "lead_id"

    lead_id = fields.Many2one(
        "crm.lead",
        string="Opportunity",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Partner company",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    outcome = fields.Selection(
        [("won", "Won"), ("lost", "Lost")],
        string="Claimed outcome",
        required=True,
        readonly=True,
        tracking=True,
    )
    currency_id = fields.Many2one(related="lead_id.company_currency")
    expected_revenue = fields.Monetary(
        "Claimed revenue",
        tracking=True,
        help="Revenue the partner reports for the won deal; written on the "
        "opportunity when the claim is confirmed.",
    )
    lost_reason_id = fields.Many2one(
        "crm.lost.reason", index="btree_not_null", tracking=True
    )
    note = fields.Text(readonly=True)
    claimant_id = fields.Many2one(
        "res.users", string="Reported by", readonly=True, index="btree_not_null"
    )
    reviewer_id = fields.Many2one(
        "res.users",
        index="btree_not_null",
        tracking=True,
        domain="[('share', '=', False)]",
    )
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("confirmed", "Confirmed"),
            ("rejected", "Rejected"),
        ],
        default="pending",
        required=True,
        index=True,
        tracking=True,
        readonly=True,
    )
    reject_reason = fields.Text(tracking=True)
    date_decided = fields.Datetime("Decided on", readonly=True, copy=False)
    decided_by_id = fields.Many2one(
        "res.users", string="Decided by", readonly=True, copy=False
    )
    company_id = fields.Many2one(
        related="lead_id.company_id", store=True, index=True, precompute=True
    )

    def init(self):
        # one pending claim per lead, whatever the number of requests at once
        self.env.cr.execute(
            SQL(
                "CREATE UNIQUE INDEX IF NOT EXISTS prm_lead_claim_one_pending_idx "
                "ON prm_lead_claim (lead_id) WHERE state = 'pending'"
            )
        )

    @api.depends("lead_id", "outcome")
    def _compute_display_name(self):
        for claim in self:
            claim.display_name = self.env._(
                "%(lead)s: claimed %(outcome)s",
                lead=claim.lead_id.name or "",
                outcome=claim._prm_outcome_label(),
            )

    @api.constrains("expected_revenue")
    def _check_revenue(self):
        for claim in self:
            if not math.isfinite(claim.expected_revenue or 0.0) or (
                claim.expected_revenue < 0
            ):
                raise ValidationError(
                    self.env._("The claimed revenue cannot be negative.")
                )

    @api.constrains("outcome", "lost_reason_id")
    def _check_lost_reason(self):
        for claim in self:
            if claim.outcome == "lost" and not claim.lost_reason_id:
                raise ValidationError(
                    self.env._("Give a reason to report the deal lost.")
                )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        claims = super().create(vals_list)
        claims._prm_after_create()
        return claims

    def _prm_after_create(self):
        """Partner users follow the claim, the lead's chatter says it, and the
        reviewer gets an activity."""
        recipients = self.env["prm.lead.offer"]._prm_recipients_by_partner(
            self.partner_id
        )
        for claim in self:
            if not claim.reviewer_id:
                claim.reviewer_id = claim._prm_default_reviewer()
            claim.sudo().message_subscribe(
                partner_ids=recipients[claim.partner_id.id].ids
            )
            claim.lead_id.sudo().message_post(
                body=claim._prm_summary(),
                subtype_xmlid="mail.mt_note",
                author_id=claim.claimant_id.partner_id.id or None,
            )
            claim.sudo().activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=claim.reviewer_id.id,
                summary=self.env._(
                    "Confirm or reject: %(partner)s reports %(lead)s %(outcome)s",
                    partner=claim.partner_id.name,
                    lead=claim.lead_id.name,
                    outcome=claim._prm_outcome_label(),
                ),
            )

    def _prm_default_reviewer(self):
        """The lead's salesperson, else the partner manager of the membership,
        else the program's manager, else the administrator."""
        self.ensure_one()
        lead = self.lead_id
        if lead.user_id and not lead.user_id.share:
            return lead.user_id
        memberships = self.partner_id.sudo().prm_membership_ids
        membership = (
            memberships.filtered(lambda m: m.program_id == lead.prm_program_id)[:1]
            or memberships.filtered(lambda m: m.state == "active")[:1]
        )
        return (
            membership.user_id
            or membership.program_id.user_id
            or self.env.ref("base.user_admin")
        )

    def _prm_outcome_label(self):
        self.ensure_one()
        return dict(self._fields["outcome"]._description_selection(self.env)).get(
            self.outcome, ""
        )

    def _prm_summary(self):
        """What the partner claims, for the chatter (escaped)."""
        self.ensure_one()
        if self.outcome == "won":
            text = self.env._(
                "%(partner)s reports this opportunity won, for %(revenue)s. "
                "It stays open until a partner manager confirms it.",
                partner=self.partner_id.name,
                revenue=format_amount(
                    self.env, self.expected_revenue, self.currency_id
                ),
            )
        else:
            text = self.env._(
                "%(partner)s reports this opportunity lost (%(reason)s). It stays "
                "open until a partner manager confirms it.",
                partner=self.partner_id.name,
                reason=self.lost_reason_id.name or "",
            )
        if self.note:
            return Markup("<p>%s</p><p>%s</p>") % (text, self.note)
        return Markup("<p>%s</p>") % text

    # ------------------------------------------------------------------
    # PORTAL
    # ------------------------------------------------------------------
    @api.model
    def _prm_portal_claim(self, lead, author, values):
        """Create the claim of ``author``'s company on ``lead`` (already checked
        open and assigned to that company). Refused while another claim of the
        lead is pending.

        :param values: ``outcome``, ``expected_revenue`` (won; the lead's when
            empty), ``lost_reason_id`` (lost), ``note``
        """
        self._prm_lock_lead(lead)
        if self.sudo().search_count(
            [("lead_id", "=", lead.id), ("state", "=", "pending")]
        ):
            raise UserError(
                self.env._(
                    "A reported outcome of %(lead)s already waits for your partner "
                    "manager: you can report again once it is decided.",
                    lead=lead.name,
                )
            )
        return self.sudo().create(self._prm_prepare_claim_vals(lead, author, values))

    @api.model
    def _prm_prepare_claim_vals(self, lead, author, values):
        outcome = values["outcome"]
        revenue = values.get("expected_revenue")
        if revenue is None:
            revenue = lead.expected_revenue
        reason = self.env["crm.lost.reason"]
        if outcome == "lost":
            reason = reason.sudo().browse(values.get("lost_reason_id") or []).exists()
            if not reason:
                raise UserError(self.env._("Give a reason to report the deal lost."))
        user = (
            self.env["res.users"]
            .sudo()
            .search([("partner_id", "=", author.id)], limit=1)
        )
        return {
            "lead_id": lead.id,
            "partner_id": lead.partner_assigned_id.id,
            "outcome": outcome,
            "expected_revenue": revenue if outcome == "won" else 0.0,
            "lost_reason_id": reason.id,
            "note": (values.get("note") or "").strip() or False,
            "claimant_id": user.id,
        }

    @api.model
    def _prm_lock_lead(self, lead):
        """Lock the lead row: two claims sent at once are checked one after the
        other."""
        lead.flush_recordset()
        self.env.cr.execute(
            SQL("SELECT id FROM crm_lead WHERE id = %s FOR UPDATE", lead.id)
        )

    # ------------------------------------------------------------------
    # REVIEW
    # ------------------------------------------------------------------
    def _prm_check_internal(self):
        """Partner managers (PRM users) decide, and so does the internal
        salesperson of the claimed opportunities."""
        user = self.env.user
        if (
            not self.env.su
            and self
            and not user.share
            and all(claim.lead_id.user_id == user for claim in self)
        ):
            return
        super()._prm_check_internal()

    def _prm_check_pending(self):
        for claim in self:
            if claim.state != "pending":
                raise UserError(
                    self.env._(
                        "The claim on %(lead)s was already decided.",
                        lead=claim.lead_id.name,
                    )
                )

    def action_confirm(self):
        """Apply the claimed outcome to the lead: won with the claimed revenue,
        or lost with the reason."""
        self._prm_check_internal()
        self._prm_check_pending()
        for claim in self:
            lead = claim.lead_id
            if not lead._prm_is_open():
                raise UserError(
                    self.env._(
                        "%(lead)s is no longer open: reject the claim instead.",
                        lead=lead.name,
                    )
                )
            if claim.outcome == "won":
                lead.write({"expected_revenue": claim.expected_revenue})
                lead.action_set_won()
            else:
                lead.action_set_lost(lost_reason_id=claim.lost_reason_id.id)
        self._prm_decide("confirmed")
        return True

    def action_reject(self, reason=None):
        """Refuse the claim with a reason (``reason`` or the one written on the
        claim); the lead is unchanged."""
        self._prm_check_internal()
        self._prm_check_pending()
        if reason:
            self.write({"reject_reason": reason})
        for claim in self:
            if not (claim.reject_reason or "").strip():
                raise UserError(
                    self.env._(
                        "Write the reason to reject the claim on %(lead)s.",
                        lead=claim.lead_id.name,
                    )
                )
        self._prm_decide("rejected")
        return True

    def _prm_decide(self, state):
        self.write(
            {
                "state": state,
                "date_decided": fields.Datetime.now(),
                "decided_by_id": self.env.user.id,
            }
        )
        self.activity_unlink(["mail.mail_activity_data_todo"])
        for claim in self:
            body = claim._prm_decision_body()
            # the partner's users follow the claim: they receive this by mail
            claim.message_post(
                body=body,
                subtype_xmlid="mail.mt_comment",
                message_type="comment",
                partner_ids=claim.claimant_id.partner_id.ids,
            )
            # a note on the lead too, also when the salesperson who decides may
            # not write on it
            claim.lead_id.sudo().message_post(body=body, subtype_xmlid="mail.mt_note")

    def _prm_decision_body(self):
        self.ensure_one()
        if self.state == "confirmed":
            text = self.env._(
                "Confirmed: %(lead)s is now %(outcome)s.",
                lead=self.lead_id.name,
                outcome=self._prm_outcome_label(),
            )
            return Markup("<p>%s</p>") % text
        text = self.env._(
            "Rejected: %(lead)s stays as it was. Reason: %(reason)s",
            lead=self.lead_id.name,
            reason=self.reject_reason,
        )
        return Markup("<p>%s</p>") % text
