from . import prm_application_reject, prm_membership_tier_lock
