// digitpad's drawing page: strokes in, live predictions out. No dependencies.
// Two modes, kept in the URL (?mode=number) and switched as tabs: one digit on a square pad
// (/api/predict), or a number on a wide pad (/api/read), each of its digits boxed on the pad and
// pickable. A pen of three widths (kept in localStorage) and an eraser (pad.js); an answer is shown
// only for the drawing as it stands, and when the server cannot be reached the page reconnects by
// itself (connection.js) and reads the drawing again. "Right!" and corrections: feedback.js.
// A photo or a scan (the Photo button, or a file dropped on the pad) is uploaded as it is and
// shown in place of the pad with the boxes of what was read over it (photo.js); Clear, or a click
// on the photo, brings the pad back.
"use strict";

(() => {
  const SMALL = 0.16;           // a drawing (pen included) under this share of the pad is too small to read
  const DEBOUNCE_MS = 120;      // live prediction while drawing, once the pen has rested this long
  const TIMEOUT_MS = 10000;
  const PHOTO_TIMEOUT_MS = 60000;  // a phone's full-size photo on a slow uplink
  const PEN_KEY = "digitpad.pen";
  const TAGLINES = {
    digit: "Draw a digit. A neural network written from scratch in numpy reads it.",
    number: "Write a number. A neural network written from scratch in numpy reads it, digit by digit.",
  };

  const $ = (id) => document.getElementById(id);
  const padEl = $("pad");
  const padPanel = $("pad-panel");
  const invite = $("invite");
  const undoButton = $("undo");
  const clearButton = $("clear");
  const eraserButton = $("eraser");
  const penInputs = [...document.querySelectorAll(".pen-width input")];
  const predictionEl = $("prediction");
  const verdict = $("verdict");
  const statusEl = $("status");
  const announce = $("announce");
  const barsEl = $("bars");
  const barsNote = $("bars-note");
  const previewCtx = $("preview").getContext("2d");
  const layout = $("layout");
  const boxesEl = $("boxes");
  const numberEl = $("number-text");
  const digitsEl = $("digits");
  const modeButtons = [...document.querySelectorAll(".modes [data-mode]")];
  const modelInfo = $("model-info");
  const photoBoxes = $("photo-boxes");
  const photoInputs = [$("photo-input"), $("photo-file")];

  let mode = new URLSearchParams(location.search).get("mode") === "number" ? "number" : "digit";
  let reading = null;           // number mode: the last answer of /api/read, and the digit picked in it
  let picked = 0;

  const pad = drawingPad(padEl, changed);
  const live = debounced(request, DEBOUNCE_MS);
  const link = connection($("connection"), readAgain);
  const feedback = feedbackPanel(link);
  let version = 0;              // bumped on every change to the drawing
  let shownVersion = -1;        // version of the drawing the displayed answer belongs to
  let inFlight = false;         // at most one request at a time
  let wanted = false;           // a newer drawing is waiting for its turn
  let photo = null;             // the photo on show instead of the pad: {file, size: [w, h] upright px, or null}
  let choosing = 0;             // bumped on every photo chosen: only the last one chosen is shown
  const photoView = window.photoView($("photo-view"), $("photo"), photoBoxes);

  // ----- bars -------------------------------------------------------------
  const bars = [];
  for (let d = 0; d < 10; d++) {
    const li = document.createElement("li");
    li.dataset.digit = String(d);
    li.dataset.testid = `prob-${d}`;
    li.innerHTML = '<span class="track"><span class="fill"></span></span><span class="pct"></span>';
    barsEl.appendChild(li);
    bars.push({ li, fill: li.querySelector(".fill"), pct: li.querySelector(".pct") });
  }

  /**
   * The probabilities of an answer. Only a read digit is marked as the answer; for "unsure" its
   * candidates are marked as such; for "not a digit" the bars are grey, without percentages, and
   * a note says they are what it would have said, so that no bar claims a digit that was not read.
   */
  function showBars(p) {
    const state = p.verdict === "not_a_digit" ? "none" : p.verdict === "unsure" ? "unsure" : "digit";
    const candidates = new Set([p.digit, ...(p.alternatives || []).map((a) => a.digit)]);
    barsEl.dataset.state = state;
    barsEl.classList.toggle("dimmed", state === "none");
    barsNote.hidden = state !== "none";
    barsNote.textContent = "No digit read. In grey: what it would have picked had it been made to.";
    p.probabilities.forEach((q, d) => {
      const bar = bars[d];
      const pct = Math.round(q * 100);
      bar.fill.style.width = `${(q * 100).toFixed(1)}%`;
      bar.pct.textContent = state === "none" ? "" : `${pct}%`;
      bar.li.classList.toggle("top", state === "digit" && d === p.digit);
      bar.li.classList.toggle("maybe", state === "unsure" && candidates.has(d));
      bar.li.setAttribute("aria-label", state === "none" ? `${d}: not read` : `${d}: ${pct} percent`);
    });
    drawPreview(p.preview);
  }

  function clearBars() {
    barsEl.dataset.state = "empty";
    barsEl.classList.remove("dimmed");
    barsNote.hidden = true;
    for (const bar of bars) {
      bar.fill.style.width = "0";
      bar.pct.textContent = "";
      bar.li.classList.remove("top", "maybe");
      bar.li.setAttribute("aria-label", `${bar.li.dataset.digit}: no prediction`);
    }
  }

  // ----- tools ------------------------------------------------------------
  /** The tools and the invitation follow whether there is a drawing. */
  function showTools() {
    const nothing = pad.isEmpty();
    invite.hidden = pad.hasInk() || photo !== null;
    undoButton.disabled = nothing || photo !== null;
    clearButton.disabled = nothing && photo === null;
  }

  function storedPen() {
    try {
      return localStorage.getItem(PEN_KEY);
    } catch {
      return null;                           // storage refused (private mode, a policy): the default pen
    }
  }

  /** The pen's width for the strokes to come, shown and (`remember`) kept for the next visit. */
  function setPen(name, remember) {
    const input = penInputs.find((i) => i.value === name) || penInputs.find((i) => i.value === "normal");
    input.checked = true;
    pad.setPen(input.value);
    if (!remember) return;
    try {
      localStorage.setItem(PEN_KEY, input.value);
    } catch {
      // not kept: the pen still works for this visit
    }
  }

  function setEraser(on) {
    pad.setEraser(on);
    eraserButton.setAttribute("aria-pressed", String(on));
    padPanel.classList.toggle("erasing", on);
  }

  for (const input of penInputs) {
    input.addEventListener("click", () => {  // the pen on show too: a tap on it puts the eraser down
      setPen(input.value, true);
      setEraser(false);                      // picking a pen means drawing with it
    });
  }
  eraserButton.addEventListener("click", () => setEraser(eraserButton.getAttribute("aria-pressed") !== "true"));
  undoButton.addEventListener("click", pad.undo);
  clearButton.addEventListener("click", clearAll);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      clearAll();
    } else if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "z") {
      event.preventDefault();
      pad.undo();
    }
  });
  if (/Mac|iPhone|iPad/.test(navigator.userAgentData?.platform || navigator.platform || "")) $("undo-key").textContent = "⌘";

  // ----- predictions ------------------------------------------------------
  /** The drawing changed (the pad has repainted): ask for a prediction now (stroke ended) or soon (still drawing). */
  function changed(now) {
    version += 1;
    showTools();
    live.cancel();
    if (!pad.hasInk()) {
      showEmpty();
      return;
    }
    if (link.offline()) {       // read once the server is back (readAgain); meanwhile no old answer
      showUnread();
      if (now) link.tryNow();
      return;
    }
    if (pad.span() < SMALL) {   // a blob once fitted to 20 px: better to ask than to guess
      if (now) showEmpty("Draw a bit bigger: that is too small to read.");
      return;
    }
    if (now) request();
    else live.later();
  }

  /** The server is back: read the drawing if its answer is not on show (a stroke being drawn is read as it goes). */
  function readAgain() {
    if (modelInfo.dataset.loaded !== "true") loadModelInfo();
    if (photo !== null) {
      if (shownVersion !== version) request();
      return;
    }
    if (shownVersion === version || pad.drawing() || !pad.hasInk()) return;
    if (pad.span() < SMALL) showEmpty("Draw a bit bigger: that is too small to read.");
    else request();
  }

  /** The request that reads what is on show: the photo, uploaded as it is, or the drawing as a PNG. */
  async function readingRequest(sent) {
    const path = mode === "number" ? "/api/read" : "/api/predict";
    if (sent === null) {
      return fetch(path, { method: "POST", headers: { "Content-Type": "application/json" },
                           body: JSON.stringify({ image: await pad.exportPNG() }), signal: AbortSignal.timeout(TIMEOUT_MS) });
    }
    const form = new FormData();
    form.append("file", sent.file);
    return fetch(`${path}/file`, { method: "POST", body: form, signal: AbortSignal.timeout(PHOTO_TIMEOUT_MS) });
  }

  async function request() {
    if (inFlight) {            // one request at a time; the newest drawing goes next
      wanted = true;
      return;
    }
    const sent = photo;        // the photo on show, or null: the drawing
    if (sent === null && !pad.hasInk()) return;
    inFlight = true;
    wanted = false;
    const sentVersion = version;
    const sentMode = mode;
    const sentSize = sent === null ? pad.exportSize() : sent.size;
    try {
      const response = await readingRequest(sent);
      const body = await response.json().catch(() => ({}));
      if (response.status === 503) {           // starting, shutting down or busy: ask again shortly
        link.lost("The server is busy or restarting. Trying again…");
        showUnread();
        return;
      }
      link.ok();
      // A stale answer never overwrites a newer one, and once the pen is up only the
      // answer for the drawing as it now stands is shown (not one from before an undo).
      const fresh = sentVersion > shownVersion && (sentVersion === version || pad.drawing()) && sentMode === mode;
      if (!fresh || (photo === null && !pad.hasInk())) return;
      shownVersion = sentVersion;
      if (response.ok) {
        if (mode === "number") showReading(body, sentSize);
        else showPrediction(body, sentSize);
      } else if (sent !== null) {
        showError(body.detail || `The server answered ${response.status}.`);
      } else if (body.code === "empty_image") {
        showEmpty("Keep going: that is too small to read.");
      } else {
        showError(body.detail || `The server answered ${response.status}.`);
      }
    } catch {
      link.lost();
      showUnread();
    } finally {
      inFlight = false;
      if (wanted && !link.offline()) request();
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

  /** The box of a photo's digit, labelled as the answer reads. */
  function showPhotoBox(p, size) {
    if (photo === null || !p.box || size === null) return;
    window.drawBoxes(photoBoxes, [{ box: p.box, label: digitLabel(p) }], size);
    photoBoxes.firstChild.classList.add("picked");
  }

  /** A digit as its box's label says it: "7", "7?" when unsure, "?" when not a digit. */
  function digitLabel(d) {
    return d.verdict === "not_a_digit" ? "?" : d.verdict === "unsure" ? `${d.digit}?` : String(d.digit);
  }

  function showPrediction(p, size) {
    const pct = Math.round(p.confidence * 100);
    const [said, status] = sayVerdict(p, pct);
    predictionEl.textContent = p.verdict === "digit" ? String(p.digit) : p.verdict === "unsure" ? `${p.digit}?` : "";
    predictionEl.classList.toggle("unsure", p.verdict === "unsure");
    verdict.textContent = said;
    setStatus(status);
    showBars(p);
    showPhotoBox(p, size);
    feedback.offer({ key: `digit ${shownVersion}`, preview: p.preview, verdict: p.verdict,
                      predicted: p.verdict === "not_a_digit" ? "not_a_digit" : p.digit, version: p.model.version });
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
    if (photo === null) window.drawBoxes(boxesEl, r.digits, size);
    else if (size !== null) window.drawBoxes(photoBoxes, r.digits.map((d) => ({ box: d.box, label: digitLabel(d) })), size);
    pick(picked);
    if (!pad.drawing()) announce.textContent = said;
  }

  /** Show one digit of the number: its bars and preview, its button and box marked. */
  function pick(i) {
    picked = i;
    [...digitsEl.children].forEach((b, k) => b.setAttribute("aria-pressed", String(k === i)));
    [...(photo === null ? boxesEl : photoBoxes).children].forEach((b, k) => b.classList.toggle("picked", k === i));
    const d = reading.digits[i];
    showBars(d);
    feedback.offer({ key: `number ${shownVersion} ${i}`, preview: d.preview, verdict: d.verdict,
                      predicted: d.verdict === "not_a_digit" ? "not_a_digit" : d.digit, version: reading.model.version });
  }

  /** No answer on show: the prediction, bars, preview, boxes and feedback all cleared. */
  function clearAnswer() {
    reading = null;
    feedback.offer(null);
    predictionEl.textContent = "";
    predictionEl.classList.remove("unsure");
    numberEl.textContent = "";
    digitsEl.replaceChildren();
    boxesEl.replaceChildren();
    photoBoxes.replaceChildren();
    clearBars();
    previewCtx.clearRect(0, 0, 28, 28);
    announce.textContent = "";
  }

  function showEmpty(message) {
    shownVersion = version;
    clearAnswer();
    verdict.textContent = message || "Waiting for your drawing";
    setStatus(message ? "" : mode === "number" ? "Write a number along the pad, its digits side by side." :
      "Draw one digit, 0 to 9, as large as you like.");
  }

  /** The drawing changed and cannot be read now: no answer from before the change stays on show. */
  function showUnread() {
    if (shownVersion === version) return;
    clearAnswer();
    verdict.textContent = "Not read yet";
    setStatus("It will be read as soon as the server answers.");
  }

  /** The server refused this drawing: say why, with no earlier answer beside it. */
  function showError(message) {
    clearAnswer();
    verdict.textContent = "That could not be read.";
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
    try {
      const response = await fetch("/api/model");
      if (response.status === 503) link.lost("The server is busy or restarting. Trying again…");
      if (!response.ok) throw new Error(String(response.status));
      const m = await response.json();
      const acc = m.test_accuracy == null ? "" : ` · ${(m.test_accuracy * 100).toFixed(2)}% on MNIST test`;
      modelInfo.textContent = `Model: ${m.name} (${m.version})${acc}`;
      modelInfo.dataset.loaded = "true";
    } catch (error) {
      modelInfo.textContent = "Model: unavailable";
      if (error instanceof TypeError) link.lost();   // not reached at all (a refused answer is no reason to retry)
    }
  }

  // ----- modes ------------------------------------------------------------
  /** Switch between reading a digit and a number: a new pad shape, so a fresh drawing. */
  function setMode(next, remember) {
    mode = next;
    const number = mode === "number";
    layout.classList.toggle("number", number);
    for (const b of modeButtons) {
      const on = b.dataset.mode === mode;
      b.setAttribute("aria-selected", String(on));
      b.tabIndex = on ? 0 : -1;               // roving tabindex: Tab reaches the selected tab, arrows the other
    }
    padPanel.setAttribute("aria-labelledby", `mode-${mode}`);
    $("tagline").textContent = TAGLINES[mode];
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
    if (photo === null) {
      pad.clear();
      return;
    }
    version += 1;                             // the photo stays, and is read in the new mode
    clearAnswer();
    verdict.textContent = "Reading your photo…";
    setStatus("");
    request();
  }

  function choose(next) {
    if (!pad.drawing() && next !== mode) setMode(next, true);
  }

  for (const b of modeButtons) b.addEventListener("click", () => choose(b.dataset.mode));
  $("modes").addEventListener("keydown", (event) => {
    const at = modeButtons.indexOf(document.activeElement);
    const n = modeButtons.length;
    const to = { ArrowRight: at + 1, ArrowLeft: at - 1 + n, Home: 0, End: n - 1 }[event.key];
    if (at < 0 || to === undefined) return;
    event.preventDefault();
    const tab = modeButtons[to % n];
    tab.focus();
    choose(tab.dataset.mode);                 // tabs follow focus, as a click on them does
  });

  // ----- photos -----------------------------------------------------------
  /** Show a photo in place of the pad and read it (the last one chosen wins). */
  async function choosePhoto(file) {
    if (!file || pad.drawing()) return;
    const token = ++choosing;
    const picture = await photoView.open(file);
    if (token !== choosing || pad.drawing()) {   // another photo chosen since, Clear, or a stroke begun
      picture?.close();
      return;
    }
    if (photo === null) pad.clear();          // what was drawn goes: the photo takes the pad's place
    photo = { file, size: photoView.show(picture) };
    version += 1;
    padPanel.classList.add("photo");
    showTools();
    clearAnswer();
    verdict.textContent = "Reading your photo…";
    setStatus("");
    request();
  }

  /** Back to the pad: the photo and its answer go. */
  function leavePhoto() {
    choosing += 1;                            // a photo still being opened is not shown
    if (photo === null) return;
    photo = null;
    photoView.hide();
    padPanel.classList.remove("photo");
  }

  /** Clear (the button, Esc): the photo or the drawing goes, and the pad is empty. */
  function clearAll() {
    if (pad.drawing()) return;
    leavePhoto();
    pad.clear();
  }

  for (const input of photoInputs) {
    input.addEventListener("change", () => {
      const file = input.files[0];
      input.value = "";                       // the same file chosen again is read again
      choosePhoto(file);
    });
  }
  $("photo-view").addEventListener("click", clearAll);
  window.dropTarget(padPanel, $("drop-hint"), choosePhoto);

  // ----- start ------------------------------------------------------------
  setPen(storedPen(), false);
  setMode(mode, false);
  loadModelInfo();
})();
