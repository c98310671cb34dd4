from . import portal, portal_agreement
