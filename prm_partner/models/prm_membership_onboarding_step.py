from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .prm_onboarding_step import STEP_OWNERS


class PrmMembershipOnboardingStep(models.Model):
    """An onboarding step of one membership, copied from its program's template.

    Partner-side steps are ticked off by the partner in the portal; company-side
    steps are activities of the partner manager. When every step is done the
    membership becomes active."""

    _name = "prm.membership.onboarding.step"
    _description = "Partner Onboarding Step"
    _order = "membership_id, sequence, id"

    membership_id = fields.Many2one(
        "prm.membership", required=True, ondelete="cascade", index=True
    )
    step_id = fields.Many2one(
        "prm.onboarding.step",
        string="Template step",
        ondelete="set null",
        index="btree_not_null",
    )
    partner_id = fields.Many2one(
        related="membership_id.partner_id", store=True, index=True
    )
    program_id = fields.Many2one(
        related="membership_id.program_id", store=True, index=True
    )
    company_id = fields.Many2one(
        related="membership_id.company_id", store=True, index=True
    )
    user_id = fields.Many2one(
        related="membership_id.user_id",
        string="Partner manager",
        store=True,
        index="btree_not_null",
    )
    sequence = fields.Integer(default=10)
    name = fields.Char("Title", required=True)
    description = fields.Text()
    owner = fields.Selection(STEP_OWNERS, required=True, default="partner")
    date_due = fields.Date("Due on", index="btree_not_null")
    certification_id = fields.Many2one(
        "prm.certification",
        string="Required certification",
        ondelete="restrict",
        index="btree_not_null",
    )
    is_done = fields.Boolean("Done", index=True, readonly=True, copy=False)
    date_done = fields.Datetime("Done on", readonly=True, copy=False)
    done_by_id = fields.Many2one("res.users", "Done by", readonly=True, copy=False)
    activity_id = fields.Many2one(
        "mail.activity",
        ondelete="set null",
        readonly=True,
        copy=False,
        index="btree_not_null",
    )
    is_overdue = fields.Boolean(
        "Overdue", compute="_compute_is_overdue", search="_search_is_overdue"
    )

    @api.depends("date_due", "is_done")
    @api.depends_context("tz")
    def _compute_is_overdue(self):
        today = fields.Date.context_today(self)
        for step in self:
            step.is_overdue = bool(
                not step.is_done and step.date_due and step.date_due < today
            )

    def _search_is_overdue(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Unsupported search on overdue steps."))
        today = fields.Date.context_today(self)
        overdue = [("is_done", "=", False), ("date_due", "<", today)]
        if (operator == "=") == value:
            return overdue
        return [
            "|",
            ("is_done", "=", True),
            "|",
            ("date_due", "=", False),
            ("date_due", ">=", today),
        ]

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_mark_done(self):
        """Button of the partner manager (any step)."""
        self._prm_check_internal()
        self._mark_done(self.env.user)

    def action_reset(self):
        """Button: undo a step (the membership keeps its state)."""
        self._prm_check_internal()
        self.write({"is_done": False, "date_done": False, "done_by_id": False})

    def _mark_done(self, user):
        """Mark these steps done by ``user``: check the required certifications,
        close the activities of company-side steps, post on the membership and
        activate the memberships whose steps are now all done.

        :return: the memberships activated
        """
        if any(step.is_done for step in self):
            raise UserError(self.env._("This onboarding step is already done."))
        self._check_certifications()
        self.write(
            {
                "is_done": True,
                "date_done": fields.Datetime.now(),
                "done_by_id": user.id,
            }
        )
        if self.activity_id:
            self.activity_id.action_feedback(
                feedback=self.env._("Onboarding step done.")
            )
        for membership, steps in self.grouped("membership_id").items():
            membership.message_post(
                body=Markup("%s<ul>%s</ul>")
                % (
                    self.env._("Onboarding steps done by %(user)s:", user=user.name),
                    Markup("").join(Markup("<li>%s</li>") % s.name for s in steps),
                ),
                message_type="notification",
            )
        return self.membership_id._activate_if_onboarded()

    def _check_certifications(self):
        """Refuse steps requiring a certification no person of the partner holds
        (valid or expiring). One grouped query for all steps."""
        steps = self.filtered("certification_id")
        if not steps:
            return
        held = {
            (company.id, certification.id)
            for company, certification in self.env["prm.partner.certification"]
            .sudo()
            ._read_group(
                [
                    ("commercial_partner_id", "in", steps.partner_id.ids),
                    ("certification_id", "in", steps.certification_id.ids),
                    ("state", "!=", "expired"),
                ],
                ["commercial_partner_id", "certification_id"],
            )
        }
        for step in steps:
            if (step.partner_id.id, step.certification_id.id) not in held:
                raise ValidationError(
                    self.env._(
                        "The step %(step)s needs someone of %(partner)s certified "
                        "%(certification)s first.",
                        step=step.name,
                        partner=step.partner_id.name,
                        certification=step.certification_id.name,
                    )
                )

    def _schedule_step_activities(self):
        """One to-do activity per company-side step for the partner manager,
        created in one batch and linked back to the steps."""
        if not self:
            return
        model_id = self.env["ir.model"]._get_id("prm.membership")
        todo = self.env.ref("mail.mail_activity_data_todo")
        activities = (
            self.env["mail.activity"]
            .sudo()
            .with_context(mail_activity_quick_update=True)
            .create(
                [
                    {
                        "res_model_id": model_id,
                        "res_id": step.membership_id.id,
                        "activity_type_id": todo.id,
                        "user_id": (
                            step.membership_id.user_id
                            or step.program_id.user_id
                            or self.env.user
                        ).id,
                        "date_deadline": step.date_due,
                        "summary": self.env._("Onboarding: %(step)s", step=step.name),
                        "note": step.description,
                    }
                    for step in self
                ]
            )
        )
        for step, activity in zip(self, activities, strict=True):
            step.activity_id = activity
