// digitpad's drawing page: strokes in, live predictions out. No dependencies.
"use strict";

(() => {
  const EXPORT_SIZE = 280;      // px: the image sent to the server (small PNG, plenty for a 20 px fit)
  const PEN = 0.07;             // pen width as a fraction of the canvas side (MNIST strokes are ~10% of a digit)
  const SMALL = 0.16;           // a drawing (pen included) under this share of the pad is too small to read
  const DEBOUNCE_MS = 120;      // live prediction while drawing, at most this often
  const TIMEOUT_MS = 10000;

  const pad = document.getElementById("pad");
  const ctx = pad.getContext("2d");
  const invite = document.getElementById("invite");
  const undoButton = document.getElementById("undo");
  const clearButton = document.getElementById("clear");
  const predictionEl = document.getElementById("prediction");
  const verdict = document.getElementById("verdict");
  const statusEl = document.getElementById("status");
  const announce = document.getElementById("announce");
  const barsEl = document.getElementById("bars");
  const preview = document.getElementById("preview");
  const previewCtx = preview.getContext("2d");

  /** Strokes as lists of points in [0, 1] × [0, 1], so any canvas size redraws them. */
  const strokes = [];
  let current = null;           // the stroke being drawn
  let activePointer = null;     // one finger or pen at a time
  let version = 0;              // bumped on every change to the drawing
  let shownVersion = -1;        // version of the drawing the displayed answer belongs to
  let inFlight = false;         // at most one request at a time
  let wanted = false;           // a newer drawing is waiting for its turn
  let timer = 0;

  // ----- bars -------------------------------------------------------------
  const bars = [];
  for (let d = 0; d < 10; d++) {
    const li = document.createElement("li");
    li.dataset.digit = String(d);
    li.dataset.testid = `prob-${d}`;
    li.innerHTML = '<span class="track"><span class="fill"></span></span><span class="pct">0%</span>';
    barsEl.appendChild(li);
    bars.push({ li, fill: li.querySelector(".fill"), pct: li.querySelector(".pct") });
  }

  // ----- drawing ----------------------------------------------------------
  function inkColour() {
    return getComputedStyle(document.documentElement).getPropertyValue("--ink").trim() || "#111";
  }

  function resize() {
    const dpr = window.devicePixelRatio || 1;
    const side = Math.round(pad.getBoundingClientRect().width * dpr);
    if (side > 0 && (pad.width !== side || pad.height !== side)) {
      pad.width = side;
      pad.height = side;
    }
    redraw();
  }

  function paint(target, size, colour) {
    target.clearRect(0, 0, size, size);
    target.lineCap = "round";
    target.lineJoin = "round";
    target.strokeStyle = colour;
    target.fillStyle = colour;
    target.lineWidth = PEN * size;
    for (const s of strokes) {
      if (s.length === 1) {           // a tap is a round dot
        target.beginPath();
        target.arc(s[0][0] * size, s[0][1] * size, target.lineWidth / 2, 0, 2 * Math.PI);
        target.fill();
        continue;
      }
      target.beginPath();
      target.moveTo(s[0][0] * size, s[0][1] * size);
      for (let i = 1; i < s.length; i++) target.lineTo(s[i][0] * size, s[i][1] * size);
      target.stroke();
    }
  }

  function redraw() {
    paint(ctx, pad.width, inkColour());
    const empty = strokes.length === 0;
    invite.hidden = !empty;
    undoButton.disabled = empty;
    clearButton.disabled = empty;
  }

  function point(event) {
    const r = pad.getBoundingClientRect();
    const clamp = (v) => Math.min(1, Math.max(0, v));
    return [clamp((event.clientX - r.left) / r.width), clamp((event.clientY - r.top) / r.height)];
  }

  pad.addEventListener("pointerdown", (event) => {
    if (activePointer !== null || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    activePointer = event.pointerId;
    pad.setPointerCapture(event.pointerId);
    current = [point(event)];
    strokes.push(current);
    changed(false);
  });

  pad.addEventListener("pointermove", (event) => {
    if (event.pointerId !== activePointer) return;
    event.preventDefault();
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    for (const e of events.length ? events : [event]) current.push(point(e));
    changed(false);
  });

  function endStroke(event) {
    if (event.pointerId !== activePointer) return;
    activePointer = null;
    current = null;
    changed(true);
  }
  pad.addEventListener("pointerup", endStroke);
  pad.addEventListener("pointercancel", endStroke);

  function undo() {
    if (activePointer !== null || strokes.length === 0) return;
    strokes.pop();
    changed(true);
  }

  function clear() {
    if (activePointer !== null) return;
    strokes.length = 0;
    changed(true);
  }

  undoButton.addEventListener("click", undo);
  clearButton.addEventListener("click", clear);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      clear();
    } else if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "z") {
      event.preventDefault();
      undo();
    }
  });

  // ----- predictions ------------------------------------------------------
  /** The drawing changed: redraw, then ask for a prediction now (stroke ended) or soon (still drawing). */
  function changed(now) {
    version += 1;
    redraw();
    clearTimeout(timer);
    if (strokes.length === 0) {
      showEmpty();
      return;
    }
    if (tooSmall()) {         // a blob once fitted to 20 px: better to ask than to guess
      if (now) showEmpty("Draw a bit bigger: that is too small to read.");
      return;
    }
    if (now) request();
    else timer = setTimeout(request, DEBOUNCE_MS);
  }

  /** Whether the drawing, pen included, spans less than SMALL of the pad both ways. */
  function tooSmall() {
    const xs = strokes.flat().map((p) => p[0]);
    const ys = strokes.flat().map((p) => p[1]);
    const span = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)) + PEN;
    return span < SMALL;
  }

  function exportImage() {
    const off = document.createElement("canvas");
    off.width = EXPORT_SIZE;
    off.height = EXPORT_SIZE;
    paint(off.getContext("2d"), EXPORT_SIZE, "#000");   // black ink on transparent, like any canvas
    return off.toDataURL("image/png");
  }

  async function request() {
    if (inFlight) {            // one request at a time; the newest drawing goes next
      wanted = true;
      return;
    }
    if (strokes.length === 0) return;
    inFlight = true;
    wanted = false;
    const sent = version;
    const abort = new AbortController();
    const timeout = setTimeout(() => abort.abort(), TIMEOUT_MS);
    try {
      const response = await fetch("/api/predict", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ image: exportImage() }),
        signal: abort.signal,
      });
      const body = await response.json().catch(() => ({}));
      // A stale answer never overwrites a newer one, and once the pen is up only the
      // answer for the drawing as it now stands is shown (not one from before an undo).
      const fresh = sent > shownVersion && (sent === version || activePointer !== null);
      if (fresh && strokes.length > 0) {
        if (response.ok) {
          shownVersion = sent;
          showPrediction(body);
        } else if (body.code === "empty_image") {
          shownVersion = sent;
          showEmpty("Keep going: that is too small to read.");
        } else {
          showError(body.detail || `The server answered ${response.status}.`);
        }
      }
    } catch (error) {
      showError("Cannot reach the digitpad server. Is it still running?");
    } finally {
      clearTimeout(timeout);
      inFlight = false;
      if (wanted) request();
    }
  }

  /** "a 7", "an 8". */
  function aDigit(d) {
    return `${d === 8 ? "an" : "a"} ${d}`;
  }

  /** What to say, honestly: a digit, "not sure: a 1 or a 7?", or not a digit at all. */
  function sayVerdict(p, pct) {
    if (p.verdict === "not_a_digit") {
      return ["That doesn't look like a digit.", "Draw one digit, 0 to 9."];
    }
    if (p.verdict === "unsure") {
      const names = (p.alternatives || []).map((a) => aDigit(a.digit));
      const choice = names.length > 1 ? `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}` : aDigit(p.digit);
      return [`Not sure: ${choice}?`, `${pct}% for ${p.digit}`];
    }
    return [`That's ${aDigit(p.digit)}.`, `${pct}% sure`];
  }

  function showPrediction(p) {
    const rejected = p.verdict === "not_a_digit";
    predictionEl.textContent = rejected ? "" : String(p.digit);
    const pct = Math.round(p.confidence * 100);
    const [said, status] = sayVerdict(p, pct);
    verdict.textContent = said;
    setStatus(status);
    barsEl.classList.toggle("dimmed", rejected);
    p.probabilities.forEach((q, d) => {
      const bar = bars[d];
      bar.fill.style.width = `${(q * 100).toFixed(1)}%`;
      bar.pct.textContent = `${Math.round(q * 100)}%`;
      bar.li.classList.toggle("top", d === p.digit && !rejected);
      bar.li.setAttribute("aria-label", `${d}: ${Math.round(q * 100)} percent`);
    });
    drawPreview(p.preview);
    if (activePointer === null) announce.textContent = said;
  }

  function showEmpty(message) {
    shownVersion = version;
    predictionEl.textContent = "";
    barsEl.classList.remove("dimmed");
    verdict.textContent = message || "Waiting for your drawing";
    setStatus(message ? "" : "Draw one digit, 0 to 9, as large as you like.");
    for (const bar of bars) {
      bar.fill.style.width = "0";
      bar.pct.textContent = "0%";
      bar.li.classList.remove("top");
      bar.li.setAttribute("aria-label", `${bar.li.dataset.digit}: no prediction`);
    }
    previewCtx.clearRect(0, 0, 28, 28);
    announce.textContent = "";
  }

  function showError(message) {
    setStatus(message, true);
  }

  function setStatus(text, error = false) {
    statusEl.textContent = text;
    statusEl.classList.toggle("error", error);
  }

  function drawPreview(rows) {
    const image = previewCtx.createImageData(28, 28);
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const v = Math.round(rows[y][x] * 255);
        const i = 4 * (28 * y + x);
        image.data[i] = image.data[i + 1] = image.data[i + 2] = v;
        image.data[i + 3] = 255;
      }
    }
    previewCtx.putImageData(image, 0, 0);
  }

  async function loadModelInfo() {
    const el = document.getElementById("model-info");
    try {
      const response = await fetch("/api/model");
      if (!response.ok) throw new Error(String(response.status));
      const m = await response.json();
      const acc = m.test_accuracy == null ? "" : ` · ${(m.test_accuracy * 100).toFixed(2)}% on MNIST test`;
      el.textContent = `Model: ${m.name} (${m.version})${acc}`;
    } catch {
      el.textContent = "Model: unavailable";
    }
  }

  // ----- start ------------------------------------------------------------
  new ResizeObserver(resize).observe(pad);
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", redraw);
  resize();
  showEmpty();
  loadModelInfo();
})();
