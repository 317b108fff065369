// The explorer's runs grid: every run of a pipeline as a row, scrolled virtually. Only the rows
// in view are in the page; they are fetched from the kernel a page at a time ("fetch" messages,
// answered with "rows"), so 100,000 runs scroll like 10. Headers sort (in SQL, in the kernel),
// a click on a row selects that run, the name column stays in view when scrolled sideways.
// Cells arrive as text from the kernel and are set as text here (never as HTML).

const ROW = 28; // px, the height of every row (see grid.css)
const BUFFER = 10; // rows rendered above and below the view

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(label, title, onClick) {
  const b = el("button", "zw-grid-tool", label);
  b.type = "button";
  b.title = title;
  b.setAttribute("aria-label", title);
  b.addEventListener("click", onClick);
  return b;
}

function render({ model, el: root }) {
  root.classList.add("zw-grid");
  const bar = el("div", "zw-grid-bar");
  const range = el("span", "zw-grid-range");
  const error = el("div", "zw-grid-error");
  error.setAttribute("role", "alert");
  const view = el("div", "zw-grid-view");
  view.tabIndex = 0;
  const table = el("table", "zw-grid-table");
  const colgroup = el("colgroup");
  const thead = el("thead");
  const tbody = el("tbody");
  table.append(colgroup, thead, tbody);
  view.appendChild(table);
  const cache = new Map(); // row index -> [name, cell, cell, ...]
  const pending = new Set(); // page numbers asked for
  let frame = 0;

  const rowsShown = () => model.get("rows_shown");
  const pageSize = () => model.get("page_size");
  const total = () => model.get("total");
  const send = (message) => model.send({ ...message, generation: model.get("generation") });

  function page(delta) {
    const top = view.scrollTop + delta * rowsShown() * ROW;
    view.scrollTop = Math.max(0, Math.min(top, total() * ROW));
  }

  bar.append(
    button("⤒ First", "First rows", () => { view.scrollTop = 0; }),
    button("▲ Page up", "Previous rows", () => page(-1)),
    button("▼ Page down", "Next rows", () => page(1)),
    button("⤓ Last", "Last rows", () => { view.scrollTop = total() * ROW; }),
    range,
  );
  root.append(bar, error, view);

  function header() {
    const columns = model.get("columns");
    colgroup.replaceChildren(...columns.map((c) => {
      const col = el("col");
      col.style.width = `${c.width}px`;
      return col;
    }));
    table.style.width = `${columns.reduce((sum, c) => sum + c.width, 0)}px`;
    const sort = model.get("sort");
    const descending = model.get("descending");
    const row = el("tr");
    for (const c of columns) {
      const th = el("th", c.numeric ? "zw-grid-num" : "");
      th.setAttribute("aria-sort", c.name === sort ? (descending ? "descending" : "ascending") : "none");
      const arrow = c.name === sort ? (descending ? " ▼" : " ▲") : "";
      const b = el("button", "zw-grid-sort", c.name + arrow);
      b.type = "button";
      b.title = `sort by ${c.name}`;
      b.addEventListener("click", () => {
        const again = c.name === model.get("sort");
        send({ type: "sort", column: c.name, descending: again ? !model.get("descending") : true });
      });
      th.appendChild(b);
      row.appendChild(th);
    }
    thead.replaceChildren(row);
  }

  function pad(height, span) {
    const tr = el("tr", "zw-grid-pad");
    const td = el("td");
    td.colSpan = span;
    tr.style.height = `${height}px`;
    tr.appendChild(td);
    return tr;
  }

  function fetchMissing(first, last) {
    for (let p = Math.floor(first / pageSize()); p * pageSize() <= last; p++) {
      if (pending.has(p)) continue;
      let missing = false;
      for (let i = p * pageSize(); i < Math.min(total(), (p + 1) * pageSize()); i++) {
        if (!cache.has(i)) { missing = true; break; }
      }
      if (missing) {
        pending.add(p);
        send({ type: "fetch", offset: p * pageSize(), limit: pageSize() });
      }
    }
  }

  function cell(column, value) {
    const td = el("td", column.numeric ? "zw-grid-num" : "");
    if (column.name === "status" && value) {
      const badge = el("span", "zw-grid-status", value);
      badge.style.background = model.get("status_colours")[value] || "#455a64";
      td.appendChild(badge);
    } else {
      td.textContent = value ?? "";
      td.title = value ?? "";
    }
    return td;
  }

  function draw() {
    frame = 0;
    const columns = model.get("columns");
    const n = total();
    const frameSize = view.offsetHeight - view.clientHeight; // borders and a sideways scrollbar
    view.style.height = `${(Math.min(rowsShown(), Math.max(n, 1)) + 1) * ROW + frameSize}px`;
    const first = Math.max(0, Math.floor(view.scrollTop / ROW) - BUFFER);
    const last = Math.min(n - 1, Math.ceil((view.scrollTop + view.clientHeight) / ROW) + BUFFER);
    const rows = [pad(first * ROW, columns.length)];
    const selected = model.get("selected");
    for (let i = first; i <= last; i++) {
      const values = cache.get(i);
      const tr = el("tr", values ? "zw-grid-row" : "zw-grid-row zw-grid-loading");
      tr.dataset.row = String(i);
      if (values) {
        tr.dataset.name = values[0];
        if (values[0] === selected) tr.classList.add("zw-selected");
        columns.forEach((c, k) => tr.appendChild(cell(c, values[k + 1])));
      } else {
        columns.forEach((c, k) => tr.appendChild(cell(c, k === 0 ? "…" : "")));
      }
      rows.push(tr);
    }
    rows.push(pad(Math.max(0, n - last - 1) * ROW, columns.length));
    tbody.replaceChildren(...rows);
    if (n > 0) fetchMissing(first, last);
    const top = Math.min(n, Math.floor(view.scrollTop / ROW) + 1);
    const bottom = Math.min(n, Math.floor((view.scrollTop + view.clientHeight) / ROW) - 1);
    range.textContent = n ? `rows ${top.toLocaleString("en")}–${Math.max(top, bottom).toLocaleString("en")} of ${n.toLocaleString("en")}` : "no runs";
    error.textContent = model.get("error");
    error.style.display = model.get("error") ? "" : "none";
  }

  const later = () => { if (!frame) frame = requestAnimationFrame(draw); };

  tbody.addEventListener("click", (event) => {
    const tr = event.target.closest && event.target.closest("tr.zw-grid-row");
    if (!tr || !tr.dataset.name) return;
    for (const other of tbody.querySelectorAll("tr.zw-selected")) other.classList.remove("zw-selected");
    tr.classList.add("zw-selected");
    send({ type: "select", name: tr.dataset.name });
  });
  view.addEventListener("scroll", later);

  function onMessage(message) {
    if (message.type !== "rows" || message.generation !== model.get("generation")) return;
    message.rows.forEach((values, k) => cache.set(message.offset + k, values));
    pending.delete(Math.floor(message.offset / pageSize()));
    later();
  }

  function restart() {
    cache.clear();
    pending.clear();
    view.scrollTop = 0;
    header();
    later();
  }

  const observer = new ResizeObserver(later);
  observer.observe(view);
  model.on("msg:custom", onMessage);
  model.on("change:generation", restart);
  model.on("change:columns", header);
  model.on("change:sort", header);
  model.on("change:descending", header);
  model.on("change:selected", later);
  model.on("change:error", later);
  model.on("change:total", later);
  header();
  draw();
  return () => {
    observer.disconnect();
    model.off("msg:custom", onMessage);
    model.off("change:generation", restart);
    model.off("change:columns", header);
    model.off("change:sort", header);
    model.off("change:descending", header);
    model.off("change:selected", later);
    model.off("change:error", later);
    model.off("change:total", later);
  };
}

export default { render };
