// The explorer's DAG: the run's SVG (drawn in Python, every name escaped there), made
// interactive. Click or Enter/Space on a step selects it (the model's `selected`); arrow keys move
// between steps; the picture fits the cell's width, and zooms (buttons, Ctrl/Cmd + wheel) and
// pans (drag) when it is too small to read. Nothing is loaded from the network.

const MIN = 0.1;
const MAX = 3;
const TALLEST = 520; // px: a zoomed DAG pans inside this height
const HINT = "click a step (or Tab to it, Enter) to select it; drag to pan, Ctrl + wheel to zoom";
const MOVES = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(label, title, onClick) {
  const b = element("button", "zw-dag-tool", label);
  b.type = "button";
  b.title = title;
  b.setAttribute("aria-label", title);
  b.addEventListener("click", onClick);
  return b;
}

class DagView {
  constructor(model, root) {
    this.model = model;
    this.root = root;
    this.state = { scale: 1, fit: true, x: 0, y: 0, width: 0, height: 0, key: null };
    this.build();
    this.onKey = (event) => this.key(event);
    window.addEventListener("keydown", this.onKey, true); // before the page's own shortcuts
    this.observer = new ResizeObserver(() => this.apply());
    this.observer.observe(this.view);
    this.draw = this.draw.bind(this);
    this.wire = this.wire.bind(this);
    model.on("change:svg", this.draw);
    model.on("change:title", this.draw);
    model.on("change:selected", this.wire);
    this.draw();
  }

  build() {
    this.root.classList.add("zw-dag-widget");
    const bar = element("div", "zw-dag-bar");
    this.title = element("span", "zw-dag-title");
    this.zoomLabel = element("span", "zw-dag-zoom");
    const tools = element("span", "zw-dag-tools");
    tools.append(
      button("−", "Zoom out", () => this.zoom(1 / 1.25)),
      this.zoomLabel,
      button("+", "Zoom in", () => this.zoom(1.25)),
      button("Fit", "Fit the cell's width", () => { this.state.fit = true; this.apply(); }),
    );
    bar.append(this.title, tools, element("span", "zw-dag-hint", HINT));
    this.view = element("div", "zw-dag-view");
    this.stage = element("div", "zw-dag-stage");
    // Keys pressed on a step are the DAG's (arrows, Enter, Space), not the notebook's shortcuts.
    this.stage.setAttribute("data-lm-suppress-shortcuts", "true");
    this.view.appendChild(this.stage);
    this.root.append(bar, this.view);
    this.stage.addEventListener("click", (event) => this.click(event));
    this.stage.addEventListener("focusin", (event) => this.reveal(event));
    this.view.addEventListener("pointerdown", (event) => this.grab(event));
    this.view.addEventListener("pointermove", (event) => this.drag(event));
    this.view.addEventListener("pointerup", (event) => this.release(event));
    this.view.addEventListener("pointercancel", (event) => this.release(event));
    this.view.addEventListener("wheel", (event) => this.wheel(event), { passive: false });
  }

  svg() {
    return this.stage.querySelector("svg");
  }

  steps() {
    return [...this.stage.querySelectorAll("g.zw-dag-step")];
  }

  fitScale() {
    const s = this.state;
    return Math.min(1, Math.max(MIN, (this.view.clientWidth || s.width) / s.width));
  }

  apply() {
    const picture = this.svg();
    const s = this.state;
    if (!picture || !s.width) return;
    if (s.fit) Object.assign(s, { scale: this.fitScale(), x: 0, y: 0 });
    const w = s.width * s.scale;
    const h = s.height * s.scale;
    picture.setAttribute("width", String(w));
    picture.setAttribute("height", String(h));
    Object.assign(picture.style, { width: `${w}px`, height: `${h}px`, maxWidth: "none" });
    this.view.style.height = `${Math.min(h, Math.max(TALLEST, s.height * this.fitScale()))}px`;
    s.x = Math.max(Math.min(0, this.view.clientWidth - w), Math.min(0, s.x));
    s.y = Math.max(Math.min(0, this.view.clientHeight - h), Math.min(0, s.y));
    this.stage.style.transform = `translate(${s.x}px, ${s.y}px)`;
    const big = w > this.view.clientWidth + 1 || h > this.view.clientHeight + 1;
    this.view.classList.toggle("zw-dag-pannable", big);
    this.zoomLabel.textContent = `${Math.round(s.scale * 100)}%`;
  }

  zoom(factor, cx, cy) {
    const s = this.state;
    const next = Math.max(MIN, Math.min(MAX, s.scale * factor));
    const px = cx ?? this.view.clientWidth / 2;
    const py = cy ?? this.view.clientHeight / 2;
    s.x = px - ((px - s.x) * next) / s.scale;
    s.y = py - ((py - s.y) * next) / s.scale;
    Object.assign(s, { fit: false, scale: next });
    this.apply();
  }

