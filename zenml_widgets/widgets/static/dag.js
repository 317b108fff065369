// The explorer's DAG: the run's SVG (drawn in Python, every name escaped there), made
// interactive. Click or Enter/Space on a step selects it (the model's `selected`); arrow keys move
// between steps; the picture fits the cell's width, and zooms (buttons, Ctrl/Cmd + wheel) and
// pans (drag) when it is too small to read. Nothing is loaded from the network.

const MIN = 0.1;
const MAX = 3;
const TALLEST = 520; // px: a zoomed DAG scrolls inside this height

function button(label, title, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "zw-dag-tool";
  b.textContent = label;
  b.title = title;
  b.setAttribute("aria-label", title);
  b.addEventListener("click", onClick);
  return b;
}

function render({ model, el }) {
  el.classList.add("zw-dag-widget");
  const bar = document.createElement("div");
  bar.className = "zw-dag-bar";
  const title = document.createElement("span");
  title.className = "zw-dag-title";
  const view = document.createElement("div");
  view.className = "zw-dag-view";
  const stage = document.createElement("div");
  stage.className = "zw-dag-stage";
  // Keys pressed on a step are the DAG's (arrows, Enter, Space), not the notebook's shortcuts.
  stage.setAttribute("data-lm-suppress-shortcuts", "true");
  view.appendChild(stage);
  const zoomLabel = document.createElement("span");
  zoomLabel.className = "zw-dag-zoom";
  const state = { scale: 1, fit: true, x: 0, y: 0, width: 0, height: 0, key: null };

  const svg = () => stage.querySelector("svg");
  const fitScale = () => Math.min(1, Math.max(MIN, (view.clientWidth || state.width) / state.width));

  function apply() {
    const picture = svg();
    if (!picture || !state.width) return;
    if (state.fit) {
      state.scale = fitScale();
      state.x = 0;
      state.y = 0;
    }
    const w = state.width * state.scale;
    const h = state.height * state.scale;
    picture.setAttribute("width", String(w));
    picture.setAttribute("height", String(h));
    picture.style.width = `${w}px`;
    picture.style.height = `${h}px`;
    picture.style.maxWidth = "none";
    view.style.height = `${Math.min(h, Math.max(TALLEST, state.height * fitScale()))}px`;
    const minX = Math.min(0, view.clientWidth - w);
    const minY = Math.min(0, view.clientHeight - h);
    state.x = Math.max(minX, Math.min(0, state.x));
    state.y = Math.max(minY, Math.min(0, state.y));
    stage.style.transform = `translate(${state.x}px, ${state.y}px)`;
    view.classList.toggle("zw-dag-pannable", w > view.clientWidth + 1 || h > view.clientHeight + 1);
    zoomLabel.textContent = `${Math.round(state.scale * 100)}%`;
  }

  function zoom(factor, cx, cy) {
    const old = state.scale;
    const next = Math.max(MIN, Math.min(MAX, old * factor));
    const px = cx ?? view.clientWidth / 2;
    const py = cy ?? view.clientHeight / 2;
    state.fit = false;
    state.x = px - ((px - state.x) * next) / old;
    state.y = py - ((py - state.y) * next) / old;
    state.scale = next;
    apply();
  }

  const steps = () => [...stage.querySelectorAll("g.zw-dag-step")];

  function choose(name) {
    model.set("selected", name);
    model.save_changes();
  }

  function wire() {
    for (const g of steps()) {
      const name = g.getAttribute("data-step");
      g.setAttribute("tabindex", "0");
      g.setAttribute("role", "button");
      g.setAttribute("aria-label", `step ${name}: ${g.getAttribute("data-status")}`);
      g.setAttribute("aria-pressed", String(name === model.get("selected")));
    }
  }

  function draw() {
    const focused = document.activeElement && stage.contains(document.activeElement)
      ? document.activeElement.getAttribute("data-step") : null;
    stage.innerHTML = model.get("svg"); // SVG written by zenml_widgets, names escaped there
    title.textContent = model.get("title");
    const picture = svg();
    if (picture) {
      const box = (picture.getAttribute("viewBox") || "0 0 0 0").split(/\s+/).map(Number);
      state.width = box[2] || Number(picture.getAttribute("width")) || 1;
      state.height = box[3] || Number(picture.getAttribute("height")) || 1;
    }
    if (model.get("key") !== state.key) { // another run: fit it again
      state.key = model.get("key");
      state.fit = true;
    }
    wire();
    apply();
    if (focused) {
      const again = stage.querySelector(`g.zw-dag-step[data-step="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
  }

  stage.addEventListener("click", (event) => {
    if (state.moved) return;
    const g = event.target.closest && event.target.closest("g.zw-dag-step");
    if (g) choose(g.getAttribute("data-step"));
  });
  // Keys on a focused step: handled on the window before the page's own shortcuts see them
  // (Notebook 7 handles keys on the document in the capture phase).
  const onKey = (event) => {
    const g = event.target && event.target.closest && event.target.closest("g.zw-dag-step");
    if (!g || !stage.contains(g)) return;
    const all = steps();
    const at = all.indexOf(g);
    const moves = { ArrowRight: at + 1, ArrowDown: at + 1, ArrowLeft: at - 1, ArrowUp: at - 1,
      Home: 0, End: all.length - 1 };
    if (event.key === "Enter" || event.key === " ") {
      choose(g.getAttribute("data-step"));
    } else if (event.key in moves) {
      const target = all[Math.max(0, Math.min(all.length - 1, moves[event.key]))];
      if (target) target.focus();
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  };
  window.addEventListener("keydown", onKey, true);
  stage.addEventListener("focusin", (event) => { // keep a focused step in view
    const g = event.target.closest && event.target.closest("g.zw-dag-step");
    if (!g || state.fit) return;
    const box = g.getBoundingClientRect();
    const frame = view.getBoundingClientRect();
    if (box.left < frame.left) state.x += frame.left - box.left + 8;
    if (box.right > frame.right) state.x -= box.right - frame.right + 8;
    if (box.top < frame.top) state.y += frame.top - box.top + 8;
    if (box.bottom > frame.bottom) state.y -= box.bottom - frame.bottom + 8;
    apply();
  });

  // Pan by dragging the picture; a drag is not a click.
  view.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    state.drag = { x: event.clientX, y: event.clientY, ox: state.x, oy: state.y };
    state.moved = false;
  });
  view.addEventListener("pointermove", (event) => {
    if (!state.drag) return;
    const dx = event.clientX - state.drag.x;
    const dy = event.clientY - state.drag.y;
    if (!state.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    if (!state.moved) view.setPointerCapture(event.pointerId);
    state.moved = true;
    state.fit = false;
    state.x = state.drag.ox + dx;
    state.y = state.drag.oy + dy;
    apply();
  });
  const stop = (event) => {
    if (state.drag && state.moved && view.hasPointerCapture(event.pointerId)) {
      view.releasePointerCapture(event.pointerId);
    }
    state.drag = null;
    setTimeout(() => { state.moved = false; }, 0);
  };
  view.addEventListener("pointerup", stop);
  view.addEventListener("pointercancel", stop);
  view.addEventListener("wheel", (event) => { // Ctrl/Cmd + wheel zooms; the page scrolls otherwise
    if (!event.ctrlKey && !event.metaKey) return;
    event.preventDefault();
    const frame = view.getBoundingClientRect();
    zoom(event.deltaY < 0 ? 1.15 : 1 / 1.15, event.clientX - frame.left, event.clientY - frame.top);
  }, { passive: false });

  const tools = document.createElement("span");
  tools.className = "zw-dag-tools";
  tools.append(
    button("−", "Zoom out", () => zoom(1 / 1.25)),
    zoomLabel,
    button("+", "Zoom in", () => zoom(1.25)),
    button("Fit", "Fit the cell's width", () => { state.fit = true; apply(); }),
  );
  const hint = document.createElement("span");
  hint.className = "zw-dag-hint";
  hint.textContent = "click a step (or Tab to it, Enter) to select it; drag to pan, Ctrl + wheel to zoom";
  bar.append(title, tools, hint);
  el.append(bar, view);

  const observer = new ResizeObserver(() => apply());
  observer.observe(view);
  model.on("change:svg", draw);
  model.on("change:title", draw);
  model.on("change:selected", wire);
  draw();
  return () => {
    window.removeEventListener("keydown", onKey, true);
    observer.disconnect();
    model.off("change:svg", draw);
    model.off("change:title", draw);
    model.off("change:selected", wire);
  };
}

export default { render };
