from . import prm_membership_scorecard, prm_membership_tier_lock
