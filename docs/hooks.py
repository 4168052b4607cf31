"""MkDocs hook: every public name of a referenced module is on its reference page.

A reference page says ``::: module``; mkdocstrings renders what it finds. This check
makes a public name (in the module's ``__all__``) that the page does not show a warning,
so the strict build fails instead of publishing an incomplete reference.
"""

from __future__ import annotations

import importlib
import logging
import re
from typing import Any

log = logging.getLogger("mkdocs.hooks.reference")
DIRECTIVE = re.compile(r"^::: ([\w.]+)\s*$", re.MULTILINE)


def on_post_page(output: str, page: Any, config: Any) -> str:
    for module_name in DIRECTIVE.findall(page.markdown or ""):
        module = importlib.import_module(module_name)
        missing = [
            name
            for name in getattr(module, "__all__", ())
            if f'id="{module_name}.{name}"' not in output
        ]
        if missing:
            log.warning(
                "%s: the reference of %s leaves out %s",
                page.file.src_uri,
                module_name,
                ", ".join(missing),
            )
    return output
