from . import (
    crm_lead_prm_forward,
    prm_application_approve,
    prm_application_reject,
    prm_membership_scorecard,
    prm_membership_tier_lock,
)
