from . import (
    crm_lead,
    prm_agreement,
    prm_agreement_goal,
    prm_certification,
    prm_membership,
    prm_partner_certification,
    prm_program,
    prm_tier,
    prm_tier_history,
    res_config_settings,
    res_partner,
)
