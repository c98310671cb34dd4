import io
from datetime import date

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger
from odoo.tools.pdf import PdfReader

from .performance_common import PrmPerformanceCommon

WKHTMLTOPDF_LOGGER = "odoo.addons.base.models.ir_actions_report"


@tagged("post_install", "-at_install")
class TestPdfReports(PrmPerformanceCommon, HttpCase):
    """Real PDFs through wkhtmltopdf (Odoo renders HTML in tests unless
    ``force_report_rendering`` is set): a missing or broken PDF path fails here,
    it is never skipped. (The contents are checked on the HTML rendering in
    ``test_agreement`` and ``test_performance_review``; the text of a
    wkhtmltopdf PDF is not extractable. The ``/report/pdf`` route cannot be used
    in a test: wkhtmltopdf's asset requests wait for the test's own request.)"""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.agreement = cls.env["prm.agreement"].create(
            {
                "title": "Reseller agreement",
                "partner_id": cls.partner_a.id,
                "program_id": cls.program.id,
                "date_start": date(2026, 1, 1),
                "date_end": date(2026, 12, 31),
                "user_id": cls.manager.id,
                "state": "sent",
            }
        )
        cls.Report = (
            cls.env["ir.actions.report"]
            .with_user(cls.manager)
            .with_context(force_report_rendering=True)
        )

    def assertPdf(self, content):
        """``content`` is a real PDF (not the HTML of the test mode) with pages."""
        self.assertIsInstance(content, bytes)
        self.assertTrue(content.startswith(b"%PDF"), content[:200])
        reader = PdfReader(io.BytesIO(content), strict=False)
        self.assertGreaterEqual(len(reader.pages), 1)

    def test_wkhtmltopdf_is_installed(self):
        self.assertEqual(
            self.env["ir.actions.report"].get_wkhtmltopdf_state(),
            "ok",
            "wkhtmltopdf is missing or broken: install the Debian package "
            "wkhtmltopdf (python3 tools/prm_env.py setup does it)",
        )

    @mute_logger(WKHTMLTOPDF_LOGGER)
    def test_agreement_pdf(self):
        content, kind = self.Report._render_qweb_pdf(
            "prm_partner.action_report_prm_agreement", self.agreement.ids
        )
        self.assertEqual(kind, "pdf")
        self.assertPdf(content)
        # signing attaches the real signed copy
        self.agreement.with_context(force_report_rendering=True)._action_sign(
            "Alice Signer", self.contact_a
        )
        signed = self.agreement.attachment_ids.filtered(
            lambda a: a.mimetype == "application/pdf"
        )
        self.assertEqual(len(signed), 1)
        self.assertPdf(signed.raw)

    @mute_logger(WKHTMLTOPDF_LOGGER)
    def test_scorecard_pdf(self):
        content, kind = self.Report._render_qweb_pdf(
            "prm_partner.action_report_prm_scorecard",
            self.membership_a.ids,
            data={"date_from": "2026-04-01", "date_to": "2026-06-30"},
        )
        self.assertEqual(kind, "pdf")
        self.assertPdf(content)
