from . import portal, portal_agreement, portal_recruitment
