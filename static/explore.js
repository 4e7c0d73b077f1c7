// The explorer: what digitpad's networks are, how they were trained, and what they do with a
// drawing made here. Everything comes from the API (/api/models, /api/models/{name},
// /api/predict, /api/explain, and /api/train/{id}/predict for the network trained in the Train
// panel, train.js); no dependencies, no CDN.
"use strict";

(() => {
  const DEBOUNCE_MS = 150;      // answers while drawing, once the pen has rested this long
  const $ = (id) => document.getElementById(id);
  const pad = drawingPad($("pad"), changed);
  const live = debounced(answer, DEBOUNCE_MS);
  const select = $("model");
  let models = [];
  let version = 0;
  let trained = null;           // the Train panel's network, while it has one

  // ----- small helpers -------------------------------------------------------------------
  function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "text") e.textContent = v;
      else if (k === "className") e.className = v;
      else e.setAttribute(k, v);
    }
    e.append(...children);
    return e;
  }

  function svg(tag, attrs = {}) {
    const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    return e;
  }

  /** A Grid from the API ({shape, low, high, data: base64 bytes}) → Float32Array of values. */
  function values(grid) {
    const bytes = Uint8Array.from(atob(grid.data), (c) => c.charCodeAt(0));
    const out = new Float32Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) out[i] = grid.low + (bytes[i] / 255) * (grid.high - grid.low);
    return out;
  }

  /** Bytes 0–255 as a grey h×w canvas. */
  function greyCanvas(bytes, h, w, offset = 0) {
    const c = el("canvas", { width: w, height: h });
    const g = c.getContext("2d");
    const img = g.createImageData(w, h);
    for (let i = 0; i < h * w; i++) {
      const v = bytes[offset + i];
      img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
      img.data[4 * i + 3] = 255;
    }
    g.putImageData(img, 0, 0);
    return c;
  }

  function gridBytes(grid) {
    return Uint8Array.from(atob(grid.data), (c) => c.charCodeAt(0));
  }

  async function getJSON(url, body) {
    const response = await fetch(url, body === undefined ? {} : {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.detail || `${url} answered ${response.status}`);
    return data;
  }

  // ----- the model's description -----------------------------------------------------------
  const NUMBERS = ["No", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten"];

  /** "Four networks answer": as many as the server serves, in words up to ten. */
  function answering(n) {
    return `${NUMBERS[n] || n} network${n === 1 ? " answers" : "s answer"}`;
  }

  const compact = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });

  /** A model's size and MNIST score, short enough for a panel: "317.3K parameters", "99.6% on MNIST". */
  function facts(m) {
    const lines = [`${compact.format(m.n_params)} parameters`];
    if (m.test_accuracy != null) lines.push(`${(m.test_accuracy * 100).toFixed(1)}% on MNIST`);
    return el("p", { className: "facts" }, ...lines.map((text) => el("span", { text })));
  }

  async function loadModels() {
    models = (await getJSON("/api/models")).models;
    // The option names the model; its description is the line under the menu, where it can wrap.
    select.replaceChildren(...models.map((m) =>
      el("option", { value: m.name, text: m.default ? `${m.name} (default)` : m.name })));
    $("compare-heading").textContent = answering(models.length);
    const wanted = new URLSearchParams(location.search).get("model");
    select.value = models.some((m) => m.name === wanted) ? wanted : models.find((m) => m.default).name;
    await showModel();
  }

  async function showModel() {
    const m = await getJSON(`/api/models/${encodeURIComponent(select.value)}`);
    const acc = m.test_accuracy == null ? "" : `, ${(m.test_accuracy * 100).toFixed(2)}% on MNIST test`;
    $("model-about").textContent = m.description || m.preset;
    $("model-line").textContent = `${m.n_params.toLocaleString()} parameters${acc} (version ${m.version})`;
    showArchitecture(m);
    showCurves(m.history);
    showConfusion(m.test || {});
    showErrors(m.test_errors || []);
    showFilters(m);
    showMaths(m);
    if (!pad.isEmpty()) explain();
  }

  function showArchitecture(m) {
    const rows = m.architecture.map((layer) => el("li", {},
      el("span", { className: "kind", text: layer.type }),
      el("span", { text: layer.output_shape.join(" × ") }),
      el("span", { className: "params", text: layer.parameters ? `${layer.parameters.toLocaleString()} parameters` : "" })));
    rows.unshift(el("li", {}, el("span", { className: "kind", text: "input" }), el("span", { text: "784 pixels (28 × 28)" }),
                    el("span", { className: "params" })));
    rows.push(el("li", { className: "total" }, el("span", { className: "kind", text: "total" }),
                 el("span", { text: `${m.outputs} outputs${m.outputs === 11 ? ": 0–9 and “not a digit”" : ": 0–9"}` }),
                 el("span", { className: "params", text: `${m.n_params.toLocaleString()} parameters` })));
    $("architecture").replaceChildren(...rows);
  }

  function showCurves(history) {
    const box = $("curves");
    if (!history.length) {
      box.replaceChildren(el("p", { className: "muted", text: "No training history in this weights file." }));
      return;
    }
    const W = 420, H = 200, P = 34;
    const series = [
      { key: "loss", label: "training loss", colour: "#d93025", axis: "loss" },
      { key: "val_loss", label: "validation loss", colour: "#f29900", axis: "loss" },
      { key: "train_accuracy", label: "training accuracy", colour: "#1a73e8", axis: "acc" },
      { key: "val_accuracy", label: "validation accuracy", colour: "#188038", axis: "acc" },
    ];
    const maxLoss = Math.max(...history.flatMap((h) => [h.loss, h.val_loss]).filter(Number.isFinite));
    const minAcc = Math.min(...history.flatMap((h) => [h.train_accuracy, h.val_accuracy]).filter(Number.isFinite));
    const x = (i) => P + (i / Math.max(1, history.length - 1)) * (W - 2 * P);
    const y = (v, axis) => axis === "loss" ? H - P - (v / maxLoss) * (H - 2 * P)
      : H - P - ((v - minAcc) / Math.max(1e-9, 1 - minAcc)) * (H - 2 * P);
    const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img",
      "aria-label": `Loss and accuracy over ${history.length} epochs` });
    chart.append(svg("line", { x1: P, y1: H - P, x2: W - P, y2: H - P, stroke: "currentColor", opacity: 0.4 }));
    for (const s of series) {
      const points = history.map((h, i) => [x(i), y(h[s.key], s.axis)]).filter(([, v]) => Number.isFinite(v));
      chart.append(svg("polyline", { points: points.map((p) => p.join(",")).join(" "), fill: "none",
                                     stroke: s.colour, "stroke-width": 2 }));
    }
    const label = (text, px, py, anchor = "start") => {
      const t = svg("text", { x: px, y: py, "font-size": 11, fill: "currentColor", "text-anchor": anchor });
      t.textContent = text;
      chart.append(t);
    };
    label(`loss ${maxLoss.toFixed(2)}`, 2, P - 6);
    label(`accuracy ${(minAcc * 100).toFixed(1)}%–100%`, W - 2, P - 6, "end");
    label("epoch 1", P, H - P + 16);
    label(`epoch ${history.length}`, W - P, H - P + 16, "end");
    const legend = el("div", { className: "legend" }, ...series.map((s) => {
      const sw = el("span", { className: "swatch" });
      sw.style.background = s.colour;
      return el("span", {}, sw, s.label);
    }));
    const last = history[history.length - 1];
    box.replaceChildren(chart, legend, el("p", { className: "muted",
      text: `Last epoch: validation accuracy ${(last.val_accuracy * 100).toFixed(2)}%, loss ${last.val_loss.toFixed(4)}.` }));
  }

  function showConfusion(test) {
    const C = test.confusion_matrix;
    $("confusion-note").hidden = !C;
    if (!C) {
      $("confusion").replaceChildren(el("p", { className: "muted", text: "No test report in this weights file." }));
      return;
    }
    $("confusion").replaceChildren(confusionTable(C, test.per_class_accuracy || [], "confusion-note"));
  }

  /** A 10×10 confusion matrix (rows the truth) as a table, errors tinted red, each row's share right. */
  function confusionTable(C, perClass, describedBy) {
    const max = Math.max(1, ...C.flat().filter((_, i) => i % 11 !== 0));
    const head = el("tr", {}, el("th", { scope: "col", text: "truth ↓ answer →" }),
                    ...C.map((_, d) => el("th", { scope: "col", text: String(d) })), el("th", { scope: "col", text: "right" }));
    const rows = C.map((row, t) => el("tr", {}, el("th", { scope: "row", text: String(t) }), ...row.map((n, p) => {
      const cell = el("td", { text: String(n), className: t === p ? "hit" : "" });
      if (t !== p && n > 0) cell.style.background = `rgba(217, 48, 37, ${(0.15 + 0.6 * Math.log1p(n) / Math.log1p(max)).toFixed(2)})`;
      return cell;
    }), el("td", { text: perClass[t] == null ? "–" : `${(perClass[t] * 100).toFixed(1)}%` })));
    return el("table", { "aria-describedby": describedBy }, el("thead", {}, head), el("tbody", {}, ...rows));
  }

  function showErrors(errors) {
    if (!errors.length) {
      $("errors").replaceChildren(el("p", { className: "muted", text: "None stored (python -m scripts.evaluate --store)." }));
      return;
    }
    $("errors").replaceChildren(...errors.map((e) => {
      const c = greyCanvas(Uint8Array.from(atob(e.image), (ch) => ch.charCodeAt(0)), 28, 28);
      c.setAttribute("role", "img");
      c.setAttribute("aria-label", `MNIST test digit ${e.index}: a ${e.truth} read as ${e.answer}`);
      return el("figure", {}, c, el("figcaption", { text: `${e.truth} → ${e.answer}` }));
    }));
  }

  function showFilters(m) {
    const f = m.first_filters;
    if (!f) {
      $("filters").replaceChildren(el("p", { className: "muted",
        text: "This network has no convolution: its first layer looks at all 784 pixels at once." }));
      return;
    }
    const [n, k] = f.shape;
    const bytes = gridBytes(f);
    const out = [];
    for (let i = 0; i < n; i++) {
      const c = greyCanvas(bytes, k, k, i * k * k);
      c.setAttribute("role", "img");
      c.setAttribute("aria-label", `filter ${i + 1} of ${n}, ${k} by ${k}`);
      out.push(c);
    }
    $("filters").replaceChildren(el("p", { className: "muted",
      text: `${n} kernels of ${k}×${k}: light is a positive weight, dark a negative one. Each slides over the drawing and lights up where the strokes match it.` }), ...out);
  }

  function showMaths(m) {
    const dense = m.architecture.map((l, i) => ({ ...l, i })).filter((l) => l.type === "dense");
    const layers = m.layers.filter((l) => l.type === "dense");
    const items = layers.map((l, j) => {
      const k = j + 1;
      const last = j === layers.length - 1;
      return el("li", {}, el("code", { text: `Z${k} = W${k}·A${k - 1} + b${k}` }),
        ` — W${k} is ${l.n_out}×${l.n_in}, b${k} is ${l.n_out}×1, A${k - 1} is ${l.n_in}×m, so Z${k} is ${l.n_out}×m; `,
        el("code", { text: last ? `A${k} = softmax(Z${k})` : `A${k} = ReLU(Z${k})` }),
        last ? ` gives the ${l.n_out} probabilities.` : ".");
    });
    const L = layers.length;
    const back = layers.length ? [
      el("li", {}, el("code", { text: `dZ${L} = A${L} − Y` }), ` (${layers[L - 1].n_out}×m): the softmax and cross-entropy together;`),
      el("li", {}, el("code", { text: `dW${L} = dZ${L}·A${L - 1}ᵀ / m` }), ` (${layers[L - 1].n_out}×${layers[L - 1].n_in}), `,
         el("code", { text: `db${L} = Σ dZ${L} / m` }), ` (${layers[L - 1].n_out}×1);`),
      ...(L > 1 ? [el("li", {}, el("code", { text: `dZ${L - 1} = W${L}ᵀ·dZ${L} ⊙ g′(Z${L - 1})` }),
                      ` (${layers[L - 2].n_out}×m), g′ being 1 where Z > 0 and 0 elsewhere (ReLU), and so on down;`)] : []),
      el("li", {}, "then every parameter steps against its gradient: ", el("code", { text: "W ← W − α·dW" }),
         (m.training || {}).optimizer === "gd"
           ? ` (this model: plain gradient descent on all the training digits at once, α = ${m.training.lr}).`
           : ` (this model: ${(m.training || {}).optimizer || "Adam"}, which scales each step by running averages of the gradients).`),
    ] : [];
    const note = m.architecture.some((l) => l.type === "conv2d")
      ? ` Before them, ${m.architecture.filter((l) => l.type === "conv2d").length} convolutions and their pooling turn the 28×28 drawing into the ${layers[0].n_in} features the first dense layer reads.`
      : " The input A0 is the drawing itself, 784 pixels a column.";
    $("maths").replaceChildren(
      el("p", { text: `In the classic derivation's notation (examples are columns; m drawings at once). This model, ${m.name}, has ${dense.length} dense layer${dense.length === 1 ? "" : "s"}.${note}` }),
      el("h3", { text: "Forward" }), el("ul", {}, ...items),
      el("h3", { text: "Backward" }), el("ul", {}, ...back),
      el("p", { className: "muted", text: "In the code (model/layers.py) examples are rows, so every product is transposed: Z = A·Wᵀ + bᵀ." }));
  }

  // ----- drawing ----------------------------------------------------------------------------
  $("clear").addEventListener("click", pad.clear);

  /** The drawing changed (the pad has repainted): answer now (stroke ended) or soon (still drawing). */
  function changed(now) {
    version += 1;
    live.cancel();
    if (pad.isEmpty()) {
      $("compare").replaceChildren();
      $("feature-maps").replaceChildren(el("p", { className: "muted", text: "Draw a digit to see each layer's output." }));
      $("saliency").getContext("2d").clearRect(0, 0, 28, 28);
      return;
    }
    if (now) answer();
    else live.later();
  }

  // ----- answers ----------------------------------------------------------------------------
  function answer() {
    compare();
    explain();
  }

  /** Who answers a drawing: every served model, and the network trained in the Train panel if any. */
  function askers() {
    const served = models.map((m) => ({ name: m.name, title: m.description || m.preset, facts: facts(m),
      ask: (image) => getJSON("/api/predict?preview=false", { image, model: m.name }) }));
    if (!trained) return served;
    const { id, label, accuracy } = trained;
    const lines = [label, accuracy == null ? "training" : `${(accuracy * 100).toFixed(1)}% on validation`];
    return [...served, { name: "trained", heading: "your network", title: "The network trained in the Train panel",
      facts: el("p", { className: "facts" }, ...lines.map((text) => el("span", { text }))),
      ask: (image) => getJSON(`/api/train/${encodeURIComponent(id)}/predict`, { image }) }];
  }

  async function compare() {
    const sent = version;
    const body = await pad.exportPNG();
    const who = askers();
    const answers = await Promise.all(who.map((m) => m.ask(body).catch((e) => ({ error: e.message }))));
    if (sent !== version) return;
    $("compare-heading").textContent = answering(who.length);
    $("compare").replaceChildren(...who.map((m, i) => {
      const a = answers[i];
      const name = m.heading || m.name;
      const box = el("div", { className: "model", "data-model": m.name, title: m.title });
      box.append(el("h4", { text: name }), m.facts);
      if (a.error) {
        box.append(el("p", { className: "muted", text: a.error }));
        return box;
      }
      const shown = a.verdict === "not_a_digit" ? "—" : String(a.digit);
      box.append(el("div", { className: "digit", text: shown, "data-testid": `compare-${m.name}` }),
        el("div", { className: "muted", text: a.verdict === "not_a_digit" ? "not a digit" : `${Math.round(a.confidence * 100)}%` }));
      const bars = el("div", { className: "mini-bars", role: "img",
        "aria-label": `${name}: ${a.probabilities.map((p, d) => `${d} ${Math.round(p * 100)}%`).join(", ")}` });
      a.probabilities.forEach((p, d) => {
        const fill = el("span", { className: "fill" });
        fill.style.width = `${(p * 100).toFixed(1)}%`;
        bars.append(el("div", {}, el("span", { text: String(d) }), el("span", { className: "track" }, fill)));
      });
      box.append(bars);
      return box;
    }));
  }

  /** The Train panel has a network to ask ({id, label, accuracy}), or none any more (null). */
  function setTrained(run) {
    trained = run;
    $("compare-heading").textContent = answering(models.length + (run ? 1 : 0));
    if (!pad.isEmpty()) compare();
  }

  async function explain() {
    const sent = version;
    let e;
    try {
      e = await getJSON("/api/explain", { image: await pad.exportPNG(), model: select.value });
    } catch (err) {
      if (sent === version) $("feature-maps").replaceChildren(el("p", { className: "muted", text: err.message }));
      return;
    }
    if (sent !== version) return;
    drawSaliency(e.preview, e.saliency);
    drawLayers(e.layers);
  }

  function drawSaliency(preview, saliency) {
    const g = $("saliency").getContext("2d");
    const img = g.createImageData(28, 28);
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const i = 4 * (28 * y + x);
        const grey = preview[y][x] * 140;
        const s = saliency[y][x];
        const a = Math.min(1, Math.abs(s) * 1.5);
        img.data[i] = Math.round(grey * (1 - a) + (s > 0 ? 255 : 30) * a);
        img.data[i + 1] = Math.round(grey * (1 - a) + (s > 0 ? 60 : 120) * a);
        img.data[i + 2] = Math.round(grey * (1 - a) + (s > 0 ? 40 : 255) * a);
        img.data[i + 3] = 255;
      }
    }
    g.putImageData(img, 0, 0);
  }

  function drawLayers(layers) {
    const shown = layers.filter((l) => l.type !== "conv2d" || !layers.some((o) => o.index === l.index + 1 && o.type === "relu"))
      .filter((l) => !(l.type === "dense" && layers.some((o) => o.index === l.index + 1 && o.type === "relu")));
    $("feature-maps").replaceChildren(...shown.map((l) => {
      const v = l.values;
      const bytes = gridBytes(v);
      const box = el("div", { className: "layer" });
      if (v.shape.length === 3) {
        const [c, h, w] = v.shape;
        box.append(el("p", { text: `layer ${l.index}, ${l.type}: ${c} maps of ${h}×${w}` }));
        const maps = el("div", { className: "maps" });
        const scale = Math.max(1, Math.round(40 / w));
        for (let k = 0; k < c; k++) {
          const canvas = greyCanvas(bytes, h, w, k * h * w);
          canvas.style.width = `${w * scale}px`;
          canvas.style.height = `${h * scale}px`;
          maps.append(canvas);
        }
        box.append(maps);
      } else {
        const n = v.shape[0];
        box.append(el("p", { text: `layer ${l.index}, ${l.type}: ${n} values` }));
        const canvas = greyCanvas(bytes, 1, n);
        canvas.className = "vector";
        box.append(canvas);
      }
      return box;
    }));
  }

  // ----- start ------------------------------------------------------------------------------
  select.addEventListener("change", () => {
    const url = new URL(location.href);
    url.searchParams.set("model", select.value);
    history.replaceState(null, "", url);
    showModel();
  });
  // The Train panel (train.js) builds its pictures with these, and hands its network to the pad.
  window.explorer = { el, confusionTable, setTrained };
  loadModels().catch((e) => { $("model-line").textContent = `Cannot load the models: ${e.message}`; });
})();
