from odoo.fields import Command

from .common import PrmCommon


class PrmRecruitmentCommon(PrmCommon):
    """Recruitment fixtures on top of ``PrmCommon``: two weighted criteria and a
    minimum score of 60 on the Reseller program, an onboarding template of three
    steps (partner, company, partner with a required certification) and one open
    application."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program.write(
            {
                "min_qualification_score": 60,
                "user_id": cls.manager.id,
                "qualification_criterion_ids": [
                    Command.create({"name": "Fit", "weight": 3, "sequence": 1}),
                    Command.create(
                        {"name": "Track record", "weight": 1, "sequence": 2}
                    ),
                ],
            }
        )
        cls.crit_fit, cls.crit_track = cls.program.qualification_criterion_ids
        cls.template = cls.env["prm.onboarding.template"].create(
            {
                "name": "Reseller onboarding",
                "program_id": cls.program.id,
                "step_ids": [
                    Command.create(
                        {"name": "Sign agreement", "owner": "partner", "due_days": 7}
                    ),
                    Command.create(
                        {
                            "name": "Kick-off",
                            "owner": "company",
                            "due_days": 10,
                            "sequence": 20,
                        }
                    ),
                    Command.create(
                        {
                            "name": "Certify a seller",
                            "owner": "partner",
                            "due_days": 30,
                            "sequence": 30,
                            "certification_id": cls.cert_sales.id,
                        }
                    ),
                ],
            }
        )
        cls.stage_new = cls.env.ref("prm_partner.prm_application_stage_new")
        cls.stage_qualification = cls.env.ref(
            "prm_partner.prm_application_stage_qualification"
        )
        cls.stage_approved = cls.env.ref("prm_partner.prm_application_stage_approved")
        cls.stage_rejected = cls.env.ref("prm_partner.prm_application_stage_rejected")
        cls.reason = cls.env.ref("prm_partner.prm_rejection_reason_territory")
        cls.belgium = cls.env.ref("base.be")
        cls.application = cls.env["prm.application"].create(
            cls._application_vals(name="Gamma Co", email="carol@gamma.test")
        )

    @classmethod
    def _application_vals(cls, **values):
        return {
            "program_id": cls.program.id,
            "name": "Applicant Co",
            "vat": "BE 0477.472.701",
            "country_id": cls.belgium.id,
            "website": "https://gamma.test",
            "contact_name": "Carol Gamma",
            "email": "carol@gamma.test",
            "company_size": "2",
            "motivation": "We sell complementary services.",
            **values,
        }

    @staticmethod
    def _be_vat(number):
        """A valid Belgian VAT number built from ``number`` (check digits
        computed: 97 - the first eight digits modulo 97)."""
        base = f"{number:08d}"
        return f"BE{base}{97 - int(base) % 97:02d}"

    def _score(self, application, scores):
        """Give ``scores`` ``{criterion: int}`` to ``application``."""
        for line in application.score_ids:
            if line.criterion_id in scores:
                line.score = str(scores[line.criterion_id])
