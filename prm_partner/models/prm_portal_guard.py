from odoo import models
from odoo.exceptions import AccessError

PRM_USER_GROUP = "prm_partner.group_prm_user"


class Base(models.AbstractModel):
    """The guard of the PRM business methods, on every model (``crm.lead`` and
    ``res.partner`` included).

    A portal user may call, over ``/web/dataset/call_kw``, any public method of a
    model it can read. Every public business method of prm_partner (``action_*``
    buttons and any other public non-ORM method) starts with
    ``self._prm_check_internal()``; ``tests/test_rpc_guard.py`` fails for a
    public method that does not.
    """

    _inherit = "base"

    def _prm_check_internal(self):
        """Let PRM users and sudo environments through; refuse everyone else.

        Portal controllers act on sudo records (after ``_document_check_access``
        and their own state checks), so they pass; a portal user calling a
        business method directly over RPC does not.

        :raise AccessError: the user is not a PRM user and the environment is
            not sudo
        """
        if self.env.su or self.env.user.has_group(PRM_USER_GROUP):
            return
        raise AccessError(self.env._("Only partner managers can do this."))
