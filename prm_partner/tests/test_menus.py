from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import PrmCommon


@tagged("post_install", "-at_install")
class TestMenus(PrmCommon):
    def _visible(self, user, xmlid):
        menu = self.env.ref(xmlid)
        visible = self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()
        return menu.id in visible

    def test_menu_visibility(self):
        root, config = "prm_partner.prm_menu_root", "prm_partner.prm_menu_config"
        self.assertTrue(self._visible(self.manager, root))
        self.assertTrue(self._visible(self.manager, config))
        self.assertTrue(self._visible(self.prm_user, root))
        self.assertFalse(self._visible(self.prm_user, config))
        self.assertFalse(self._visible(self.internal_user, root))
        self.assertFalse(self._visible(self.internal_user, config))
        # portal users cannot even read the menus of the back office
        with self.assertRaises(AccessError):
            self._visible(self.portal_a, root)

    def test_admin_is_manager(self):
        self.assertTrue(
            self.env.ref("base.user_admin").has_group("prm_partner.group_prm_manager")
        )
        self.assertTrue(self.manager.has_group("prm_partner.group_prm_user"))
        user = new_test_user(self.env, login="plain_user_x", groups="base.group_user")
        self.assertFalse(user.has_group("prm_partner.group_prm_user"))
