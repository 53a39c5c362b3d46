"""XML comparison (``equalToXml``), XPath selection (``matchesXPath``) and the pretty print of a
document in the near-miss table.

``equalToXml`` is semantic like WireMock's XMLUnit set-up: whitespace between elements, attribute
order, namespace prefixes and the order of sibling elements with different names do not matter
(same-named siblings must keep their order, as in WireMock 3.13).  XPath uses lxml when it
is installed (full XPath 1.0) and falls back to ElementTree's subset otherwise.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

__all__ = ["XmlError", "compile_xpath", "pretty_xml", "xml_equal"]


class XmlError(ValueError):
    """Malformed XML or XPath."""


Canon = tuple[Any, ...]


def _canon(elem: ET.Element) -> Canon:
    # Like XMLUnit's default element selector (by name): siblings of different names may come in
    # any order, siblings of the same name must keep theirs.  A stable sort on the tag does that.
    text = (elem.text or "").strip()
    children = sorted((_canon(c) for c in elem), key=lambda c: str(c[0]))
    tails = "".join((c.tail or "").strip() for c in elem)
    return (elem.tag, tuple(sorted(elem.attrib.items())), text + tails, tuple(children))


@functools.lru_cache(maxsize=256)
def _canon_text(text: str) -> Canon:
    try:
        return _canon(ET.fromstring(text.strip()))
    except ET.ParseError as exc:
        raise XmlError(str(exc)) from None


def xml_equal(expected: str, actual: str) -> bool:
    """True when the two documents are equal up to formatting, prefixes and the order of
    differently named siblings."""
    want = _canon_text(expected)
    try:
        got = _canon(ET.fromstring(actual.strip()))
    except ET.ParseError:
        return False
    return want == got


def _pretty_node(node: Any, level: int, out: list[str]) -> None:
    from xml.dom import Node
    from xml.sax.saxutils import escape, quoteattr

    pad = "  " * level
    if node.nodeType == Node.COMMENT_NODE:
        out.append(f"{pad}<!--{node.data}-->")
        return
    if node.nodeType in (Node.TEXT_NODE, Node.CDATA_SECTION_NODE):
        out.append(pad + escape(node.data.strip()))
        return
    if node.nodeType != Node.ELEMENT_NODE:
        return
    attrs = "".join(f" {name}={quoteattr(value)}" for name, value in node.attributes.items())
    children = list(node.childNodes)
    if not children:
        out.append(f"{pad}<{node.tagName}{attrs}/>")
    elif len(children) == 1 and children[0].nodeType == Node.TEXT_NODE:
        out.append(f"{pad}<{node.tagName}{attrs}>{escape(children[0].data)}</{node.tagName}>")
    else:
        out.append(f"{pad}<{node.tagName}{attrs}>")
        for child in children:
            _pretty_node(child, level + 1, out)
        out.append(f"{pad}</{node.tagName}>")


def pretty_xml(text: str) -> str:
    """The document indented by two spaces per level, without declaration (as WireMock prints it);
    ``text`` unchanged when it is not well-formed XML."""
    from xml.dom import Node, minidom
    from xml.parsers.expat import ExpatError

    try:
        doc = minidom.parseString(text.strip())
    except (ExpatError, ValueError):
        return text

    def strip_blank(node: Any) -> None:
        for child in list(node.childNodes):
            if child.nodeType == Node.TEXT_NODE and not child.data.strip():
                node.removeChild(child)
            else:
                strip_blank(child)

    strip_blank(doc)
    out: list[str] = []
    for child in doc.childNodes:
        _pretty_node(child, 0, out)
    return "\n".join(out)


def _string_values(result: Any) -> list[str] | None:
    if isinstance(result, bool):
        return ["true"] if result else []
    if isinstance(result, (int, float)):
        return [str(int(result)) if float(result).is_integer() else str(result)]
    if isinstance(result, str):
        return [result]
    values: list[str] = []
    for item in result:
        if isinstance(item, str):
            values.append(str(item))
        elif hasattr(item, "itertext"):
            values.append("".join(item.itertext()))
        else:
            values.append(str(item))
    return values


def compile_xpath(expression: str, namespaces: dict[str, str]) -> Callable[[str], list[str] | None]:
    """A function giving the string values selected in a document (``None`` if it is not XML)."""
    try:
        from lxml import etree  # type: ignore[import-untyped,unused-ignore]
    except ImportError:  # pragma: no cover - exercised only without lxml
        return _compile_elementtree(expression, namespaces)
    try:
        xpath = etree.XPath(expression, namespaces=namespaces or None)
    except etree.XPathError as exc:
        raise XmlError(str(exc)) from None
    parser = etree.XMLParser(resolve_entities=False, no_network=True)

    def select(text: str) -> list[str] | None:
        try:
            doc = etree.fromstring(text.strip().encode("utf-8"), parser)
        except etree.XMLSyntaxError:
            return None
        try:
            return _string_values(xpath(doc))
        except etree.XPathError:
            return None

    return select


def _compile_elementtree(expression: str, namespaces: dict[str, str]) -> Callable[[str], list[str] | None]:
    path = expression
    if path.startswith("/"):
        first, _, rest = path[1:].partition("/")
        path = rest or "."
        root_tag = first
    else:
        root_tag = ""

    def select(text: str) -> list[str] | None:
        try:
            root = ET.fromstring(text.strip())
        except ET.ParseError:
            return None
        if root_tag and root_tag.split("[")[0] not in (root.tag, "*"):
            return []
        try:
            return _string_values(root.findall(path, namespaces))
        except SyntaxError as exc:
            raise XmlError(str(exc)) from None

    return select
