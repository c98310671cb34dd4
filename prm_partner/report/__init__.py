from . import prm_partner_performance_report, prm_scorecard_report
