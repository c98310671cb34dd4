from odoo import api, fields, models


class PrmApplicationStageLog(models.Model):
    """How long an application stayed in a stage: one line per visit, written by
    the system when the stage changes; the base of "average days per stage"."""

    _name = "prm.application.stage.log"
    _description = "Partner Application Stage Log"
    _order = "date_in desc, id desc"
    _rec_name = "stage_id"

    application_id = fields.Many2one(
        "prm.application", required=True, ondelete="cascade", index=True
    )
    stage_id = fields.Many2one(
        "prm.application.stage", required=True, ondelete="cascade", index=True
    )
    program_id = fields.Many2one(
        related="application_id.program_id", store=True, index=True
    )
    company_id = fields.Many2one(
        related="application_id.company_id", store=True, index=True
    )
    date_in = fields.Datetime("Entered", required=True)
    date_out = fields.Datetime("Left", index="btree_not_null")
    days = fields.Float(
        "Days in stage",
        compute="_compute_days",
        store=True,
        aggregator="avg",
        help="Days between entering and leaving the stage; empty while the "
        "application is still in it.",
    )

    @api.depends("date_in", "date_out")
    def _compute_days(self):
        for log in self:
            log.days = (
                round((log.date_out - log.date_in).total_seconds() / 86400, 2)
                if log.date_out and log.date_in
                else 0.0
            )
