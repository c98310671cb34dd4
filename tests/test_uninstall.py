"""The add-on uninstalls cleanly: its menus, models and tables go, every
res.partner and crm.lead stays (except the add-on's own demo records, which Odoo
removes with the module that owns them). Runs last, against the throwaway test database
(``PRM_TEST_DB``) of ``make test``, through a real Odoo process."""

import configparser
import os
import subprocess
import sys

import psycopg2
import pytest

DB = os.environ.get("PRM_TEST_DB")
CONFIG = os.environ.get("PRM_ODOO_CONFIG")

pytestmark = pytest.mark.skipif(
    not (DB and CONFIG), reason="run by `make test` (needs PRM_TEST_DB)"
)

UNINSTALL = """
module = env["ir.module.module"].search([("name", "=", "prm_partner")])
module.button_immediate_uninstall()
env.cr.commit()
"""


def _connect():
    options = configparser.ConfigParser()
    options.read(CONFIG)
    opt = options["options"]
    return psycopg2.connect(
        dbname=DB,
        host=opt["db_host"],
        port=opt["db_port"],
        user=opt["db_user"],
        password=opt["db_password"],
    )


def _scalar(sql):
    with _connect() as conn, conn.cursor() as cr:
        cr.execute(sql)
        return cr.fetchone()[0]


NOT_MODULE_DATA = (
    "SELECT count(*) FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM ir_model_data d "
    "WHERE d.module = 'prm_partner' AND d.model = '{model}' AND d.res_id = t.id)"
)
USER_DATA = """
company = env["res.partner"].create({"name": "Uninstall Check Co", "is_company": True})
program = env["prm.program"].search([], limit=1)
env["prm.membership"].create({"partner_id": company.id, "program_id": program.id})
env["crm.lead"].create(
    {"name": "Uninstall check lead", "partner_assigned_id": company.id,
     "prm_program_id": program.id}
)
env.cr.commit()
"""


def _odoo_shell(script):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "odoo",
            "shell",
            "-c",
            CONFIG,
            "-d",
            DB,
            "--log-level=warn",
            "--no-http",
        ],
        input=script,
        text=True,
        check=True,
    )


def test_uninstall_keeps_partners_and_leads():
    # data a user made with the add-on: a partner company, its membership, a lead
    _odoo_shell(USER_DATA)
    partners = _scalar(NOT_MODULE_DATA.format(table="res_partner", model="res.partner"))
    leads = _scalar(NOT_MODULE_DATA.format(table="crm_lead", model="crm.lead"))
    assert _scalar("SELECT state FROM ir_module_module WHERE name = 'prm_partner'") == (
        "installed"
    )
    assert _scalar(
        "SELECT count(*) FROM ir_model_data WHERE module = 'prm_partner' "
        "AND model = 'ir.ui.menu'"
    )
    _odoo_shell(UNINSTALL)
    assert _scalar("SELECT state FROM ir_module_module WHERE name = 'prm_partner'") == (
        "uninstalled"
    )
    assert (
        _scalar("SELECT count(*) FROM ir_model_data WHERE module = 'prm_partner'") == 0
    )
    assert (
        _scalar(
            "SELECT count(*) FROM ir_ui_menu WHERE name->>'en_US' = 'Partners' "
            "AND parent_id IS NULL"
        )
        == 0
    )
    assert _scalar("SELECT to_regclass('prm_membership') IS NULL")
    assert _scalar("SELECT count(*) FROM res_partner") == partners
    assert _scalar("SELECT count(*) FROM crm_lead") == leads
    assert _scalar("SELECT count(*) FROM res_partner WHERE name = 'Uninstall Check Co'")
    assert _scalar("SELECT count(*) FROM crm_lead WHERE name = 'Uninstall check lead'")
    assert (
        _scalar(
            "SELECT count(*) FROM information_schema.columns "
            "WHERE table_name = 'crm_lead' AND column_name = 'prm_program_id'"
        )
        == 0
    )
