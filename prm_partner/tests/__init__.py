from . import (
    test_access,
    test_bad_input,
    test_certification,
    test_menus,
    test_performance_access,
    test_performance_kpi,
    test_performance_review,
    test_portal,
    test_tier_evaluation,
)
