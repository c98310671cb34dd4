"""pt_BR ships complete: every term of the add-on is translated, placeholders and
markup intact, and the committed template matches the code (``make test`` exports
the terms of the installed add-on to ``PRM_EXPORTED_POT``)."""

import os
import re
from pathlib import Path

import polib
import pytest

I18N = Path(__file__).resolve().parent.parent / "prm_partner" / "i18n"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{\{.*?\}\}")
TAG = re.compile(r"</?([a-zA-Z][\w-]*)")


def _entries(path):
    return {(e.msgctxt, e.msgid): e for e in polib.pofile(str(path)) if not e.obsolete}


def test_template_matches_code():
    exported = os.environ.get("PRM_EXPORTED_POT")
    if not exported:
        pytest.skip("run by make test, which exports the terms of the installed add-on")
    assert Path(exported).exists(), "the export of the add-on's terms failed"
    missing = [
        m for m in _entries(exported) if m not in _entries(I18N / "prm_partner.pot")
    ]
    assert not missing, (
        f"{len(missing)} term(s) missing from prm_partner.pot, e.g. {missing[:3]}"
        " - export it again (see README)"
    )


def test_pt_br_complete_and_consistent():
    template = _entries(I18N / "prm_partner.pot")
    translated = _entries(I18N / "pt_BR.po")
    untranslated = [
        key for key in template if not translated.get(key, polib.POEntry()).msgstr
    ]
    assert not untranslated, (
        f"{len(untranslated)} untranslated, e.g. {untranslated[:3]}"
    )
    for key in template:
        msgstr = translated[key].msgstr
        assert sorted(PLACEHOLDER.findall(key[1])) == sorted(
            PLACEHOLDER.findall(msgstr)
        ), key
        assert sorted(TAG.findall(key[1])) == sorted(TAG.findall(msgstr)), key
