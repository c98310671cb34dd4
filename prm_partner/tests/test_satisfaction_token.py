import json

from odoo import http
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .performance_common import PrmPerformanceCommon


class PrmSatisfactionTokenCommon(PrmPerformanceCommon):
    """Surveys requested by the PRM manager for a deal of partner B (rated
    partner, portal user ``portal_b``) and one of partner A."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        customer = cls.wb.partner_id
        customer.email = "buyer@customer5.test"
        Satisfaction = cls.env["prm.lead.satisfaction"].with_user(cls.manager)
        cls.survey_b = Satisfaction._request_for_leads(cls.wb)
        cls.survey_a = Satisfaction._request_for_leads(cls.w0)
        cls.token_b = cls.survey_b.sudo().access_token
        cls.token_a = cls.survey_a.sudo().access_token
        # a public message on the survey: partner B may read this thread
        cls.survey_b.with_user(cls.manager).message_post(
            body="Customer called us back",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        cls.env.flush_all()

    def assertNoToken(self, text):
        for token in (self.token_a, self.token_b):
            self.assertNotIn(token, text)


@tagged("post_install", "-at_install")
class TestSatisfactionMail(PrmSatisfactionTokenCommon):
    def test_link_mailed_to_the_customer_alone(self):
        self.assertEqual(len(self.survey_b), 1)
        self.assertEqual(self.survey_b.state, "requested")
        mails = self.env["mail.mail"].search([("body_html", "ilike", self.token_b)])
        self.assertEqual(len(mails), 1)
        self.assertEqual(mails.email_to, '"Customer 5" <buyer@customer5.test>')
        self.assertFalse(mails.recipient_ids)
        self.assertFalse(mails.partner_ids)
        # not part of any thread: no follower is notified, no reader of the
        # survey reads it
        self.assertFalse(mails.model)
        self.assertFalse(mails.res_id)
        self.assertFalse(mails.notification_ids)
        self.assertTrue(mails.auto_delete)
        messages = self.env["mail.message"].search([("body", "ilike", self.token_b)])
        self.assertEqual(messages, mails.mail_message_id)
        # the chatter keeps an internal note, without the link
        note = self.survey_b.message_ids.filtered(
            lambda m: "sent by e-mail" in (m.body or "")
        )
        self.assertEqual(len(note), 1)
        self.assertTrue(note.subtype_id.internal)
        self.assertNotIn("/prm/satisfaction/", note.body)
        # nobody of the rated partner follows the survey
        followers = self.env["mail.followers"].search(
            [("res_model", "=", "prm.lead.satisfaction")]
        )
        self.assertNotIn(self.partner_b, followers.partner_id.commercial_partner_id)

    def test_customer_address_of_the_partner_not_sent(self):
        """A "customer" that is the rated partner's own contact gets no link."""
        lead = self._won_leads(self.partner_b, [500], program=self.program)
        lead.partner_id = self.contact_b
        survey = (
            self.env["prm.lead.satisfaction"]
            .with_user(self.manager)
            ._request_for_leads(lead)
        )
        token = survey.sudo().access_token
        self.assertFalse(self.env["mail.mail"].search([("body_html", "ilike", token)]))
        self.assertFalse(self.env["mail.message"].search([("body", "ilike", token)]))
        self.assertIn("belongs to the rated partner", survey.message_ids[0].body)
        # same with another contact of the partner carrying the customer's e-mail
        lead2 = self._won_leads(self.partner_b, [600], program=self.program)
        lead2.partner_id = self.env["res.partner"].create(
            {"name": "Fake customer", "email": self.contact_b.email.upper()}
        )
        survey2 = (
            self.env["prm.lead.satisfaction"]
            .with_user(self.manager)
            ._request_for_leads(lead2)
        )
        self.assertEqual(survey2.lead_id, lead2)
        token2 = survey2.sudo().access_token
        self.assertFalse(self.env["mail.mail"].search([("body_html", "ilike", token2)]))
        self.assertIn("belongs to the rated partner", survey2.message_ids[0].body)

    def test_no_message_holds_the_link(self):
        survey = self.survey_b.with_user(self.manager)
        with self.assertRaises(UserError):
            survey.message_post(
                body=f"Link: /prm/satisfaction/{survey.id}/{self.token_b}"
            )
        template = self.env.ref("prm_partner.prm_mail_template_lead_satisfaction")
        with self.assertRaises(UserError):
            survey.message_post_with_source(template, subtype_xmlid="mail.mt_comment")
        self.assertFalse(
            self.env["mail.message"].search(
                [
                    ("model", "=", "prm.lead.satisfaction"),
                    ("body", "ilike", self.token_b),
                ]
            )
        )

    def test_source_is_set_by_the_server(self):
        Satisfaction = self.env["prm.lead.satisfaction"].with_user(self.manager)
        lead = self._won_leads(self.partner_b, [700], program=self.program)
        survey = Satisfaction.create(
            {"lead_id": lead.id, "score": 10, "source": "customer"}
        )
        self.assertEqual((survey.source, survey.state), ("manager", "answered"))
        # forging the customer source, even with the server's context key
        survey.with_context(prm_customer_answer=True).write(
            {"score": 9, "source": "customer", "access_token": "chosen"}
        )
        self.assertEqual(survey.source, "manager")
        self.assertNotEqual(survey.sudo().access_token, "chosen")
        self.survey_b.with_user(self.manager).write({"source": "customer"})
        self.assertEqual(self.survey_b.state, "requested")
        self.survey_b.with_user(self.manager).write({"score": 4})
        self.assertEqual(self.survey_b.source, "manager")


