from . import tax_id
