from dateutil.relativedelta import relativedelta

from odoo import api, fields, models


class ReportPrmScorecard(models.AbstractModel):
    """Printable scorecards of memberships, for the period given in ``data``
    (``date_from``/``date_to`` included) or the current quarter."""

    _name = "report.prm_partner.report_prm_scorecard"
    _description = "Partner Scorecard Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        data = data or {}
        memberships = self.env["prm.membership"].browse(docids)
        if data.get("date_from") and data.get("date_to"):
            date_from = fields.Date.to_date(data["date_from"])
            date_to = fields.Date.to_date(data["date_to"]) + relativedelta(days=1)
        else:
            date_from, date_to = memberships._prm_period("quarter")
        return {
            "doc_ids": docids,
            "doc_model": "prm.membership",
            "docs": memberships,
            "cards": memberships._prm_scorecard(date_from, date_to),
        }
