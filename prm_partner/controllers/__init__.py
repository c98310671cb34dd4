from . import portal, portal_performance
