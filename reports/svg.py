"""The check every chart's SVG passes before the report prints it unescaped.

Charts are drawn in this process by reports/charts.py, which escapes every string from the data
as it writes it; `safe_svg` re-checks the markup before it is marked safe, so a title, team or
series name from the data can never become an element, an event handler or a link.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from markupsafe import Markup

_SVG_ELEMENTS = {
    "svg", "g", "path", "rect", "text", "tspan", "line", "circle", "ellipse", "polyline",
    "polygon", "defs", "clipPath", "title", "desc", "linearGradient", "radialGradient", "stop",
}
# Attributes that only carry words or figures for readers and tests, never fetched or drawn
_INERT_PREFIXES = ("aria-", "data-")


class UnsafeSvg(ValueError):
    """A chart's SVG holds something that could run or fetch: a bug, never data."""


def safe_svg(svg: str) -> Markup:
    """Check that `svg` holds only drawing elements and no event handlers or links, then mark it
    safe for the template. Raises UnsafeSvg otherwise."""
    root = ET.fromstring(svg)
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag not in _SVG_ELEMENTS:
            raise UnsafeSvg(f"unexpected <{tag}> element in chart SVG")
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            if local.startswith("on"):
                raise UnsafeSvg(f"event handler attribute {local} in chart SVG")
            if local == "href" and not value.startswith("#"):
                raise UnsafeSvg("external link in chart SVG")
            if local.startswith(_INERT_PREFIXES):
                continue
            if "url(" in value and not re.fullmatch(r"url\(#[\w-]+\)", value.strip()):
                raise UnsafeSvg("external url() in chart SVG")
    return Markup(svg)
