"""Normalisation and validation of company tax IDs with python-stdnum.

Brazil: CNPJ (14 digits) or CPF (11 digits) with their check digits
(``stdnum.br.cnpj``, ``stdnum.br.cpf``); European Union: the VIES formats with
their check digits (``stdnum.eu.vat``), with or without the country prefix;
elsewhere: letters and digits only, 4 to 20 characters, at least two digits.

The normalised form is upper case without separators, with the country prefix
for Brazil (``BR``) and the EU member states (``EL`` for Greece), so the same
number typed as ``12.345.678/0001-95`` or ``BR 12345678000195`` compares equal.
"""

import re

from stdnum.br import cnpj, cpf
from stdnum.eu import vat as eu_vat

# ISO country code -> VAT prefix of the EU member states (Greece uses EL)
EU_PREFIXES = {
    code.upper(): ("EL" if code == "gr" else code.upper())
    for code in eu_vat.MEMBER_STATES
    if code != "xi"
}
EU_PREFIXES["XI"] = "XI"  # Northern Ireland keeps a VIES prefix
KNOWN_PREFIXES = set(EU_PREFIXES.values()) | {"BR"}
GENERIC_RE = re.compile(r"^[A-Z0-9]{4,20}$")
NON_ALNUM_RE = re.compile(r"[^A-Z0-9]")
# what a person may type: letters, digits and the usual separators
TYPED_RE = re.compile(r"^[A-Za-z0-9\s./-]{1,32}$")


def _compact(value):
    return NON_ALNUM_RE.sub("", (value or "").upper())


def _prefix(compact, country_code):
    """The prefix that rules ``compact``: its own known prefix, else the one of
    ``country_code`` (Brazil or an EU member state), else ``""``."""
    if compact[:2] in KNOWN_PREFIXES and not compact[:2].isdigit():
        return compact[:2]
    code = (country_code or "").upper()
    if code == "BR":
        return "BR"
    return EU_PREFIXES.get(code, "")


def normalize_tax_id(value, country_code=None):
    """Return the comparable form of the tax ID ``value`` of a company of
    ``country_code`` (ISO code, may be empty), or ``""`` when it is empty.

    The result holds only upper-case letters and digits; Brazilian and EU
    numbers carry their country prefix."""
    compact = _compact(value)
    if not compact:
        return ""
    prefix = _prefix(compact, country_code)
    if not prefix:
        return compact
    number = compact[2:] if compact.startswith(prefix) else compact
    return f"{prefix}{number}" if number else ""


def match_keys(normalized):
    """The forms a company's stored tax ID may take for the same number: with
    and without the country prefix (used to find a company by tax ID)."""
    if not normalized:
        return set()
    keys = {normalized}
    if normalized[:2] in KNOWN_PREFIXES:
        keys.add(normalized[2:])
    return {key for key in keys if key}


def tax_id_error(value, country_code=None):
    """Why the tax ID ``value`` is not valid, or ``None`` when it is (or is
    empty).

    :return: ``None`` or one of ``"cnpj"``, ``"cpf"``, ``"br"`` (neither 11
        nor 14 digits), ``"eu"`` (not a valid VAT number of that member state),
        ``"generic"`` (not 4-20 letters and digits with two digits at least)
    """
    normalized = normalize_tax_id(value, country_code)
    if not normalized:
        return None
    if not TYPED_RE.match(value.strip()):
        return "generic"
    prefix = normalized[:2] if normalized[:2] in KNOWN_PREFIXES else ""
    if prefix == "BR":
        return _brazil_error(normalized[2:])
    if prefix:
        return None if eu_vat.is_valid(normalized) else "eu"
    if GENERIC_RE.match(normalized) and sum(c.isdigit() for c in normalized) >= 2:
        return None
    return "generic"


def _brazil_error(number):
    if len(number) == 14:
        return None if cnpj.is_valid(number) else "cnpj"
    if len(number) == 11:
        return None if cpf.is_valid(number) else "cpf"
    return "br"


def validate_tax_id(env, value, country_code=None):
    """Return a translated message explaining why ``value`` is not a valid tax
    ID for a company of ``country_code``, or ``False`` when it is valid (or
    empty)."""
    error = tax_id_error(value, country_code)
    if not error:
        return False
    messages = {
        "cnpj": env._(
            "This CNPJ is not valid: check its 14 digits (the last two are "
            "check digits)."
        ),
        "cpf": env._(
            "This CPF is not valid: check its 11 digits (the last two are "
            "check digits)."
        ),
        "br": env._("A Brazilian tax ID is a CNPJ (14 digits) or a CPF (11 digits)."),
        "eu": env._(
            "This VAT number is not valid for %(prefix)s: enter it as registered "
            "in VIES, e.g. BE0477472701.",
            prefix=normalize_tax_id(value, country_code)[:2],
        ),
        "generic": env._(
            "Enter the tax ID as registered: letters and digits only, 4 to 20 "
            "characters."
        ),
    }
    return messages[error]
