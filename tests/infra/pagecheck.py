"""Measurements of a notebook page in the browser, from computed styles: contrast of text
against what is really behind it, text alignment, and whether anything overflows its output area.

Each function runs JavaScript in the page and returns plain data, so a test can assert on it and
print it when it fails.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Page

# Colours are parsed from computed styles (rgb()/rgba(), what Chromium returns); a background
# with alpha is composited over what is behind it, up to the first opaque one (the page is white
# when nothing is). SVG text is measured with its fill, against the rectangles painted under its
# centre (a DAG node) over the page behind the SVG.
_COLOUR_JS = """
const parse = (c) => {
  const m = (c || "").match(/rgba?\\(([^)]+)\\)/);
  if (!m) return null;
  const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
  return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
};
const over = (top, bottom) => {
  const a = top[3];
  return [0, 1, 2].map(i => top[i] * a + bottom[i] * (1 - a)).concat([1]);
};
const behind = (el) => {
  const layers = [];
  for (let e = el; e; e = e.parentElement) {
    const c = parse(getComputedStyle(e).backgroundColor);
    if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
  }
  let colour = [255, 255, 255, 1];
  for (const c of layers.reverse()) colour = over(c, colour);
  return colour;
};
const lum = (c) => {
  const f = (v) => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  };
  return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
};
const ratio = (a, b) => {
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
};
const ownText = (el) => [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
const visible = (el) => {
  const b = el.getBoundingClientRect();
  return b.width > 0 && b.height > 0;
};
"""

CONTRAST_JS = (
    "(selector) => {"
    + _COLOUR_JS
    + """
  const found = [];
  for (const root of document.querySelectorAll(selector)) {
    for (const el of root.querySelectorAll("*")) {
      if (!ownText(el) || !visible(el)) continue;
      let fg, bg;
      if (el instanceof SVGElement) {
        if (el.tagName !== "text" && el.tagName !== "tspan") continue;
        fg = parse(getComputedStyle(el).fill);
        bg = behind(el.closest("svg"));
        const t = el.getBoundingClientRect(), x = t.left + t.width / 2, y = t.top + t.height / 2;
        for (const shape of el.closest("svg").querySelectorAll("rect")) {  // painted in order
          const b = shape.getBoundingClientRect(), fill = parse(getComputedStyle(shape).fill);
          if (fill && fill[3] > 0 && b.left <= x && x <= b.right && b.top <= y && y <= b.bottom) {
            bg = over(fill, bg);
          }
        }
      } else {
        fg = parse(getComputedStyle(el).color);
        bg = behind(el);
      }
      if (!fg) continue;
      const shown = over(fg, bg);
      found.push({
        text: el.textContent.trim().slice(0, 40), tag: el.tagName,
        cls: (el.getAttribute("class") || "").slice(0, 40),
        ratio: Math.round(ratio(shown, bg) * 100) / 100,
      });
    }
  }
  return found;
}"""
)

# Every element of each output area: how far its visible box reaches past the area's right edge
# (boxes clipped by a scrolling ancestor inside the area count only up to that ancestor), and
# the boxes that scroll sideways.
OVERFLOW_JS = """(selector) => [...document.querySelectorAll(selector)].map((area, index) => {
  const edge = area.getBoundingClientRect().right;
  let worst = 0, who = "";
  for (const el of area.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    let right = box.right;
    for (let p = el.parentElement; p && p !== area; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") {
        right = Math.min(right, p.getBoundingClientRect().right);
      }
    }
    if (right - edge > worst) {
      worst = right - edge;
      who = el.tagName + "." + el.getAttribute("class");
    }
  }
  const scrolling = [...area.querySelectorAll("*")]
    .filter(e => ["auto", "scroll"].includes(getComputedStyle(e).overflowX)
                 && e.scrollWidth > e.clientWidth + 1)
    .map(e => ({cls: (e.getAttribute("class") || e.tagName).slice(0, 60),
                content: e.scrollWidth, visible: e.clientWidth}));
  return {index, width: Math.round(area.getBoundingClientRect().width),
          overflow: Math.round(worst), who: who.slice(0, 80), scrolling};
})"""

# The computed alignment of the cells of our own tables (div.zw), by kind.
ALIGN_JS = """(selector) => {
  const cells = [...document.querySelectorAll(selector)];
  const align = (c) => getComputedStyle(c).textAlign;
  return {
    text: [...new Set(cells.filter(c => !c.classList.contains("zw-num")).map(align))],
    numbers: [...new Set(cells.filter(c => c.classList.contains("zw-num")).map(align))],
    count: cells.length,
    examples: cells.filter(c => (align(c) === "right") !== c.classList.contains("zw-num"))
      .slice(0, 5).map(c => c.outerHTML.slice(0, 120)),
  };
}"""


def contrast(page: Page, selector: str = ".jp-OutputArea-output") -> list[dict[str, Any]]:
    """Every visible piece of text under ``selector``: its contrast ratio against what is behind
    it, measured from computed styles."""
    found: list[dict[str, Any]] = page.evaluate(CONTRAST_JS, selector)
    return found


def overflow(page: Page, selector: str = ".jp-OutputArea-output") -> list[dict[str, Any]]:
    """For each output area: how many pixels its content reaches past its right edge, and the
    boxes in it that scroll sideways (content and visible width)."""
    found: list[dict[str, Any]] = page.evaluate(OVERFLOW_JS, selector)
    return found


def alignment(page: Page, selector: str = "div.zw td, div.zw th") -> dict[str, Any]:
    """The computed ``text-align`` values of text cells and of number cells (``zw-num``)."""
    found: dict[str, Any] = page.evaluate(ALIGN_JS, selector)
    return found
