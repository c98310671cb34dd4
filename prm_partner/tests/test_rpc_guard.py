import inspect

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, JsonRpcException, tagged
from odoo.tools import mute_logger

from .common_http import PRM_MODULE, PrmHttpCommon

# public methods the ORM and the framework call by name: never business methods
FRAMEWORK_METHODS = {"init"}


def prm_public_methods(model):
    """The public methods prm_partner defines on ``model``: the names, not
    starting with ``_``, of the functions of prm_partner's classes of the model,
    without the overrides of methods defined elsewhere (``create``, ``write``,
    ``message_post`` ...) unless they are ``action_*`` methods, and without
    compute, inverse, search and onchange methods.

    :return: dict ``{name: function}`` (the function of the most derived
        prm_partner class)
    """
    mro = type(model).mro()
    hooks = set(FRAMEWORK_METHODS)
    for field in model._fields.values():
        hooks.update(
            name
            for name in (field.compute, field.inverse, field.search)
            if isinstance(name, str)
        )
    for onchanges in model._onchange_methods.values():
        hooks.update(getattr(method, "__name__", "") for method in onchanges)
    methods = {}
    for klass in mro:
        if not klass.__module__.startswith(PRM_MODULE):
            continue
        for name, attr in vars(klass).items():
            if name.startswith("_") or name in hooks or name in methods:
                continue
            if inspect.isfunction(attr):
                methods[name] = attr
    overrides = {
        name
        for klass in mro
        if not klass.__module__.startswith(PRM_MODULE)
        for name in vars(klass)
        if name in methods and not name.startswith("action_")
    }
    return {name: func for name, func in methods.items() if name not in overrides}


def required_arguments(func):
    """How many positional arguments besides ``self`` ``func`` requires."""
    parameters = list(inspect.signature(func).parameters.values())[1:]
    return sum(
        1
        for parameter in parameters
        if parameter.default is inspect.Parameter.empty
        and parameter.kind
        in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    )


@tagged("post_install", "-at_install")
class TestRpcGuard(PrmHttpCommon, HttpCase):
    """Every public business method of prm_partner on a model a portal user can
    read refuses that user over JSON-RPC (``/web/dataset/call_kw``), and changes
    nothing. The methods are found by introspection: a new public method without
    ``self._prm_check_internal()`` fails this test."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_models = sorted(
            name
            for name in cls.env.registry
            if not cls.env[name]._abstract
            and cls.env["ir.model.access"]
            .with_user(cls.portal_a)
            .check(name, "read", raise_exception=False)
            and prm_public_methods(cls.env[name])
        )

    def _call_kw(self, model, method, args):
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args, "kwargs": {}},
        )

    def test_models_found(self):
        """The introspection finds the known models and methods (so the main
        test cannot pass by finding nothing)."""
        for model, method in (
            ("prm.membership", "action_activate"),
            ("prm.agreement", "action_send"),
            ("prm.lead.offer", "action_accept"),
            ("prm.deal.registration", "action_check_conflicts"),
            ("prm.partner.review", "action_done"),
            ("crm.lead", "action_assign_partner_leads"),
            ("res.partner", "action_view_prm_memberships"),
        ):
            with self.subTest(model=model):
                self.assertIn(model, self.portal_models)
                self.assertIn(method, prm_public_methods(self.env[model]))
        # framework hooks and ORM overrides are not business methods
        self.assertNotIn("create", prm_public_methods(self.env["prm.agreement"]))
        self.assertNotIn("write", prm_public_methods(self.env["prm.membership"]))
        # the report and the back-office models are not readable by portal users
        self.assertNotIn("prm.assignment.rule", self.portal_models)
        self.assertNotIn("prm.application", self.portal_models)

    def test_portal_user_refused_over_rpc(self):
        self.authenticate("portal_partner_a", "portal_partner_a")
        calls = []
        for model in self.portal_models:
            Model = self.env[model].with_user(self.portal_a)
            # a record the user can read (the guard must refuse even then);
            # without one, the empty recordset: the guard refuses before anything
            record = Model.search([], limit=1, order="id")
            for name, func in sorted(prm_public_methods(self.env[model]).items()):
                calls.append((record, name, required_arguments(func)))
        touched = [record.sudo() for record, _name, _count in calls if record]
        touched += self._b_records()
        before = self._snapshot(touched)
        for record, name, count in calls:
            with self.subTest(model=record._name, method=name):
                with (
                    mute_logger("odoo.http"),
                    self.assertRaises(JsonRpcException) as caught,
                ):
                    self._call_kw(record._name, name, [record.ids] + [False] * count)
                self.assertEqual(
                    caught.exception.args[0],
                    "odoo.exceptions.AccessError",
                    f"{record._name}.{name} must refuse portal users",
                )
        self.assertGreater(len(calls), 30)
        self.assertSnapshotEqual(before, self._snapshot(touched))

    def test_prm_user_passes_over_rpc(self):
        """The guard lets PRM users through: the same call answers an action."""
        self.authenticate("prm_user_test", "prm_user_test")
        action = self._call_kw(
            "prm.program", "action_view_memberships", [self.program.ids]
        )
        self.assertEqual(action["res_model"], "prm.membership")

    def test_guard(self):
        membership = self.membership_a
        for user in (self.prm_user, self.manager):
            membership.with_user(user)._prm_check_internal()
        # controllers act on sudo records after their own access check
        membership.with_user(self.portal_a).sudo()._prm_check_internal()
        for user in (self.portal_a, self.internal_user):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                membership.with_user(user)._prm_check_internal()
        with self.assertRaises(AccessError):
            self.membership_a.with_user(self.portal_a).action_end()
        self.assertEqual(self.membership_a.state, "active")
