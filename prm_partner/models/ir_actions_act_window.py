from odoo import api, models


class IrActionsActWindow(models.Model):
    _inherit = "ir.actions.act_window"

    @api.model
    def _prm_action(self, xml_id, domain, context=None):
        """The window action ``xml_id`` on ``domain``; ``context`` replaces the
        action's own context when given (smart buttons of the PRM models)."""
        action = self._for_xml_id(xml_id)
        action["domain"] = domain
        if context is not None:
            action["context"] = context
        return action
