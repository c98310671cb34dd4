from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.tests import tagged

from .common_http import PrmHttpCommon

# how a record leads to its partner company, tried in this order (the first
# field the model has decides); crm.lead's partner_id is the customer
OWNER_PATHS = (
    "partner_assigned_id",
    "commercial_partner_id",
    "partner_id",
    "membership_id.partner_id",
    "agreement_id.partner_id",
    "lead_id.partner_assigned_id",
)
# catalogs shared by the partners of a program: their own visibility rule
CATALOG_MODELS = {"prm.program", "prm.tier", "prm.certification"}
# data without any partner in it (reasons, stages)
NEUTRAL_MODELS = {"prm.lead.decline.reason"}
# PRM data outside the prm.* namespace that portal users read
EXTRA_MODELS = ("crm.lead",)


@tagged("post_install", "-at_install")
class TestOrmIsolation(PrmHttpCommon):
    """Test (b): over every ``prm.*`` model of the registry (and ``crm.lead``),
    and over the ``mail.message``, ``ir.attachment`` and ``mail.followers`` of
    their records, the portal user of partner A finds only rows of its own
    company, and cannot read, write or delete a row of partner B."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["prm.agreement.goal"].create(
            [
                {"agreement_id": agreement.id, "measure": "won_deals", "target": 3}
                for agreement in cls.agreement_a | cls.agreement_b
            ]
        )
        # an unpublished program only B is a member of
        cls.program_b_only = cls.env["prm.program"].create(
            {
                "name": "Zulu private program",
                "tier_ids": [Command.create({"name": "Zulu tier"})],
            }
        )
        cls.membership_b_only = cls.env["prm.membership"].create(
            {
                "partner_id": cls.partner_b.id,
                "program_id": cls.program_b_only.id,
                "state": "active",
            }
        )
        # A only applies to an unpublished program: neither is shown yet
        cls.program_applied = cls.env["prm.program"].create({"name": "Applied program"})
        cls.membership_a_applicant = cls.env["prm.membership"].create(
            {"partner_id": cls.partner_a.id, "program_id": cls.program_applied.id}
        )
        cls.membership_b._set_tier_manually(cls.gold, "Zulu reason")
        cls.membership_a._set_tier_manually(cls.gold, "Alpha reason")
        cls.env["prm.partner.cost"].create(
            {"name": "Zulu fair", "membership_id": cls.membership_b.id, "amount": 10}
        )
        cls.env.flush_all()
        cls.models = sorted(
            name
            for name, model in cls.env.registry.items()
            if name.startswith("prm.") and not model._abstract and not model._transient
        ) + list(EXTRA_MODELS)
        cls.rows_a, cls.rows_b = cls._rows_by_owner()
        cls._add_mail_data()

    @classmethod
    def _owner(cls, records):
        """The partner company of each of ``records`` (sudo), or ``None`` for a
        model without a partner."""
        for path in OWNER_PATHS:
            if path.split(".")[0] in records._fields:
                return {
                    record.id: record.mapped(path).commercial_partner_id
                    for record in records
                }
        return None

    @classmethod
    def _rows_by_owner(cls):
        """``({model: A's records}, {model: B's records})``, as sudo."""
        rows_a, rows_b = {}, {}
        for name in cls.models:
            if name in CATALOG_MODELS | NEUTRAL_MODELS:
                continue
            records = cls.env[name].sudo().with_context(active_test=False).search([])
            owners = cls._owner(records)
            if owners is None:
                continue
            rows_a[name] = records.filtered(
                lambda r, o=owners: o[r.id] == cls.partner_a
            )
            rows_b[name] = records.filtered(
                lambda r, o=owners: o[r.id] == cls.partner_b
            )
        rows_b["prm.program"] = cls.program_b_only
        rows_b["prm.tier"] = cls.program_b_only.tier_ids
        return rows_a, rows_b

    @classmethod
    def _add_mail_data(cls):
        """A public comment, an attachment and a follower on every row of A and
        B (the comment and the attachment carry the partner's name)."""
        comment = cls.env.ref("mail.mt_comment")
        messages, attachments, followers = [], [], []
        for rows, tag in ((cls.rows_a, "Alpha"), (cls.rows_b, "Zulu")):
            for name, records in rows.items():
                if not records._auto:
                    continue  # SQL views (reports) have no chatter nor documents
                for record in records:
                    messages.append(
                        {
                            "model": name,
                            "res_id": record.id,
                            "body": f"{tag} comment",
                            "message_type": "comment",
                            "subtype_id": comment.id,
                        }
                    )
                    attachments.append(
                        {
                            "name": f"{tag}.txt",
                            "raw": tag.encode(),
                            "res_model": name,
                            "res_id": record.id,
                        }
                    )
                    if "message_follower_ids" in records._fields:
                        followers.append(
                            {
                                "res_model": name,
                                "res_id": record.id,
                                "partner_id": cls.contact_b.id,
                            }
                        )
        cls.env["mail.message"].create(messages)
        cls.env["ir.attachment"].create(attachments)
        existing = {
            (f.res_model, f.res_id, f.partner_id.id)
            for f in cls.env["mail.followers"].search(
                [("partner_id", "=", cls.contact_b.id)]
            )
        }
        cls.env["mail.followers"].create(
            [
                vals
                for vals in followers
                if (vals["res_model"], vals["res_id"], vals["partner_id"])
                not in existing
            ]
        )
        cls.env.flush_all()

    def _portal(self, model):
        return self.env[model].with_user(self.portal_a).with_context(active_test=False)

    # ------------------------------------------------------------------
    # fixtures cover what matters (so the tests below cannot pass on nothing)
    # ------------------------------------------------------------------
    def test_fixtures(self):
        for name in (
            "prm.membership",
            "prm.agreement",
            "prm.agreement.goal",
            "prm.lead.offer",
            "prm.deal.registration",
            "prm.partner.review",
            "prm.partner.feedback",
            "prm.lead.satisfaction",
            "prm.partner.certification",
            "prm.membership.onboarding.step",
            "prm.tier.history",
            "prm.partner.cost",
            "crm.lead",
        ):
            with self.subTest(model=name):
                self.assertTrue(self.rows_b.get(name), f"no row of B in {name}")
                self.assertTrue(self.rows_a.get(name), f"no row of A in {name}")

    # ------------------------------------------------------------------
    # records
    # ------------------------------------------------------------------
    def test_search_finds_own_company_only(self):
        for name in self.models:
            with self.subTest(model=name):
                Model = self._portal(name)
                if not Model.has_access("read"):
                    with self.assertRaises(AccessError):
                        Model.search([])
                    continue
                found = Model.search([]).sudo()
                if name in NEUTRAL_MODELS:
                    continue
                if name in CATALOG_MODELS:
                    self._assert_catalog_visible(found)
                    continue
                owners = self._owner(found)
                self.assertIsNotNone(
                    owners,
                    f"portal users read {name}: tell this test how its rows lead "
                    "to a partner company (OWNER_PATHS)",
                )
                strangers = found.filtered(
                    lambda r, o=owners: o[r.id] != self.partner_a
                )
                self.assertFalse(strangers, f"{name}: rows of another company")

    def _assert_catalog_visible(self, found):
        """Catalog rows a partner sees: published, or of a program it belongs
        to (past the application), or certifications its people hold."""
        member_programs = (
            self.env["prm.membership"]
            .search(
                [
                    ("partner_id", "=", self.partner_a.id),
                    ("state", "!=", "applicant"),
                ]
            )
            .program_id
        )
        visible = {
            "prm.program": lambda p: p.is_published or p in member_programs,
            "prm.tier": lambda t: (
                t.program_id.is_published or t.program_id in member_programs
            ),
            "prm.certification": lambda c: (
                any(c.program_ids.mapped("is_published"))
                or self.partner_a in c.holder_ids.commercial_partner_id
            ),
        }[found._name]
        self.assertFalse(found.filtered(lambda r: not visible(r)), found._name)

    def test_own_rows_readable(self):
        """The rules are not simply closed: A reads its own rows."""
        for name, records in (
            ("prm.membership", self.membership_a),
            ("prm.agreement", self.agreement_a),
            ("prm.agreement.goal", self.agreement_a.goal_ids),
            ("prm.lead.offer", self.offer_a),
            ("prm.deal.registration", self.registration_a),
            ("prm.partner.review", self.review_a),
            ("prm.membership.onboarding.step", self.steps_a),
            ("crm.lead", self.opportunity_a),
            ("prm.program", self.program),
        ):
            with self.subTest(model=name):
                self.assertEqual(
                    self._portal(name).search([("id", "in", records.ids)]), records
                )

    def test_rules_as_strict_as_pages(self):
        Membership = self._portal("prm.membership")
        self.assertNotIn(self.membership_a_applicant, Membership.search([]))
        with self.assertRaises(AccessError):
            self.membership_a_applicant.with_user(self.portal_a).read(["state"])
        programs = self._portal("prm.program").search([])
        self.assertNotIn(self.program_applied, programs)
        self.assertNotIn(self.program_b_only, programs)
        # reviews: done only
        self.review_a.with_user(self.portal_a).check_access("read")
        self.review_a.sudo().state = "draft"
        with self.assertRaises(AccessError):
            self.review_a.with_user(self.portal_a).read(["name"])
        # offers: readable, but not answerable once the membership is suspended
        # (the write rules, whatever the access rights say)
        answerable = (
            self.env["ir.rule"]
            .with_user(self.portal_a)
            ._compute_domain("prm.lead.offer", "write")
        )
        self.assertEqual(self.offer_a.filtered_domain(answerable), self.offer_a)
        self.membership_a.sudo().action_suspend()
        self.offer_a.with_user(self.portal_a).check_access("read")
        self.assertFalse(self.offer_a.filtered_domain(answerable))

    def test_other_company_rows_refused(self):
        before = self._snapshot(list(self.rows_b.values()))
        for name, records in self.rows_b.items():
            for record in records:
                with self.subTest(model=name, id=record.id):
                    portal_record = record.with_user(self.portal_a)
                    with self.assertRaises(AccessError):
                        portal_record.read(["display_name"])
                    with self.assertRaises(AccessError):
                        portal_record.write({})
                    with self.assertRaises(AccessError):
                        portal_record.unlink()
                    self.assertTrue(record.exists())
        self.assertSnapshotEqual(before, self._snapshot(list(self.rows_b.values())))

    def test_internal_fields_hidden(self):
        """Internal-only fields are not readable by portal users, not even on
        their own rows (ORM read, search_read and web_read over RPC all go
        through the same field check)."""
        for name, records, field in (
            ("prm.membership", self.membership_a, "tier_lock_reason"),
            ("prm.membership", self.membership_a, "lead_capacity"),
            ("prm.membership", self.membership_a, "lead_monthly_quota"),
            ("prm.membership", self.membership_a, "date_review_next"),
            (
                "prm.partner.certification",
                self.rows_a["prm.partner.certification"][:1],
                "notes",
            ),
            ("prm.tier", self.gold, "partner_domain"),
            ("crm.lead", self.opportunity_a, "partner_declined_ids"),
        ):
            with self.subTest(model=name, field=field):
                portal_records = records.with_user(self.portal_a)
                with self.assertRaises(AccessError):
                    portal_records.read([field])
                # (portal users may not export at all; the field is checked too)
                with self.assertRaises(UserError):  # AccessError is a UserError
                    portal_records.export_data([field])
                if records._fields[field].type not in ("one2many", "many2many"):
                    # nor searched on (a search would reveal values)
                    with self.assertRaises(AccessError):
                        self._portal(name).search([(field, "!=", False)])
                self.assertNotIn(field, self._portal(name).fields_get())
                # an internal PRM user still reads it
                records.with_user(self.env.ref("base.user_admin")).read([field])
        # reading "all fields" leaves them out instead of failing
        values = self.membership_a.with_user(self.portal_a).read()[0]
        self.assertEqual(values["state"], "active")
        self.assertNotIn("tier_lock_reason", values)

    # ------------------------------------------------------------------
    # chatter, documents, followers
    # ------------------------------------------------------------------
    def _b_domain(self, model_field="model", id_field="res_id"):
        """Messages / attachments / followers of B's rows (of real tables)."""
        rows = {name: rows for name, rows in self.rows_b.items() if rows._auto}
        return [
            *(["|"] * (len(rows) - 1)),
            *[
                term
                for name, records in rows.items()
                for term in (
                    "&",
                    (model_field, "=", name),
                    (id_field, "in", records.ids),
                )
            ],
        ]

    def test_messages(self):
        Message = self.env["mail.message"]
        b_messages = Message.search([*self._b_domain(), ("body", "ilike", "Zulu")])
        self.assertGreater(len(b_messages), len(self.rows_b))
        portal_messages = Message.with_user(self.portal_a)
        self.assertFalse(portal_messages.search(self._b_domain()))
        self.assertFalse(portal_messages.search([("body", "ilike", "Zulu")]))
        # control: A reads the comments on its own memberships
        self.assertTrue(
            portal_messages.search(
                [
                    ("model", "=", "prm.membership"),
                    ("res_id", "=", self.membership_a.id),
                    ("body", "ilike", "Alpha"),
                ]
            )
        )
        for message in b_messages:
            with self.subTest(model=message.model, id=message.res_id):
                portal_message = message.with_user(self.portal_a)
                with self.assertRaises(AccessError):
                    portal_message.read(["body"])
                with self.assertRaises(AccessError):
                    portal_message.write({"body": "Alpha was here"})
                with self.assertRaises(AccessError):
                    portal_message.unlink()

    def test_attachments(self):
        Attachment = self.env["ir.attachment"]
        b_attachments = Attachment.search(self._b_domain("res_model"))
        self.assertGreater(len(b_attachments), len(self.rows_b))
        # portal users do not search attachments at all (pages stream them)
        portal_attachments = Attachment.with_user(self.portal_a)
        with self.assertRaises(AccessError):
            portal_attachments.search(self._b_domain("res_model"))
        with self.assertRaises(AccessError):
            portal_attachments.search([("name", "=", "Zulu.txt")])
        for attachment in b_attachments:
            with self.subTest(model=attachment.res_model, id=attachment.res_id):
                portal_attachment = attachment.with_user(self.portal_a)
                with self.assertRaises(AccessError):
                    portal_attachment.read(["raw"])
                with self.assertRaises(AccessError):
                    portal_attachment.write({"name": "Alpha.txt"})
                with self.assertRaises(AccessError):
                    portal_attachment.unlink()

    def test_followers(self):
        Followers = self.env["mail.followers"]
        b_followers = Followers.search(self._b_domain("res_model"))
        self.assertTrue(b_followers)
        portal_followers = Followers.with_user(self.portal_a)
        with self.assertRaises(AccessError):
            portal_followers.search(self._b_domain("res_model"))
        with self.assertRaises(AccessError):
            b_followers[:1].with_user(self.portal_a).read(["partner_id"])
