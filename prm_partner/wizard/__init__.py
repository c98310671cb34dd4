from . import prm_membership_tier_lock
