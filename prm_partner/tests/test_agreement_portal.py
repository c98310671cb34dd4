import base64
import io
import json
from datetime import date, timedelta

from PIL import Image

from odoo.fields import Command
from odoo.tests import HttpCase, tagged

from .test_agreement import PrmAgreementCommon


def _signature_png():
    buffer = io.BytesIO()
    Image.new("RGB", (60, 20), "white").save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


@tagged("post_install", "-at_install")
class TestAgreementPortal(PrmAgreementCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        today = date.today()
        term = {
            "date_start": today - timedelta(days=1),
            "date_end": today + timedelta(days=365),
        }
        cls.sent_a = cls._agreement(
            title="Alpha to sign",
            state="sent",
            override_commission=True,
            commission_percent=14,
            goal_ids=[Command.create({"measure": "won_revenue", "target": 10000})],
            **term,
        )
        cls.draft_a = cls._agreement(title="Alpha draft", **term)
        cls.future_a = cls._agreement(
            title="Alpha future",
            state="sent",
            date_start=today + timedelta(days=10),
            date_end=today + timedelta(days=400),
        )
        cls.expired_a = cls._agreement(
            title="Alpha lapsed",
            state="sent",
            date_start=today - timedelta(days=400),
            date_end=today - timedelta(days=1),
        )
        cls.sent_b = cls._agreement(
            cls.partner_b, title="Beta to sign", state="sent", **term
        )
        cls.doc_a, cls.doc_b = cls.env["ir.attachment"].create(
            [
                {
                    "name": "annex-a.txt",
                    "raw": b"annex of A",
                    "res_model": "prm.agreement",
                    "res_id": cls.sent_a.id,
                },
                {
                    "name": "annex-b.txt",
                    "raw": b"annex of B",
                    "res_model": "prm.agreement",
                    "res_id": cls.sent_b.id,
                },
            ]
        )
        cls.sent_a.attachment_ids = [Command.link(cls.doc_a.id)]
        cls.sent_b.attachment_ids = [Command.link(cls.doc_b.id)]
        cls._won_leads(cls.partner_a, [2500], closed=today)
        cls.signature = _signature_png()

    def _sign(self, agreement, **params):
        return self.make_jsonrpc_request(
            f"/my/agreements/{agreement.id}/sign",
            {"name": "Alice A", "signature": self.signature, **params},
        )

    def _assert_unsigned(self, *agreements):
        for agreement in agreements:
            agreement.invalidate_recordset()
            self.assertFalse(agreement.signed_on, agreement.title)
            self.assertFalse(agreement.signature, agreement.title)

    def test_list_and_counter(self):
        self.authenticate("portal_partner_a", "portal_partner_a")
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["prm_agreement_count"]}
        )
        self.assertEqual(counters, {"prm_agreement_count": 3})
        response = self.url_open("/my/agreements")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.text.count("o_prm_agreement_row"), 3)
        for title in ("Alpha to sign", "Alpha future", "Alpha lapsed"):
            self.assertIn(title, response.text)
        self.assertNotIn("Alpha draft", response.text)
        self.assertNotIn("Beta to sign", response.text)
        response = self.url_open("/my/agreements?sortby=name")
        self.assertEqual(response.status_code, 200)

    def test_detail_shows_terms_goals_documents(self):
        self.authenticate("portal_partner_a", "portal_partner_a")
        response = self.url_open(f"/my/agreements/{self.sent_a.id}")
        self.assertEqual(response.status_code, 200)
        text = response.text
        self.assertIn("Alpha to sign", text)
        self.assertIn("14.0 %", text)
        self.assertEqual(text.count("o_prm_agreement_goal_row"), 1)
        self.assertIn("2500", text)  # achieved from the won lead
        self.assertIn("annex-a.txt", text)
        self.assertIn("o_prm_agreement_sign", text)
        self.assertIn(f"/my/agreements/{self.sent_a.id}/sign", text)
        # an agreement already past its end cannot be signed
        response = self.url_open(f"/my/agreements/{self.expired_a.id}")
        self.assertNotIn("o_prm_agreement_sign", response.text)

    def test_print(self):
        self.authenticate("portal_partner_a", "portal_partner_a")
        response = self.url_open(f"/my/agreements/{self.sent_a.id}?report_type=html")
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_prm_agreement_report", response.text)
        self.assertIn(self.sent_a.name, response.text)
        response = self.url_open(
            f"/my/agreements/{self.sent_a.id}?report_type=pdf&download=true"
        )
        self.assertEqual(response.status_code, 200)
        # another company's agreement, a draft: back to the portal home
        for agreement in (self.sent_b, self.draft_a):
            response = self.url_open(f"/my/agreements/{agreement.id}?report_type=html")
            self.assertTrue(response.url.endswith("/my"), response.url)
            self.assertNotIn(agreement.name, response.text)

    def test_documents(self):
        self.authenticate("portal_partner_a", "portal_partner_a")
        response = self.url_open(
            f"/my/agreements/{self.sent_a.id}/documents/{self.doc_a.id}"
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, b"annex of A")
        for agreement, document in (
            (self.sent_b, self.doc_b),  # another company's agreement
            (self.sent_a, self.doc_b),  # own agreement, another's document
        ):
            response = self.url_open(
                f"/my/agreements/{agreement.id}/documents/{document.id}"
            )
            self.assertTrue(response.url.endswith("/my"), response.url)
            self.assertNotIn(b"annex of B", response.content)

    def test_sign(self):
        self.authenticate("portal_partner_a", "portal_partner_a")
        result = self._sign(self.sent_a)
        self.assertTrue(result.get("force_refresh"), result)
        self.assertIn("message=sign_ok", result["redirect_url"])
        self.sent_a.invalidate_recordset()
        self.assertEqual(self.sent_a.state, "active")
        self.assertEqual(self.sent_a.signed_by_id, self.contact_a)
        self.assertEqual(self.sent_a.signer_name, "Alice A")
        self.assertTrue(self.sent_a.signature)
        self.assertTrue(self.sent_a.signed_on)
        signed_copy = self.sent_a.attachment_ids - self.doc_a
        self.assertEqual(len(signed_copy), 1)
        self.assertIn("(signed)", signed_copy.name)
        self.assertEqual(self.membership_a.effective_commission_percent, 14)
        response = self.url_open(f"/my/memberships/{self.membership_a.id}")
        self.assertIn("14.0 %", response.text)
        self.assertIn(f"Agreement {self.sent_a.name}", response.text)
        response = self.url_open(result["redirect_url"])
        self.assertIn("the agreement is signed", response.text)
        self.assertIn("o_prm_signer", response.text)
        # signing twice is refused
        result = self._sign(self.sent_a)
        self.assertIn("not waiting for a signature", result["error"])

    def test_sign_before_start_waits_for_start_date(self):
        self.authenticate("portal_partner_a", "portal_partner_a")
        result = self._sign(self.future_a)
        self.assertNotIn("error", result)
        self.future_a.invalidate_recordset()
        self.assertEqual(self.future_a.state, "sent")
        self.assertTrue(self.future_a.signed_on)
        self.Agreement._run_lifecycle(today=self.future_a.date_start)
        self.assertEqual(self.future_a.state, "active")

    def test_sign_refusals(self):
        self.authenticate("portal_partner_a", "portal_partner_a")
        # another company's agreement, a draft (not visible), a missing record
        for agreement_id in (self.sent_b.id, self.draft_a.id, 999999):
            result = self.make_jsonrpc_request(
                f"/my/agreements/{agreement_id}/sign",
                {"name": "Alice A", "signature": self.signature},
            )
            self.assertEqual(result, {"error": "Invalid agreement."})
        result = self._sign(self.expired_a)
        self.assertIn("it ended on", result["error"])
        result = self._sign(self.sent_a, signature="")
        self.assertEqual(result, {"error": "Signature is missing."})
        result = self._sign(self.sent_a, name="  ")
        self.assertIn("signer's name", result["error"])
        self._assert_unsigned(self.sent_b, self.draft_a, self.expired_a, self.sent_a)
        self.assertEqual(self.sent_b.state, "sent")
        self.assertEqual(self.sent_a.state, "sent")
        self.assertEqual(self.sent_a.attachment_ids, self.doc_a)

    def test_sign_input_types(self):
        """A name or signature of the wrong JSON type or shape is an HTTP 400 with
        a clear message; nothing is signed."""
        self.authenticate("portal_partner_a", "portal_partner_a")
        name_error = "The signer's name must be text."
        name_shape = "at most 128 characters of text"
        image_error = "The signature must be an image encoded in base64."
        for params, message in (
            ({"name": 123}, name_error),
            ({"name": 1.5}, name_error),
            ({"name": True}, name_error),
            ({"name": ["Alice A"]}, name_error),
            ({"name": {"name": "Alice A"}}, name_error),
            ({"name": "Alice\x00A"}, name_shape),
            ({"name": "x" * 10000}, name_shape),
            ({"signature": 123}, image_error),
            ({"signature": True}, image_error),
            ({"signature": [self.signature]}, image_error),
            ({"signature": {"png": self.signature}}, image_error),
            ({"signature": "!!not base64!!"}, image_error),
            ({"signature": "bm90IGFuIGltYWdl"}, image_error),  # "not an image"
        ):
            with self.subTest(params=str(params)[:40]):
                response = self.url_open(
                    f"/my/agreements/{self.sent_a.id}/sign",
                    data=json.dumps(
                        {
                            "jsonrpc": "2.0",
                            "method": "call",
                            "id": 7,
                            "params": {
                                "name": "Alice A",
                                "signature": self.signature,
                                **params,
                            },
                        }
                    ),
                    headers={"Content-Type": "application/json"},
                )
                self.assertEqual(response.status_code, 400)
                body = response.json()
                self.assertEqual(body["id"], 7)
                self.assertIn(message, body["error"]["message"])
        self._assert_unsigned(self.sent_a)
        self.assertEqual(self.sent_a.state, "sent")
        self.assertEqual(self.sent_a.attachment_ids, self.doc_a)
        # another company's agreement: refused as invalid before the input is read
        result = self._sign(self.sent_b, name=123)
        self.assertEqual(result, {"error": "Invalid agreement."})
        # the real thing still signs
        self.assertIn("redirect_url", self._sign(self.sent_a))

    def test_partner_b_cannot_reach_partner_a(self):
        self.authenticate("portal_partner_b", "portal_partner_b")
        response = self.url_open("/my/agreements")
        self.assertNotIn("Alpha", response.text)
        self.assertEqual(response.text.count("o_prm_agreement_row"), 1)
        response = self.url_open(f"/my/agreements/{self.sent_a.id}")
        self.assertTrue(response.url.endswith("/my"), response.url)
        self.assertNotIn("Alpha to sign", response.text)
        result = self._sign(self.sent_a)
        self.assertEqual(result, {"error": "Invalid agreement."})
        self._assert_unsigned(self.sent_a)

    def test_anonymous(self):
        response = self.url_open(f"/my/agreements/{self.sent_a.id}")
        self.assertIn("/web/login", response.url)
