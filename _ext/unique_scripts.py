"""Drop repeated <script> entries from every page.

sphinx-thebe adds its configuration script each time the environment is read;
when that happens twice in one build, the page declares ``const THEBE_JS_URL``
twice and the browser reports "Identifier 'THEBE_JS_URL' has already been
declared" (found by tools/check_site.py). Identical entries are redundant, so
keeping the first of each is safe.
"""

from __future__ import annotations


def _key(script):
    # the same inline script may come once with filename None and once with "" (one copy
    # restored from the pickled environment): treat both as "no file"
    filename = getattr(script, "filename", script) or ""
    attributes = getattr(script, "attributes", {}) or {}
    return str(filename), tuple(sorted((name, str(value)) for name, value in attributes.items()))


def _unique(app, pagename, templatename, context, doctree):
    seen, kept = set(), []
    for script in context.get("script_files", []):
        key = _key(script)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def setup(app):
    app.connect("html-page-context", _unique, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
