// digitpad's drawing page: strokes in, live predictions out. No dependencies.
// Two modes, kept in the URL (?mode=number): one digit on a square pad (/api/predict), or a
// number on a wide pad (/api/read), each of its digits boxed on the pad and pickable.
"use strict";

(() => {
  const SMALL = 0.16;           // a drawing (pen included) under this share of the pad is too small to read
  const DEBOUNCE_MS = 120;      // live prediction while drawing, once the pen has rested this long
  const TIMEOUT_MS = 10000;

  const padEl = document.getElementById("pad");
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
  const layout = document.getElementById("layout");
  const boxesEl = document.getElementById("boxes");
  const numberEl = document.getElementById("number-text");
  const digitsEl = document.getElementById("digits");
  const modeButtons = [...document.querySelectorAll(".modes [data-mode]")];

  let mode = new URLSearchParams(location.search).get("mode") === "number" ? "number" : "digit";
  let reading = null;           // number mode: the last answer of /api/read, and the digit picked in it
  let picked = 0;
  let answered = null;          // the answer on show, which a correction is about: {preview, predicted, version}
  const correctEl = document.getElementById("correct");
  const correctButtons = document.getElementById("correct-buttons");
  const feedbackStatus = document.getElementById("feedback-status");

  const pad = drawingPad(padEl, changed);
  const live = debounced(request, DEBOUNCE_MS);
  let version = 0;              // bumped on every change to the drawing
  let shownVersion = -1;        // version of the drawing the displayed answer belongs to
  let inFlight = false;         // at most one request at a time
  let wanted = false;           // a newer drawing is waiting for its turn

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

  // ----- corrections ------------------------------------------------------
  for (const label of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, "not_a_digit"]) {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.testid = label === "not_a_digit" ? "correct-none" : `correct-${label}`;
    b.textContent = label === "not_a_digit" ? "not a digit" : String(label);
    b.title = label === "not_a_digit" ? "It is not a digit at all" : `It is ${aDigit(label)}`;
    b.addEventListener("click", () => sendCorrection(label));
    correctButtons.appendChild(b);
  }

  /** Offer corrections for this answer (or none, with null). */
  function offerCorrection(answer) {
    answered = answer;
    correctEl.hidden = answer === null;
    feedbackStatus.textContent = "";
    feedbackStatus.classList.remove("error");
    for (const b of correctButtons.children) b.disabled = false;
  }

  /** One tap: the 28×28 input the network saw, the right label, what the model had said. */
  async function sendCorrection(label) {
    if (answered === null) return;
    const about = answered;
    for (const b of correctButtons.children) b.disabled = true;
    feedbackStatus.classList.remove("error");
    feedbackStatus.textContent = "Sending…";
    try {
      const response = await fetch("/api/feedback", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ pixels: about.preview, label, predicted: about.predicted, model_version: about.version }),
      });
      const body = await response.json().catch(() => ({}));
      if (answered !== about) return;          // the drawing changed meanwhile: say nothing about the old one
      if (response.ok) {
        feedbackStatus.textContent = "Thanks — saved.";
      } else {
        feedbackStatus.textContent = body.detail || `Not saved: the server answered ${response.status}.`;
        feedbackStatus.classList.add("error");
        for (const b of correctButtons.children) b.disabled = false;
      }
    } catch {
      if (answered !== about) return;
      feedbackStatus.textContent = "Not saved: cannot reach the digitpad server.";
      feedbackStatus.classList.add("error");
      for (const b of correctButtons.children) b.disabled = false;
    }
  }

  // ----- drawing ----------------------------------------------------------
  /** The tools and the invitation follow whether there is a drawing. */
  function showTools() {
    const empty = pad.isEmpty();
    invite.hidden = !empty;
    undoButton.disabled = empty;
    clearButton.disabled = empty;
  }

  undoButton.addEventListener("click", pad.undo);
  clearButton.addEventListener("click", pad.clear);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      pad.clear();
    } else if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "z") {
      event.preventDefault();
      pad.undo();
    }
  });

  // ----- predictions ------------------------------------------------------
  /** The drawing changed (the pad has repainted): ask for a prediction now (stroke ended) or soon (still drawing). */
  function changed(now) {
    version += 1;
    showTools();
    live.cancel();
    if (pad.isEmpty()) {
      showEmpty();
      return;
    }
    if (pad.span() < SMALL) {   // a blob once fitted to 20 px: better to ask than to guess
      if (now) showEmpty("Draw a bit bigger: that is too small to read.");
      return;
    }
    if (now) request();
    else live.later();
  }

  async function request() {
    if (inFlight) {            // one request at a time; the newest drawing goes next
      wanted = true;
      return;
    }
    if (pad.isEmpty()) return;
    inFlight = true;
    wanted = false;
    const sent = version;
    const sentMode = mode;
    const sentSize = pad.exportSize();
    const abort = new AbortController();
    const timeout = setTimeout(() => abort.abort(), TIMEOUT_MS);
    try {
      const response = await fetch(mode === "number" ? "/api/read" : "/api/predict", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ image: await pad.exportPNG() }),
        signal: abort.signal,
      });
      const body = await response.json().catch(() => ({}));
      // A stale answer never overwrites a newer one, and once the pen is up only the
      // answer for the drawing as it now stands is shown (not one from before an undo).
      const fresh = sent > shownVersion && (sent === version || pad.drawing()) && sentMode === mode;
      if (fresh && !pad.isEmpty()) {
        if (response.ok) {
          shownVersion = sent;
          if (mode === "number") showReading(body, sentSize);
          else showPrediction(body);
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
    const pct = Math.round(p.confidence * 100);
    const [said, status] = sayVerdict(p, pct);
    predictionEl.textContent = p.verdict === "not_a_digit" ? "" : String(p.digit);
    verdict.textContent = said;
    setStatus(status);
    showBars(p);
    offerCorrection({ preview: p.preview, predicted: p.verdict === "not_a_digit" ? "not_a_digit" : p.digit,
                      version: p.model.version });
    if (!pad.drawing()) announce.textContent = said;
  }

  /** Number mode: "That's 2026", a button per digit, a faint box per digit over the pad. */
  function showReading(r, size) {
    reading = r;
    picked = Math.min(picked, r.digits.length - 1);
    numberEl.textContent = r.text;
    const unread = r.digits.filter((d) => d.verdict === "not_a_digit").length;
    const said = unread === 0 ? `That's ${r.text}` :
      unread === r.digits.length ? "That doesn't look like a number." :
      `That's ${r.text}: ${unread === 1 ? "a piece doesn't" : `${unread} pieces don't`} look like digits.`;
    verdict.textContent = said;
    setStatus(`${r.digits.length} ${r.digits.length === 1 ? "digit" : "digits"}: pick one to see how sure the network is.`);
    digitsEl.replaceChildren(...r.digits.map((d, i) => {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.testid = `digit-${i}`;
      b.textContent = d.verdict === "not_a_digit" ? "?" : String(d.digit);
      b.setAttribute("aria-label", `digit ${i + 1}: ${b.textContent}`);
      b.addEventListener("click", () => pick(i));
      return b;
    }));
    const [w, h] = size;
    boxesEl.replaceChildren(...r.digits.map(({ box: [x, y, bw, bh] }) => {
      const el = document.createElement("div");
      el.className = "box";
      Object.assign(el.style, { left: `${(100 * x) / w}%`, top: `${(100 * y) / h}%`,
                                width: `${(100 * bw) / w}%`, height: `${(100 * bh) / h}%` });
      return el;
    }));
    pick(picked);
    if (!pad.drawing()) announce.textContent = said;
  }

  /** Show one digit of the number: its bars and preview, its button and box marked. */
  function pick(i) {
    picked = i;
    [...digitsEl.children].forEach((b, k) => b.setAttribute("aria-pressed", String(k === i)));
    [...boxesEl.children].forEach((b, k) => b.classList.toggle("picked", k === i));
    const d = reading.digits[i];
    showBars(d);
    offerCorrection({ preview: d.preview, predicted: d.verdict === "not_a_digit" ? "not_a_digit" : d.digit,
                      version: reading.model.version });
  }

  function showBars(p) {
    const rejected = p.verdict === "not_a_digit";
    barsEl.classList.toggle("dimmed", rejected);
    p.probabilities.forEach((q, d) => {
      const bar = bars[d];
      bar.fill.style.width = `${(q * 100).toFixed(1)}%`;
      bar.pct.textContent = `${Math.round(q * 100)}%`;
      bar.li.classList.toggle("top", d === p.digit && !rejected);
      bar.li.setAttribute("aria-label", `${d}: ${Math.round(q * 100)} percent`);
    });
    drawPreview(p.preview);
  }

  function showEmpty(message) {
    shownVersion = version;
    reading = null;
    offerCorrection(null);
    predictionEl.textContent = "";
    numberEl.textContent = "";
    digitsEl.replaceChildren();
    boxesEl.replaceChildren();
    barsEl.classList.remove("dimmed");
    verdict.textContent = message || "Waiting for your drawing";
    setStatus(message ? "" : mode === "number" ? "Write a number along the pad, its digits side by side." :
      "Draw one digit, 0 to 9, as large as you like.");
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

  // ----- modes ------------------------------------------------------------
  /** Switch between reading a digit and a number: a new pad shape, so a fresh drawing. */
  function setMode(next, remember) {
    mode = next;
    const number = mode === "number";
    layout.classList.toggle("number", number);
    for (const b of modeButtons) b.setAttribute("aria-checked", String(b.dataset.mode === mode));
    predictionEl.hidden = number;
    numberEl.hidden = !number;
    digitsEl.hidden = !number;
    invite.textContent = number ? "Write a number here" : "Draw a digit here";
    padEl.setAttribute("aria-label", number ? "Drawing area: write a number, its digits side by side" :
      "Drawing area: draw one digit, 0 to 9");
    document.title = number ? "digitpad — write a number" : "digitpad — draw a digit";
    if (remember) {
      const url = new URL(location.href);
      if (number) url.searchParams.set("mode", "number");
      else url.searchParams.delete("mode");
      history.replaceState(null, "", url);
    }
    picked = 0;
    pad.fit();
    pad.clear();
  }

  for (const b of modeButtons) {
    b.addEventListener("click", () => { if (!pad.drawing() && b.dataset.mode !== mode) setMode(b.dataset.mode, true); });
  }

  // ----- start ------------------------------------------------------------
  setMode(mode, false);
  loadModelInfo();
})();
