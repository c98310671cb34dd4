from . import (
    test_access,
    test_agreement,
    test_agreement_portal,
    test_bad_input,
    test_certification,
    test_menus,
    test_portal,
    test_recruitment,
    test_recruitment_http,
    test_tier_evaluation,
)
