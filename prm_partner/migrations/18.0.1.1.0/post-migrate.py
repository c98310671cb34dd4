"""Mark the add-on's record rules ``noupdate`` again (see ``pre-migrate``)."""


def migrate(cr, version):
    cr.execute(
        "UPDATE ir_model_data SET noupdate = TRUE "
        "WHERE module = 'prm_partner' AND model = 'ir.rule'"
    )
