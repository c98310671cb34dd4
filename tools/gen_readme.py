#!/usr/bin/env python3
"""Build prm_partner/README.rst from the readme/ fragments (OCA layout).

``python3 tools/gen_readme.py``          rewrite README.rst
``python3 tools/gen_readme.py --check``  exit 1 when README.rst is not up to date
"""

import ast
import sys
from pathlib import Path

ADDON = Path(__file__).resolve().parent.parent / "prm_partner"
SECTIONS = [
    ("DESCRIPTION.md", None),
    ("CONFIGURE.md", "Configuration"),
    ("USAGE.md", "Usage"),
    ("ROADMAP.md", "Known issues / Roadmap"),
    ("CONTRIBUTORS.md", "Contributors"),
]


def build():
    manifest = ast.literal_eval((ADDON / "__manifest__.py").read_text())
    title = manifest["name"]
    parts = [
        "=" * len(title),
        title,
        "=" * len(title),
        "",
        f"..  version: {manifest['version']}, license: {manifest['license']}",
        "",
    ]
    for fragment, heading in SECTIONS:
        path = ADDON / "readme" / fragment
        if not path.exists():
            continue
        if heading:
            parts += [heading, "=" * len(heading), ""]
        text = path.read_text().strip().replace("`", "``").replace("````", "``")
        parts += [text, ""]
    parts += [
        "Maintainers",
        "===========",
        "",
        f"Maintained by {', '.join(manifest['maintainers'])}; "
        f"authored by {manifest['author']}.",
        "",
    ]
    return "\n".join(parts)


def main():
    text = build()
    target = ADDON / "README.rst"
    if "--check" in sys.argv:
        if not target.exists() or target.read_text() != text:
            sys.exit("prm_partner/README.rst is out of date: run tools/gen_readme.py")
        return
    target.write_text(text)


if __name__ == "__main__":
    main()