@tagged("post_install", "-at_install")
class TestSatisfactionTokenPortal(PrmSatisfactionTokenCommon, HttpCase):
    """The rated partner's portal user cannot read a survey token by any route."""

    TOKEN_MODELS = ["prm.lead.satisfaction", "mail.message", "mail.mail", "crm.lead"]

    def test_orm(self):
        env = self.env(user=self.portal_b)
        Survey = env["prm.lead.satisfaction"]
        self.assertEqual(Survey.search([("lead_id", "=", self.wb.id)]), self.survey_b)
        # the token field: not readable, not searchable, not listed
        with self.assertRaises(AccessError):
            self.survey_b.with_user(self.portal_b).read(["access_token"])
        with self.assertRaises(AccessError):
            Survey.search([("access_token", "=", self.token_b)])
        self.assertNotIn("access_token", Survey.fields_get())
        self.assertNoToken(repr(self.survey_b.with_user(self.portal_b).read()))
        # messages: every one it can read, and the mail's own message by id
        messages = env["mail.message"].search([])
        self.assertIn("Customer called us back", str(messages.mapped("body")))
        self.assertNoToken(repr(messages.read()))
        self.assertFalse(env["mail.message"].search([("body", "ilike", self.token_b)]))
        mail_message = self.env["mail.message"].search(
            [("body", "ilike", self.token_b)]
        )
        self.assertTrue(mail_message)
        with self.assertRaises(AccessError):
            mail_message.with_user(self.portal_b).read(["body"])
        # attachments it can read
        with self.assertRaises(AccessError):
            env["ir.attachment"].search([("res_model", "in", self.TOKEN_MODELS)])
        # mails, followers, tracking values: no access at all
        for model in ("mail.mail", "mail.followers", "mail.tracking.value"):
            with self.subTest(model=model), self.assertRaises(AccessError):
                env[model].search_read([], limit=1)

    def _rpc(self, route, params):
        response = self.url_open(
            route,
            data=json.dumps(
                {"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}
            ),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200, route)
        self.assertNoToken(response.text)
        return response.json()

    def _call_kw(self, model, method, args, kwargs=None):
        return self._rpc(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        )

    @mute_logger("odoo.http")
    def test_json_rpc(self):
        self.authenticate("portal_partner_b", "portal_partner_b")
        survey_id = self.survey_b.id
        # the survey: all fields, and the token asked for by name
        result = self._call_kw(
            "prm.lead.satisfaction", "search_read", [[]], {"fields": []}
        )
        self.assertEqual([row["id"] for row in result["result"]], [survey_id])
        self.assertNotIn("access_token", result["result"][0])
        for method, args, kwargs in (
            ("read", [[survey_id], ["access_token"]], {}),
            ("search_read", [[]], {"fields": ["access_token"]}),
            ("search_read", [[("access_token", "!=", False)]], {"fields": ["id"]}),
            ("web_read", [[survey_id]], {"specification": {"access_token": {}}}),
        ):
            with self.subTest(method=method, args=args):
                result = self._call_kw("prm.lead.satisfaction", method, args, kwargs)
                self.assertIn("error", result)
        # the thread of the survey as the chatter loads it: the public comment,
        # no note, no mail
        result = self._rpc(
            "/mail/thread/messages",
            {"thread_model": "prm.lead.satisfaction", "thread_id": survey_id},
        )
        bodies = str(result["result"]["data"].get("mail.message", []))
        self.assertIn("Customer called us back", bodies)
        self.assertNotIn("sent by e-mail", bodies)
        # every message it can read, and the mail's message by id
        result = self._call_kw(
            "mail.message",
            "search_read",
            [[]],
            {"fields": ["body", "subject", "model", "res_id", "record_name"]},
        )
        self.assertIn(
            "Customer called us back", str([row["body"] for row in result["result"]])
        )
        mail_message = self.env["mail.message"].search(
            [("body", "ilike", self.token_b)]
        )
        for method, args, kwargs in (
            ("read", [mail_message.ids, ["body"]], {}),
            ("web_read", [mail_message.ids], {"specification": {"body": {}}}),
        ):
            with self.subTest(method=method):
                result = self._call_kw("mail.message", method, args, kwargs)
                self.assertIn("error", result)
        # attachments, mails, followers, tracking values
        self._call_kw(
            "ir.attachment",
            "search_read",
            [[("res_model", "in", self.TOKEN_MODELS)]],
            {"fields": ["name", "datas", "url"]},
        )
        for model in ("mail.mail", "mail.followers", "mail.tracking.value"):
            with self.subTest(model=model):
                result = self._call_kw(model, "search_read", [[]], {"fields": []})
                self.assertIn("error", result)
        # the portal pages of the partner
        for url in ("/my", "/my/performance", "/my/home"):
            response = self.url_open(url)
            self.assertEqual(response.status_code, 200, url)
            self.assertNoToken(response.text)

    @mute_logger("odoo.http", "werkzeug")
    def test_link_answers_once_and_opens_its_survey_only(self):
        url_b = f"/prm/satisfaction/{self.survey_b.id}/{self.token_b}"
        # the token of survey A does not open survey B, nor the reverse
        for url in (
            f"/prm/satisfaction/{self.survey_b.id}/{self.token_a}",
            f"/prm/satisfaction/{self.survey_a.id}/{self.token_b}",
        ):
            response = self.url_open(url)
            self.assertEqual(response.status_code, 404, url)
            self.assertNotIn('name="score"', response.text)
        self.authenticate(None, None)
        csrf = http.Request.csrf_token(self)
        response = self.url_open(
            f"/prm/satisfaction/{self.survey_a.id}/{self.token_b}",
            data={"score": "10", "csrf_token": csrf},
        )
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.survey_a.state, "requested")
        # a NUL byte in the comment: refused, nothing written, the link still works
        response = self.url_open(
            url_b, data={"score": "8", "comment": "a\x00b", "csrf_token": csrf}
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("invalid character", response.text)
        self.survey_b.invalidate_recordset()
        self.assertEqual(self.survey_b.state, "requested")
        # the customer answers; a "source" in the form changes nothing
        response = self.url_open(
            url_b, data={"score": "8", "source": "manager", "csrf_token": csrf}
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_prm_satisfaction_thanks", response.text)
        self.survey_b.invalidate_recordset()
        self.assertEqual(
            (self.survey_b.state, self.survey_b.score, self.survey_b.source),
            ("answered", 8, "customer"),
        )
        # twice: refused, the answer kept
        response = self.url_open(url_b, data={"score": "10", "csrf_token": csrf})
        self.assertEqual(response.status_code, 404)
        self.survey_b.invalidate_recordset()
        self.assertEqual(self.survey_b.score, 8)
