from . import portal, portal_agreement, portal_performance, portal_recruitment
