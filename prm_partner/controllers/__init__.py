from . import portal, portal_recruitment
