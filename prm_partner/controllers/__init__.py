from . import portal, portal_lead
