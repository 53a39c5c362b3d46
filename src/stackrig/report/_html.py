"""The self-contained HTML page: the report's JSON embedded, rendered in the browser by a small script.

No server, no external assets: the page opens from disk.  The JSON sits in a
``<script type="application/json">`` element with every ``<`` written as ``\\u003c`` (still the same
JSON), so no text a test printed can end the element.
"""

from __future__ import annotations

import html

import msgspec

from ._html_css import CSS
from ._html_js import JS
from ._model import Report

__all__ = ["render_html", "DATA_START", "DATA_END"]

DATA_START = '<script id="stackrig-data" type="application/json">'
DATA_END = "</script><!--/stackrig-data-->"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{generator}">
<title>{title}</title>
<style>{css}</style></head>
<body>
<header class="top">
<h1>{title}</h1>
<div id="meta">{total} tests</div>
<div class="bar" id="chips" aria-label="filter by outcome"></div>
<div class="bar"><input id="q" type="search" placeholder="Search test names and errors" aria-label="search">
<button class="act" id="expand-all" type="button">Expand all</button>
<button class="act" id="collapse-all" type="button">Collapse all</button><span id="count"></span></div>
</header>
<main>
<div id="panels"></div>
<div id="list" role="list"></div>
<div id="more" hidden><button class="act" id="more-btn" type="button">Show more</button></div>
</main>
"""


def render_html(report: Report, data: bytes | None = None) -> str:
    """The report page; ``data`` is the report's JSON when already encoded (``report.json``'s bytes)."""
    if data is None:
        data = msgspec.json.encode(report)
    embedded = data.decode().replace("<", "\\u003c")
    head = _PAGE.format(title=html.escape(report.title), generator=html.escape(report.generator), css=CSS,
                        total=len(report.tests))
    return f"{head}{DATA_START}{embedded}{DATA_END}\n<script>{JS}</script>\n</body></html>\n"
