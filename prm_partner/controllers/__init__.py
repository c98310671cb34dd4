from . import (
    portal,
    portal_agreement,
    portal_lead,
    portal_performance,
    portal_recruitment,
)
