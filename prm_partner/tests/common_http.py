import re
from datetime import date, datetime, timedelta

from odoo import http
from odoo.fields import Command

from .common_lead import PrmLeadCommon
from .common_recruitment import PrmRecruitmentCommon
from .performance_common import Q2_FROM, Q2_TO, PrmPerformanceCommon
from .test_agreement import PrmAgreementCommon

PRM_MODULE = "odoo.addons.prm_partner."
# a route argument in a werkzeug rule: "<int:lead_id>", "<string:token>", "<page>"
ROUTE_ARG_RE = re.compile(r"<(?:[a-zA-Z_]+(?:\([^)]*\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>")
# fields whose value changes without anyone writing the record
VOLATILE_FIELDS = {"write_date", "write_uid", "__last_update"}
SNAPSHOT_SKIP_TYPES = {"binary", "one2many", "many2many"}


def prm_routes(env):
    """The rules of Odoo's routing map served by prm_partner's controllers.

    :return: list of ``(pattern, methods, routing, endpoint)``: the werkzeug
        rule (e.g. ``/my/reviews/<int:review_id>``), its HTTP methods (``None`` =
        any, else a sorted tuple without OPTIONS/HEAD), the merged routing
        (``type``, ``auth``, ``csrf`` ...) and the controller method
    """
    rules = []
    for rule in env["ir.http"].routing_map().iter_rules():
        endpoint = rule.endpoint
        original = getattr(endpoint, "original_endpoint", endpoint)
        if not original.__module__.startswith(PRM_MODULE):
            continue
        methods = rule.methods and tuple(
            sorted(set(rule.methods) - {"OPTIONS", "HEAD"})
        )
        rules.append((rule.rule, methods or None, endpoint.routing, original))
    return rules


def fill_route(pattern, values):
    """``pattern`` with each ``<converter:name>`` replaced by ``values[name]``."""
    return ROUTE_ARG_RE.sub(lambda match: str(values[match.group(1)]), pattern)


