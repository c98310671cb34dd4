"""18.0.1.1.0 makes the portal rules as strict as the portal pages (one company
policy, no applicant memberships, done reviews only, offers answerable only while
pending on an active membership). The rules are ``noupdate`` data: let this update
rewrite them from the XML; ``post-migrate`` marks them ``noupdate`` again."""


def migrate(cr, version):
    cr.execute(
        "UPDATE ir_model_data SET noupdate = FALSE "
        "WHERE module = 'prm_partner' AND model = 'ir.rule' AND noupdate"
    )
