from . import (
    test_access,
    test_agreement,
    test_agreement_portal,
    test_bad_input,
    test_certification,
    test_menus,
    test_portal,
    test_tier_evaluation,
)