class PrmHttpCommon(
    PrmAgreementCommon, PrmPerformanceCommon, PrmRecruitmentCommon, PrmLeadCommon
):
    """Two partner companies, A and B, each with a record behind every portal
    page: membership, agreement (with a document), lead offer, open / won / lost
    opportunities, deal registration, review, feedback questionnaire,
    satisfaction survey, certification and onboarding steps. B's records carry
    names (``B_MARKERS``) that must never reach partner A."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        today = date.today()
        term = {
            "date_start": today - timedelta(days=1),
            "date_end": today + timedelta(days=365),
        }
        cls.agreement_a = cls._agreement(title="Alpha to sign", state="sent", **term)
        cls.agreement_b = cls._agreement(
            cls.partner_b, title="Xyzzy agreement", state="sent", **term
        )
        cls.doc_a, cls.doc_b = cls.env["ir.attachment"].create(
            [
                {
                    "name": name,
                    "raw": raw,
                    "res_model": "prm.agreement",
                    "res_id": agreement.id,
                }
                for name, raw, agreement in (
                    ("alpha-annex.txt", b"annex of A", cls.agreement_a),
                    ("xyzzy-annex.txt", b"Xyzzy annex", cls.agreement_b),
                )
            ]
        )
        cls.agreement_a.attachment_ids = [Command.link(cls.doc_a.id)]
        cls.agreement_b.attachment_ids = [Command.link(cls.doc_b.id)]
        cls.decline_reason = cls.env.ref("prm_partner.prm_decline_reason_capacity")
        cls._setup_leads()
        cls._setup_performance()
        cls.registration_a, cls.registration_b = cls.env[
            "prm.deal.registration"
        ].create(
            [
                {
                    "partner_id": partner.id,
                    "customer_name": customer,
                    "contact_name": contact,
                }
                for partner, customer, contact in (
                    (cls.partner_a, "Alpha Customer Inc", "Ann Alpha"),
                    (cls.partner_b, "Xyzzy Customer Inc", "Zed Xyzzy"),
                )
            ]
        )
        cls.registration_b.email = "zed@xyzzy-corp.test"
        cls.certification_b = cls._certify(cls.contact_b, cls.cert_tech)
        steps = (cls.membership_a | cls.membership_b)._instantiate_onboarding()
        cls.steps_a = steps.filtered(lambda s: s.membership_id == cls.membership_a)
        cls.steps_b = steps - cls.steps_a
        cls.env.flush_all()

    @classmethod
    def _setup_leads(cls):
        Lead = cls.env["crm.lead"]
        cls.opportunity_a, cls.opportunity_b, cls.lost_b = Lead.create(
            [
                {
                    "name": name,
                    "type": "opportunity",
                    "partner_assigned_id": partner.id,
                    "prm_program_id": cls.program.id,
                    "stage_id": cls.open_stage.id,
                    "expected_revenue": revenue,
                }
                for name, partner, revenue in (
                    ("Alpha open deal", cls.partner_a, 1000),
                    ("Xyzzy open deal", cls.partner_b, 4321),
                    ("Xyzzy lost deal", cls.partner_b, 2345),
                )
            ]
        )
        cls.lost_b.action_set_lost()
        cls.wb.name = "Xyzzy won deal"
        offered = cls._leads(2, "Offered lead")
        offered[0].name = "Alpha offered lead"
        offered[1].name = "Xyzzy offered lead"
        deadline = datetime.now() + timedelta(days=2)
        cls.offer_a, cls.offer_b = cls.env["prm.lead.offer"].create(
            [
                {
                    "lead_id": lead.id,
                    "partner_id": membership.partner_id.id,
                    "membership_id": membership.id,
                    "date_deadline": deadline,
                }
                for lead, membership in zip(
                    offered, cls.membership_a | cls.membership_b, strict=True
                )
            ]
        )

    @classmethod
    def _setup_performance(cls):
        Review = cls.env["prm.partner.review"]
        cls.review_a, cls.review_b = Review.create(
            [
                {
                    "membership_id": membership.id,
                    "date_from": Q2_FROM,
                    "date_to": Q2_TO - timedelta(days=1),
                }
                for membership in (cls.membership_a, cls.membership_b)
            ]
        )
        (cls.review_a | cls.review_b).action_done()
        cls.feedback_a2, cls.feedback_b = cls.env["prm.partner.feedback"].create(
            [
                {"membership_id": cls.membership_a.id},
                {"membership_id": cls.membership_b.id},
            ]
        )
        cls.survey_a, cls.survey_b = cls.env["prm.lead.satisfaction"].create(
            [{"lead_id": cls.w4.id}, {"lead_id": cls.wb.id}]
        )

    # ---- what partner A must never see or change ----
    def _b_markers(self):
        """Strings of partner B's records that must never reach partner A."""
        return [
            "Partner B Co",
            "Bob B",
            "b@b.test",
            "Xyzzy",
            self.agreement_b.name,
            self.registration_b.name,
            self.survey_b.sudo().access_token,
        ]

    def _b_records(self):
        """Partner B's records, by model."""
        return [
            self.partner_b | self.contact_b,
            self.membership_b,
            self.agreement_b,
            self.doc_b,
            self.opportunity_b | self.lost_b | self.wb | self.offer_b.lead_id,
            self.offer_b,
            self.registration_b,
            self.review_b,
            self.feedback_b,
            self.survey_b,
            self.certification_b,
            self.steps_b,
        ]

    def _snapshot(self, recordsets):
        """Stored values (all stored scalar and many2one fields) and the chatter
        messages of each record, read as superuser from the database."""
        self.env.invalidate_all()
        snapshot = {}
        for recordset in recordsets:
            records = recordset.sudo().with_context(active_test=False)
            names = [
                name
                for name, field in records._fields.items()
                if field.store
                and field.type not in SNAPSHOT_SKIP_TYPES
                and name not in VOLATILE_FIELDS
            ]
            for values in records.read(names):
                snapshot[(records._name, values["id"])] = values
        records_by_model = {}
        for records in recordsets:
            records_by_model.setdefault(records._name, set()).update(records.ids)
        messages = (
            self.env["mail.message"]
            .sudo()
            .search(
                [
                    ("model", "in", list(records_by_model)),
                    (
                        "res_id",
                        "in",
                        [i for ids in records_by_model.values() for i in ids],
                    ),
                ]
            )
        )
        snapshot["messages"] = set(
            messages.filtered(lambda m: m.res_id in records_by_model[m.model]).ids
        )
        return snapshot

    def assertSnapshotEqual(self, before, after, msg=None):
        """Every record of ``before`` unchanged in ``after``; no new message."""
        for key in before:
            if key == "messages":
                new = (
                    self.env["mail.message"]
                    .sudo()
                    .browse(sorted(after["messages"] - before["messages"]))
                )
                self.assertFalse(
                    new,
                    f"new messages {msg or ''}: "
                    + "; ".join(
                        f"{m.model},{m.res_id} {m.message_type} "
                        f"{m.subtype_id.name} internal={m.is_internal} "
                        f"{(m.body or m.subject or '')[:120]}"
                        for m in new
                    ),
                )
                continue
            self.assertEqual(before[key], after.get(key), f"{key} changed. {msg or ''}")

    # ---- HTTP ----
    def _csrf(self):
        """A valid CSRF token for the session of the test's HTTP client."""
        return http.Request.csrf_token(self)
