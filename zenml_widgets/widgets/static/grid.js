// The explorer's runs grid: every run of a pipeline as a row, scrolled virtually. Only the rows
// in view are in the page; they are fetched from the kernel a page at a time ("fetch" messages,
// answered with "rows"), so 100,000 runs scroll like 10. Headers sort (in SQL, in the kernel),
// a click on a row selects that run, the name column stays in view when scrolled sideways.
// Cells arrive as text from the kernel and are set as text here (never as HTML).
// The names of the runs in view ("visible", once scrolling pauses) and of the runs marked with
// Ctrl/Cmd/Shift-click ("marked") go back to the kernel: the panel overlays their curves.

const ROW = 28; // px, the height of every row (see grid.css)
const BUFFER = 10; // rows rendered above and below the view
const EVENTS = ["columns", "sort", "descending"];
const REDRAW = ["selected", "error", "total", "marked"];
const SETTLE = 250; // ms without scrolling before the runs in view are reported

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(className, label, title, onClick) {
  const b = element("button", className, label);
  b.type = "button";
  b.title = title;
  b.setAttribute("aria-label", title);
  b.addEventListener("click", onClick);
  return b;
}

const count = (n) => n.toLocaleString("en");

class GridView {
  constructor(model, root) {
    this.model = model;
    this.root = root;
    this.cache = new Map(); // row index -> [name, cell, cell, ...]
    this.pending = new Set(); // page numbers asked for
    this.frame = 0;
    this.build();
    this.header = this.header.bind(this);
    this.later = this.later.bind(this);
    this.restart = this.restart.bind(this);
    this.onMessage = this.onMessage.bind(this);
    this.observer = new ResizeObserver(this.later);
    this.observer.observe(this.view);
    model.on("msg:custom", this.onMessage);
    model.on("change:generation", this.restart);
    for (const name of EVENTS) model.on(`change:${name}`, this.header);
    for (const name of REDRAW) model.on(`change:${name}`, this.later);
    this.header();
    this.draw();
  }

  build() {
    this.root.classList.add("zw-grid");
    const bar = element("div", "zw-grid-bar");
    this.range = element("span", "zw-grid-range");
    bar.append(
      button("zw-grid-tool", "⤒ First", "First rows", () => { this.view.scrollTop = 0; }),
      button("zw-grid-tool", "▲ Page up", "Previous rows", () => this.page(-1)),
      button("zw-grid-tool", "▼ Page down", "Next rows", () => this.page(1)),
      button("zw-grid-tool", "⤓ Last", "Last rows", () => { this.view.scrollTop = this.total() * ROW; }),
      button("zw-grid-tool zw-grid-unmark", "✕ Unmark", "Unmark every run", () => this.mark(null)),
      this.range,
    );
    this.error = element("div", "zw-grid-error");
    this.error.setAttribute("role", "alert");
    this.view = element("div", "zw-grid-view");
    this.view.tabIndex = 0;
    this.table = element("table", "zw-grid-table");
    this.colgroup = element("colgroup");
    this.thead = element("thead");
    this.tbody = element("tbody");
    this.table.append(this.colgroup, this.thead, this.tbody);
    this.view.appendChild(this.table);
    this.root.append(bar, this.error, this.view);
    this.tbody.addEventListener("click", (event) => this.click(event));
    this.view.addEventListener("scroll", () => this.later());
  }

  total() { return this.model.get("total"); }

  pageSize() { return this.model.get("page_size"); }

  send(message) {
    this.model.send({ ...message, generation: this.model.get("generation") });
  }

  page(delta) {
    const top = this.view.scrollTop + delta * this.model.get("rows_shown") * ROW;
    this.view.scrollTop = Math.max(0, Math.min(top, this.total() * ROW));
  }

  header() {
    const columns = this.model.get("columns");
    this.colgroup.replaceChildren(...columns.map((c) => {
      const col = element("col");
      col.style.width = `${c.width}px`;
      return col;
    }));
    this.table.style.width = `${columns.reduce((sum, c) => sum + c.width, 0)}px`;
    const sort = this.model.get("sort");
    const descending = this.model.get("descending");
    const row = element("tr");
    for (const c of columns) {
      const th = element("th", c.numeric ? "zw-grid-num" : "");
      const sorted = c.name === sort;
      th.setAttribute("aria-sort", sorted ? (descending ? "descending" : "ascending") : "none");
      const label = c.name + (sorted ? (descending ? " ▼" : " ▲") : "");
      th.appendChild(button("zw-grid-sort", label, `sort by ${c.name}`, () => {
        const again = c.name === this.model.get("sort");
        this.send({ type: "sort", column: c.name, descending: again ? !this.model.get("descending") : true });
      }));
      row.appendChild(th);
    }
    this.thead.replaceChildren(row);
  }

  fetchMissing(first, last) {
    const size = this.pageSize();
    for (let p = Math.floor(first / size); p * size <= last; p++) {
      if (this.pending.has(p)) continue;
      const end = Math.min(this.total(), (p + 1) * size);
      let missing = false;
      for (let i = p * size; i < end && !missing; i++) missing = !this.cache.has(i);
      if (missing) {
        this.pending.add(p);
        this.send({ type: "fetch", offset: p * size, limit: size });
      }
    }
  }

