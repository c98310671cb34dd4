from . import crm_lead_prm_forward, prm_membership_tier_lock
