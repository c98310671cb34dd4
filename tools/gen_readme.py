#!/usr/bin/env python3
"""Build prm_partner/README.rst from the readme/ fragments (OCA layout).

``python3 tools/gen_readme.py``          rewrite README.rst
``python3 tools/gen_readme.py --check``  exit 1 when README.rst is not up to date
"""

import ast
import re
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


def _headings(text):
    """Markdown ``### Title`` lines become reStructuredText subsections."""
    return re.sub(
        r"^#{2,4} (.+)$", lambda m: f"{m[1]}\n{'-' * len(m[1])}", text, flags=re.M
    )


def _list_spacing(text):
    """reStructuredText needs a blank line before a list that follows a paragraph,
    and around a nested list (where the indentation of the bullets changes)."""
    out, bullet_indent = [], None
    for line in text.split("\n"):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if stripped.startswith("- "):
            if out and out[-1].strip() and indent != bullet_indent:
                out.append("")
            bullet_indent = indent
        elif stripped and indent == 0:
            bullet_indent = None
        out.append(line)
    return "\n".join(out)


def _tables(text):
    """Markdown pipe tables become ``list-table`` directives."""
    out, rows = [], []

    def flush():
        if not rows:
            return
        out.extend([".. list-table::", "   :header-rows: 1", ""])
        for row in rows:
            for index, cell in enumerate(row):
                out.append(f"   {'* -' if index == 0 else '  -'} {cell or ' '}")
        out.append("")
        rows.clear()

    for line in text.split("\n"):
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not all(set(cell) <= set("-: ") for cell in cells):
                rows.append(cells)
            continue
        flush()
        out.append(line)
    flush()
    return "\n".join(out)


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
        parts += [_tables(_list_spacing(_headings(text))), ""]
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
        import docutils.core

        docutils.core.publish_string(  # raises on any warning
            text, writer_name="null", settings_overrides={"halt_level": 2}
        )
        return
    target.write_text(text)


if __name__ == "__main__":
    main()
