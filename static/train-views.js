// The Train panel's live pictures, drawn from the run's events (train.js feeds them):
//   curve(points, total)  loss and training/validation accuracy per step, on a canvas kept at one
//                         canvas pixel per device pixel (crisp on any screen), redrawn when it resizes
//                         or the colour scheme changes; its colours are the page's CSS variables
//   weights(event)        the first layer's weights, one small picture per unit, 128 = 0
//   grid(started) / answers(list)   validation digits with the network's current answer on each
//   confusion(C)          the 10×10 matrix on the validation set, once the run has stopped
//   diverging(bytes, …)   bytes around 128 = 0 as blue (negative) to red (positive), shared with
//                         the maths (train-maths.js)
// A canvas, not SVG, for the curve: it is redrawn ten times a second with thousands of points,
// and the weight pictures are pixels anyway.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const { el, confusionTable } = window.explorer;
  const dark = window.matchMedia("(prefers-color-scheme: dark)");
  const SERIES = [  // the legend's order; the colours are CSS variables of the panel (light and dark)
    { key: "loss", label: "loss (left scale)", colour: "--curve-loss" },
    { key: "train_accuracy", label: "training accuracy", colour: "--curve-train" },
    { key: "val_accuracy", label: "validation accuracy", colour: "--curve-val" },
  ];
  let curveData = { points: [], total: 1 };
  let lastWeights = null;
  let frame = 0;

  /** Base64 → bytes. */
  function bytesOf(b64) {
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  }

  /** A CSS variable of the panel: "r g b" → [r, g, b], or a colour string. */
  function cssVar(name, rgb = false) {
    const v = getComputedStyle($("train")).getPropertyValue(name).trim();
    return rgb ? v.split(/\s+/).map(Number) : v;
  }

  // ----- pictures ---------------------------------------------------------------------------------
  /** Bytes (128 = 0) into an h×w canvas: the background colour at 0, deeper red above, blue below. */
  function diverging(bytes, h, w, offset = 0, canvas = el("canvas", { width: w, height: h })) {
    const zero = cssVar("--w-zero", true), pos = cssVar("--w-pos", true), neg = cssVar("--w-neg", true);
    const g = canvas.getContext("2d");
    const img = g.createImageData(w, h);
    for (let i = 0; i < h * w; i++) {
      const v = Math.max(-1, Math.min(1, (bytes[offset + i] - 128) / 127));
      const to = v >= 0 ? pos : neg;
      const t = Math.abs(v);
      for (let c = 0; c < 3; c++) img.data[4 * i + c] = Math.round(zero[c] + (to[c] - zero[c]) * t);
      img.data[4 * i + 3] = 255;
    }
    g.putImageData(img, 0, 0);
    return canvas;
  }

  /** Bytes 0–255 as a grey 28×28 canvas (a digit as MNIST stores it: white ink on black). */
  function digitCanvas(bytes, label) {
    const c = el("canvas", { width: 28, height: 28, role: "img", "aria-label": label });
    const g = c.getContext("2d");
    const img = g.createImageData(28, 28);
    for (let i = 0; i < 784; i++) {
      img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = bytes[i];
      img.data[4 * i + 3] = 255;
    }
    g.putImageData(img, 0, 0);
    return c;
  }

  /** The weights event {step, shape: [h, w], units: [base64]}: the pictures, redrawn in place. */
  function weights(event) {
    lastWeights = event;
    const box = $("train-weights");
    const [h, w] = event.shape;
    let canvases = [...box.querySelectorAll("canvas")];
    if (canvases.length !== event.units.length || canvases[0].width !== w || canvases[0].height !== h) {
      const what = h === 28 ? "hidden unit" : "filter";
      canvases = event.units.map((_, i) => el("canvas", { width: w, height: h, role: "img",
        "aria-label": `${what} ${i + 1}: its ${h * w} weights as a ${h} by ${w} picture` }));
      box.className = `train-weights ${h === 28 ? "units" : "kernels"}`;
      const n = event.units.length;
      $("train-weights-what").textContent = h !== 28 ? `One picture per ${h}×${w} filter of the first convolution`
        : n === 10 ? "One picture per hidden unit (all ten)" : `One picture per hidden unit (the first ${n})`;
      box.replaceChildren(...canvases);
    }
    event.units.forEach((u, i) => diverging(bytesOf(u), h, w, 0, canvases[i]));
    box.dataset.step = String(event.step);
  }

  // ----- the validation digits ---------------------------------------------------------------------
  /** The started event's grid {images, labels}: each digit with a caption for its answer. */
  function grid(g) {
    $("train-grid").replaceChildren(...g.images.map((b64, i) => el("figure", { "data-label": String(g.labels[i]) },
      digitCanvas(bytesOf(b64), `validation digit ${i + 1}: a ${g.labels[i]}`),
      el("figcaption", { text: "?" }))));
  }

  /** The network's answer on each grid digit: right ones ticked, wrong ones crossed and outlined. */
  function answers(list) {
    const figures = $("train-grid").querySelectorAll("figure");
    list.forEach((a, i) => {
      const f = figures[i];
      if (!f) return;
      const right = String(a) === f.dataset.label;
      f.classList.toggle("wrong", !right);
      f.classList.toggle("right", right);
      f.querySelector("figcaption").replaceChildren(el("span", { "aria-hidden": "true", text: right ? "✓ " : "✗ " }),
        String(a), el("span", { className: "visually-hidden", text: right ? ", right" : `, wrong (it is a ${f.dataset.label})` }));
    });
    const wrong = list.filter((a, i) => figures[i] && String(a) !== figures[i].dataset.label).length;
    $("train-grid").dataset.wrong = String(wrong);
  }

  // ----- the curve ---------------------------------------------------------------------------------
  /** Loss and accuracies so far, over the run's planned steps; drawn at the next frame. */
  function curve(points, total) {
    curveData = { points, total: Math.max(1, total) };
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; drawCurve(); });
  }

  /** A round top for the loss scale: 1, 2 or 5 × a power of ten. */
  function niceMax(v) {
    if (!(v > 0) || !Number.isFinite(v)) return 1;
    const p = 10 ** Math.floor(Math.log10(v));
    return [1, 2, 5, 10].map((k) => k * p).find((m) => m >= v);
  }

  function drawCurve() {
    const canvas = $("train-curve");
    const { points, total } = curveData;
    const dpr = window.devicePixelRatio || 1;
    const W = canvas.clientWidth, H = canvas.clientHeight;
    if (!W || !H) return;
    canvas.width = Math.round(W * dpr);
    canvas.height = Math.round(H * dpr);
    const g = canvas.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, W, H);
    const L = 44, R = 44, T = 10, B = 24;
    const losses = points.map((p) => p.loss).filter(Number.isFinite);
    const top = niceMax(Math.max(0, ...losses));
    const x = (step) => L + (step / total) * (W - L - R);
    const yLoss = (v) => T + (1 - v / top) * (H - T - B);
    const yAcc = (v) => T + (1 - v) * (H - T - B);
    axes(g, { W, H, L, R, T, B, top, total, yAcc });
    for (const s of SERIES) {
      const y = s.key === "loss" ? yLoss : yAcc;
      const xy = points.filter((p) => Number.isFinite(p[s.key])).map((p) => [x(p.step), y(p[s.key])]);
      g.strokeStyle = g.fillStyle = cssVar(s.colour);
      g.lineWidth = 2;
      g.lineJoin = "round";
      if (xy.length === 1) {
        g.beginPath();
        g.arc(xy[0][0], xy[0][1], 2.5, 0, 2 * Math.PI);
        g.fill();
      } else if (xy.length > 1) {
        g.beginPath();
        xy.forEach(([px, py], i) => (i ? g.lineTo(px, py) : g.moveTo(px, py)));
        g.stroke();
      }
    }
    canvas.dataset.points = String(points.length);
    const last = points[points.length - 1];
    const says = (v, text) => (Number.isFinite(v) ? text(v) : "not a number");
    canvas.setAttribute("aria-label", last
      ? `Loss and accuracy over ${last.step} of ${total} steps: loss ${says(last.loss, (v) => v.toPrecision(3))}, ` +
        `validation accuracy ${says(last.val_accuracy, (v) => `${(v * 100).toFixed(1)} %`)}`
      : "Loss and accuracy per step: no step yet");
  }

  /** Frame, grid lines at 0, 50 and 100 %, the loss scale left, the accuracy scale right, the steps below. */
  function axes(g, { W, H, L, R, T, B, top, total, yAcc }) {
    g.font = "11px system-ui, sans-serif";
    g.lineWidth = 1;
    g.strokeStyle = cssVar("--line");
    g.fillStyle = cssVar("--muted");
    for (const v of [0, 0.5, 1]) {
      const y = Math.round(yAcc(v)) + 0.5;
      g.beginPath();
      g.moveTo(L, y);
      g.lineTo(W - R, y);
      g.stroke();
      g.textAlign = "right";
      g.textBaseline = "middle";
      g.fillText(shortNumber(top * v), L - 6, y);
      g.textAlign = "left";
      g.fillText(`${v * 100} %`, W - R + 6, y);
    }
    g.textBaseline = "top";
    g.textAlign = "left";
    g.fillText("step 0", L, H - B + 6);
    g.textAlign = "right";
    g.fillText(`${total}`, W - R, H - B + 6);
    g.beginPath();
    g.moveTo(L + 0.5, T);
    g.lineTo(L + 0.5, H - B);
    g.stroke();
  }

  function shortNumber(v) {
    if (v === 0) return "0";
    if (v >= 1e4 || v < 0.01) return v.toExponential(0);
    return String(Number(v.toPrecision(2)));
  }

  // ----- the end, and a fresh start ------------------------------------------------------------------
  /** The validation set's confusion matrix (rows the truth), each row's share right beside it. */
  function confusion(C) {
    const perClass = C.map((row, t) => { const n = row.reduce((a, b) => a + b, 0); return n ? row[t] / n : null; });
    $("train-confusion").replaceChildren(confusionTable(C, perClass, "train-confusion-note"));
    $("train-end").hidden = false;
  }

  /** Empty pictures for a new run (or none). */
  function clear() {
    lastWeights = null;
    $("train-weights").replaceChildren();
    delete $("train-weights").dataset.step;
    $("train-grid").replaceChildren();
    $("train-confusion").replaceChildren();
    $("train-end").hidden = true;
    curve([], 1);
  }

  /** The legend under the curve: a swatch in each series' colour. */
  function legend() {
    $("train-legend").replaceChildren(...SERIES.map((s) =>
      el("span", {}, el("span", { className: `swatch ${s.key}` }), s.label)));
  }

  legend();
  new ResizeObserver(() => curve(curveData.points, curveData.total)).observe($("train-curve"));
  dark.addEventListener("change", () => {
    curve(curveData.points, curveData.total);
    if (lastWeights) weights(lastWeights);
  });
  window.trainViews = { curve, weights, grid, answers, confusion, clear, diverging, digitCanvas, bytesOf };
})();