  choose(name) {
    this.model.set("selected", name);
    this.model.save_changes();
  }

  wire() {
    for (const g of this.steps()) {
      const name = g.getAttribute("data-step");
      g.setAttribute("tabindex", "0");
      g.setAttribute("role", "button");
      g.setAttribute("aria-label", `step ${name}: ${g.getAttribute("data-status")}`);
      g.setAttribute("aria-pressed", String(name === this.model.get("selected")));
    }
  }

  draw() {
    const active = document.activeElement;
    const focused = active && this.stage.contains(active) ? active.getAttribute("data-step") : null;
    this.stage.innerHTML = this.model.get("svg"); // SVG written by zenml_widgets, names escaped
    this.title.textContent = this.model.get("title");
    const picture = this.svg();
    if (picture) {
      const box = (picture.getAttribute("viewBox") || "0 0 0 0").split(/\s+/).map(Number);
      this.state.width = box[2] || Number(picture.getAttribute("width")) || 1;
      this.state.height = box[3] || Number(picture.getAttribute("height")) || 1;
    }
    if (this.model.get("key") !== this.state.key) { // another run: fit it again
      this.state.key = this.model.get("key");
      this.state.fit = true;
    }
    this.wire();
    this.apply();
    if (focused) {
      const selector = `g.zw-dag-step[data-step="${CSS.escape(focused)}"]`;
      const again = this.stage.querySelector(selector);
      if (again) again.focus();
    }
  }

  click(event) {
    if (this.state.moved) return; // the end of a drag
    const g = event.target.closest && event.target.closest("g.zw-dag-step");
    if (g) this.choose(g.getAttribute("data-step"));
  }

  key(event) {
    const g = event.target && event.target.closest && event.target.closest("g.zw-dag-step");
    if (!g || !this.stage.contains(g)) return;
    const all = this.steps();
    const at = all.indexOf(g);
    if (event.key === "Enter" || event.key === " ") {
      this.choose(g.getAttribute("data-step"));
    } else if (event.key in MOVES || event.key === "Home" || event.key === "End") {
      const next = event.key === "Home" ? 0 : event.key === "End" ? all.length - 1 : at + MOVES[event.key];
      const target = all[Math.max(0, Math.min(all.length - 1, next))];
      if (target) target.focus();
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  }

  reveal(event) { // keep a focused step in view
    const g = event.target.closest && event.target.closest("g.zw-dag-step");
    if (!g || this.state.fit) return;
    const box = g.getBoundingClientRect();
    const frame = this.view.getBoundingClientRect();
    const s = this.state;
    if (box.left < frame.left) s.x += frame.left - box.left + 8;
    if (box.right > frame.right) s.x -= box.right - frame.right + 8;
    if (box.top < frame.top) s.y += frame.top - box.top + 8;
    if (box.bottom > frame.bottom) s.y -= box.bottom - frame.bottom + 8;
    this.apply();
  }

  grab(event) {
    if (event.button !== 0) return;
    this.state.drag = { x: event.clientX, y: event.clientY, ox: this.state.x, oy: this.state.y };
    this.state.moved = false;
  }

  drag(event) {
    const s = this.state;
    if (!s.drag) return;
    const dx = event.clientX - s.drag.x;
    const dy = event.clientY - s.drag.y;
    if (!s.moved && Math.abs(dx) + Math.abs(dy) < 4) return; // a click, so far
    if (!s.moved) this.view.setPointerCapture(event.pointerId);
    Object.assign(s, { moved: true, fit: false, x: s.drag.ox + dx, y: s.drag.oy + dy });
    this.apply();
  }

  release(event) {
    if (this.state.moved && this.view.hasPointerCapture(event.pointerId)) {
      this.view.releasePointerCapture(event.pointerId);
    }
    this.state.drag = null;
    setTimeout(() => { this.state.moved = false; }, 0);
  }

  wheel(event) { // Ctrl/Cmd + wheel zooms; the page scrolls otherwise
    if (!event.ctrlKey && !event.metaKey) return;
    event.preventDefault();
    const frame = this.view.getBoundingClientRect();
    const factor = event.deltaY < 0 ? 1.15 : 1 / 1.15;
    this.zoom(factor, event.clientX - frame.left, event.clientY - frame.top);
  }

  dispose() {
    window.removeEventListener("keydown", this.onKey, true);
    this.observer.disconnect();
    this.model.off("change:svg", this.draw);
    this.model.off("change:title", this.draw);
    this.model.off("change:selected", this.wire);
  }
}

function render({ model, el }) {
  const view = new DagView(model, el);
  return () => view.dispose();
}

export default { render };
