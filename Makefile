# prm_partner: the two commands of the README (everything else is in tools/prm_env.py)
PYTHON ?= python3

.PHONY: run test setup stop lint
run:  ## build what is missing, then serve the demo database on http://127.0.0.1:8069
	@$(PYTHON) tools/prm_env.py run
test:  ## build what is missing, then run every test and the linters
	@$(PYTHON) tools/prm_env.py test
setup:  ## only build (virtualenv, Odoo, PostgreSQL)
	@$(PYTHON) tools/prm_env.py setup
stop:  ## stop the private PostgreSQL cluster
	@$(PYTHON) tools/prm_env.py stop
