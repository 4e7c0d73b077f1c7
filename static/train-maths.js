// One step of the tutorial's equations, with the numbers of the run being trained: the answer of
// GET /api/train/{id}/maths?image=k laid out as the tutorial reads — forward (Z1, A1, Z2, A2),
// backward (Y, dZ2, dW2, db2, dZ1, dW1, db1), the update (W1, b1, W2, b2) — each term with its
// equation, its shape and its numbers: a column as a row of numbers, a 10×10 matrix as a table
// (it scrolls inside its box on a phone), a 10×784 one as ten 28×28 pictures plus its first
// columns. Numbers are tinted red (positive) or blue (negative), as the weight pictures are.
//   trainMaths.render(answer) → the nodes to show
"use strict";

(() => {
  const { el } = window.explorer;
  const views = window.trainViews;
  const GROUPS = [  // [title, terms, open at first]: the update's pictures look like W1's, so it starts closed
    ["Forward: what it answers", ["Z1", "A1", "Z2", "A2"], true],
    ["Backward: how each number should move", ["Y", "dZ2", "dW2", "db2", "dZ1", "dW1", "db1"], true],
    ["The update: every parameter steps against its gradient", ["W1", "b1", "W2", "b2"], false],
  ];
  const WORDS = {  // what each term is, in the tutorial's words
    Z1: "each hidden unit's weighted sum of the 784 pixels",
    A1: "negative sums become 0",
    Z2: "a score for each digit",
    A2: "the scores as probabilities that add up to 1",
    Y: "the right answer, one-hot",
    dZ2: "how far each probability is from the truth (softmax and cross-entropy together)",
    dW2: "each hidden unit's share of that error, per digit",
    db2: "the error itself, one per digit",
    dZ1: "the error sent back through W2, only where the unit was on (ReLU′)",
    dW1: "each pixel's share of a hidden unit's error",
    db1: "one per hidden unit",
    W1: "the first layer's weights after this one step",
    b1: "its biases after it",
    W2: "the second layer's weights after it",
    b2: "its biases after it",
  };

  /** A number short enough for a cell: 0.123, −12.3, 1.2e−5; integers as they are. */
  function fmt(v) {
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v)) return String(v).replace("-", "−");
    const a = Math.abs(v);
    const s = a < 1e-3 || a >= 1e4 ? v.toExponential(1) : v.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : 3);
    return s.replace(/-/g, "−");
  }

  /** A cell tinted by its value against the term's largest magnitude. */
  function tinted(tag, v, scale, attrs = {}) {
    const cell = el(tag, { ...attrs, text: fmt(v) });
    const t = scale ? Math.min(1, Math.abs(v) / scale) : 0;
    if (t > 0) cell.style.backgroundColor = `rgb(var(${v > 0 ? "--w-pos" : "--w-neg"}) / ${(0.3 * t).toFixed(2)})`;
    return cell;
  }

  /** The values as rows of the term's shape (they may come flat or nested). */
  function rows(values, shape) {
    const flat = values.flat(Infinity);
    const n = Math.max(1, shape[0]);
    const w = Math.ceil(flat.length / n);
    return Array.from({ length: n }, (_, i) => flat.slice(i * w, (i + 1) * w));
  }

  /** A column (or row) of numbers: each with its index, digit or unit, as a chip. */
  function vector(t, scale) {
    const flat = t.values.flat(Infinity);
    return el("ol", { className: "vector", start: "0" }, ...flat.map((v, i) =>
      tinted("li", v, scale, { title: `${t.name}[${i}]` })));
  }

  /** A matrix as a table, in a box that scrolls sideways when the page is narrower. */
  function matrix(t, scale, caption) {
    const body = rows(t.values, t.shape).map((r, i) => el("tr", {}, el("th", { scope: "row", text: String(i) }),
      ...r.map((v) => tinted("td", v, scale))));
    const table = el("table", {}, el("tbody", {}, ...body));
    if (t.columns) {  // a few of a 10×784 term's columns: name each pixel by its place in the 28×28 image
      table.prepend(el("thead", {}, el("tr", {}, el("td"), ...t.columns.map((j) =>
        el("th", { scope: "col", title: `pixel ${j}`, text: `(${Math.floor(j / 28)}, ${j % 28})` })))));
    }
    return el("div", { className: "matrix", role: "region", tabindex: "0", "aria-label": caption || `${t.name}, ${t.shape.join(" by ")}` }, table);
  }

  /** A term too large for numbers: one picture per row (28×28), its range, and its first columns. */
  function pictures(t, scale) {
    const [n, m] = t.shape;
    const side = Math.round(Math.sqrt(m));
    const row = el("div", { className: "pictures" }, ...t.pictures.map((b64, i) => {
      const c = views.diverging(views.bytesOf(b64), side, side);
      c.setAttribute("role", "img");
      c.setAttribute("aria-label", `${t.name} row ${i}: its ${m} values as a ${side} by ${side} picture`);
      return c;
    }));
    const some = (t.values || []).flat(Infinity);
    const range = `${n}×${m} numbers, from ${fmt(t.min)} to ${fmt(t.max)}, one picture per row.`;
    const which = t.columns ? "Its values at the pixels where the image has most ink (row, column):" : "Its first columns:";
    if (!some.length) return [row, el("p", { className: "muted", text: range })];
    if (some.every((v) => v === 0)) {  // dW1's first columns are the image's blank corner
      return [row, el("p", { className: "muted", text: `${range} Its first columns are all 0: those pixels are blank.` })];
    }
    return [row, el("p", { className: "muted", text: `${range} ${which}` }), matrix(t, scale, `${t.name}, a few of its columns`)];
  }

  function term(t) {
    const scale = Math.max(Math.abs(t.min ?? 0), Math.abs(t.max ?? 0)) ||
      Math.max(0, ...(t.values || []).flat(Infinity).map(Math.abs));
    const item = el("li", { className: "term", "data-term": t.name },
      el("p", { className: "eq" }, el("code", { text: t.equation }), " ",
        el("span", { className: "shape", text: t.shape.join("×") }), " ",
        el("span", { className: "muted", text: WORDS[t.name] || "" })));
    if (t.pictures) item.append(...pictures(t, scale));
    else if (t.shape.length < 2 || t.shape[0] === 1 || t.shape[1] === 1) item.append(vector(t, scale));
    else item.append(matrix(t, scale));
    return item;
  }

  /** The maths answer → a head (the image, its label, the loss before → after) and the three groups. */
  function render(m) {
    const byName = Object.fromEntries(m.terms.map((t) => [t.name, t]));
    const head = el("div", { className: "maths-head" },
      views.digitCanvas(views.bytesOf(m.pixels), `training image ${m.image}, a ${m.label}`),
      el("p", {}, `Training image ${m.image}, a ${m.label}, as X (784×1, pixels in [0, 1]). One step of gradient descent `,
        `on it alone, with α = ${m.learning_rate}, from the network as it is now; its loss on this image: `,
        el("strong", { "data-testid": "train-maths-loss", text: `${fmt(m.loss_before)} → ${fmt(m.loss_after)}` }), "."));
    const groups = GROUPS.map(([title, names, open]) => {
      const terms = names.filter((n) => byName[n]).map((n) => term(byName[n]));
      const group = el("details", { "data-group": names[0] }, el("summary", { text: title }), el("ol", { className: "terms" }, ...terms));
      group.open = open;
      return terms.length ? [group] : [];
    }).flat();
    const known = new Set(GROUPS.flatMap(([, names]) => names));
    const others = m.terms.filter((t) => !known.has(t.name)).map(term);
    if (others.length) groups.push(el("ol", { className: "terms" }, ...others));
    return [head, ...groups];
  }

  window.trainMaths = { render };
})();
