from . import (
    test_access,
    test_bad_input,
    test_certification,
    test_deal_registration,
    test_lead_assignment,
    test_lead_concurrency,
    test_lead_portal,
    test_menus,
    test_portal,
    test_tier_evaluation,
)