  cell(column, value) {
    const td = element("td", column.numeric ? "zw-grid-num" : "");
    if (column.name === "status" && value) {
      const badge = element("span", "zw-grid-status", value);
      badge.style.background = this.model.get("status_colours")[value] || "#455a64";
      td.appendChild(badge);
    } else {
      td.textContent = value ?? "";
      td.title = value ?? "";
    }
    return td;
  }

  row(i, columns, selected) {
    const values = this.cache.get(i);
    const tr = element("tr", values ? "zw-grid-row" : "zw-grid-row zw-grid-loading");
    tr.dataset.row = String(i);
    if (!values) {
      columns.forEach((c, k) => tr.appendChild(this.cell(c, k === 0 ? "…" : "")));
      return tr;
    }
    tr.dataset.name = values[0];
    if (values[0] === selected) tr.classList.add("zw-selected");
    if (this.model.get("marked").includes(values[0])) tr.classList.add("zw-marked");
    columns.forEach((c, k) => tr.appendChild(this.cell(c, values[k + 1])));
    return tr;
  }

  pad(height, span) {
    const tr = element("tr", "zw-grid-pad");
    const td = element("td");
    td.colSpan = span;
    tr.style.height = `${height}px`;
    tr.appendChild(td);
    return tr;
  }

  draw() {
    this.frame = 0;
    const columns = this.model.get("columns");
    const n = this.total();
    const view = this.view;
    const frameSize = view.offsetHeight - view.clientHeight; // borders and a sideways scrollbar
    const shown = Math.min(this.model.get("rows_shown"), Math.max(n, 1));
    view.style.height = `${(shown + 1) * ROW + frameSize}px`;
    const first = Math.max(0, Math.floor(view.scrollTop / ROW) - BUFFER);
    const last = Math.min(n - 1, Math.ceil((view.scrollTop + view.clientHeight) / ROW) + BUFFER);
    const rows = [this.pad(first * ROW, columns.length)];
    for (let i = first; i <= last; i++) rows.push(this.row(i, columns, this.model.get("selected")));
    rows.push(this.pad(Math.max(0, n - last - 1) * ROW, columns.length));
    this.tbody.replaceChildren(...rows);
    if (n > 0) this.fetchMissing(first, last);
    const top = Math.min(n, Math.floor(view.scrollTop / ROW) + 1);
    const bottom = Math.max(top, Math.min(n, Math.floor((view.scrollTop + view.clientHeight) / ROW) - 1));
    this.range.textContent = n ? `rows ${count(top)}–${count(bottom)} of ${count(n)}` : "no runs";
    this.report(top - 1, bottom - 1);
    this.error.textContent = this.model.get("error");
    this.error.style.display = this.model.get("error") ? "" : "none";
  }

  report(first, last) {
    // the names of the rows in view, sent once scrolling pauses and only when they changed
    const names = [];
    for (let i = Math.max(0, first); i <= last; i++) {
      const values = this.cache.get(i);
      if (values) names.push(values[0]);
    }
    clearTimeout(this.settle);
    this.settle = setTimeout(() => {
      const known = this.model.get("visible");
      if (names.length === known.length && names.every((name, k) => name === known[k])) return;
      this.model.set("visible", names);
      this.model.save_changes();
    }, SETTLE);
  }

  mark(name) {
    const marked = name === null ? [] : this.model.get("marked").slice();
    if (name !== null) {
      const at = marked.indexOf(name);
      if (at >= 0) marked.splice(at, 1); else marked.push(name);
    }
    this.model.set("marked", marked);
    this.model.save_changes();
    this.later();
  }

  later() {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.draw());
  }

  click(event) {
    const tr = event.target.closest && event.target.closest("tr.zw-grid-row");
    if (!tr || !tr.dataset.name) return;
    if (event.ctrlKey || event.metaKey || event.shiftKey) {
      this.mark(tr.dataset.name);
      return;
    }
    for (const other of this.tbody.querySelectorAll("tr.zw-selected")) other.classList.remove("zw-selected");
    tr.classList.add("zw-selected");
    this.send({ type: "select", name: tr.dataset.name });
  }

  onMessage(message) {
    if (message.type !== "rows" || message.generation !== this.model.get("generation")) return;
    message.rows.forEach((values, k) => this.cache.set(message.offset + k, values));
    this.pending.delete(Math.floor(message.offset / this.pageSize()));
    this.later();
  }

  restart() {
    this.cache.clear();
    this.pending.clear();
    this.view.scrollTop = 0;
    this.header();
    this.later();
  }

  dispose() {
    clearTimeout(this.settle);
    this.observer.disconnect();
    this.model.off("msg:custom", this.onMessage);
    this.model.off("change:generation", this.restart);
    for (const name of EVENTS) this.model.off(`change:${name}`, this.header);
    for (const name of REDRAW) this.model.off(`change:${name}`, this.later);
  }
}

function render({ model, el }) {
  const view = new GridView(model, el);
  return () => view.dispose();
}

export default { render };
