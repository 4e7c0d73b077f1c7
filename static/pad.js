// The drawing pad shared by the drawing page and the explorer: strokes drawn with a round pen on a
// canvas kept at one canvas pixel per device pixel, and exported as the PNG the API reads (black ink
// on a palette with alpha: one byte a pixel, built here).
// A stroke is {points, width, erase}: its [x, y] points in [0, 1] of the pad (so any canvas size
// redraws it), its pen's width as a share of the pad's height, and whether it rubs ink out. The pad
// replays its strokes in order, an eraser's with "destination-out", so undo takes back the last
// action, drawn or erased, and an erased drawing exports as it looks.
//   drawingPad(canvas, changed)  the pad: pointer, painting, resizing, export, tools, undo and clear
//   debounced(run, ms)           run once the calls pause: live answers while a stroke is drawn
"use strict";

(() => {
  // Pen widths, of the pad's height. Normal: a digit filling the pad gets MNIST-thick strokes; the
  // server reads thin and thick pens alike (it fits the ink to 20 px and stretches its grey levels).
  const PENS = { thin: 0.03, normal: 0.07, thick: 0.12 };
  const ERASER = 2;             // the eraser is this many times the pen's width: one pass rubs out a stroke
  const EXPORT_SIZE = 280;      // px: the height of the image sent (small PNG, plenty for a 20 px fit)
  const MEASURE_SIZE = 112;     // px: the height of the picture measured for ink (where it is, if any)
  const INK = 32;               // alpha from which a measured pixel counts as ink (the server's contrast floor)

  /** Paint the strokes on a 2D context of width × height px: a line per stroke, a round dot per tap. */
  function paint(g, strokes, width, height, colour) {
    g.clearRect(0, 0, width, height);
    g.lineCap = "round";
    g.lineJoin = "round";
    g.strokeStyle = colour;
    g.fillStyle = colour;
    for (const { points: s, width: pen, erase } of strokes) {
      g.globalCompositeOperation = erase ? "destination-out" : "source-over";
      g.lineWidth = pen * height;
      g.beginPath();
      if (s.length === 1) {
        g.arc(s[0][0] * width, s[0][1] * height, g.lineWidth / 2, 0, 2 * Math.PI);
        g.fill();
        continue;
      }
      g.moveTo(s[0][0] * width, s[0][1] * height);
      for (let i = 1; i < s.length; i++) g.lineTo(s[i][0] * width, s[i][1] * height);
      g.stroke();
    }
    g.globalCompositeOperation = "source-over";
  }

  // ----- the PNG sent: black ink on a palette, one byte a pixel ----------------------------------
  // The canvas's picture exactly (black, alpha = coverage), in a quarter of the bytes of RGBA that
  // the server would inflate: index i is black with alpha i, rows unfiltered, zlib from the browser.

  const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });

  /** A PNG chunk: length, type, data, CRC-32 of type and data. */
  function chunk(type, data) {
    const out = new Uint8Array(12 + data.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, data.length);
    for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
    out.set(data, 8);
    let crc = 0xffffffff;
    for (let i = 4; i < 8 + data.length; i++) crc = CRC_TABLE[(crc ^ out[i]) & 0xff] ^ (crc >>> 8);
    view.setUint32(8 + data.length, (crc ^ 0xffffffff) >>> 0);
    return out;
  }

  /** A promise of a PNG data URL of the alpha of `image` (ImageData), as black ink on a palette. */
  async function inkPNG(image) {
    const { width, height, data } = image;
    const rows = new Uint8Array(height * (width + 1));   // each row: filter type 0, then its alphas
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) rows[y * (width + 1) + 1 + x] = data[4 * (y * width + x) + 3];
    }
    const zlib = new Uint8Array(await new Response(
      new Blob([rows]).stream().pipeThrough(new CompressionStream("deflate"))).arrayBuffer());
    const header = new Uint8Array(13);
    new DataView(header.buffer).setUint32(0, width);
    new DataView(header.buffer).setUint32(4, height);
    header.set([8, 3, 0, 0, 0], 8);                     // 8 bits, indexed colour, not interlaced
    const levels = Uint8Array.from({ length: 256 }, (_, i) => i);
    const parts = [Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10), chunk("IHDR", header),
      chunk("PLTE", new Uint8Array(3 * 256)), chunk("tRNS", levels), chunk("IDAT", zlib), chunk("IEND", new Uint8Array(0))];
    let text = "";
    for (const part of parts) {
      for (let i = 0; i < part.length; i += 0x8000) text += String.fromCharCode(...part.subarray(i, i + 0x8000));
    }
    return "data:image/png;base64," + btoa(text);
  }

  /** The page's ink colour (light or dark mode). */
  function inkColour() {
    return getComputedStyle(document.documentElement).getPropertyValue("--ink").trim() || "#111";
  }

  /**
   * Strokes from the pointer on `canvas`: one finger, pen or left mouse button at a time, with the
   * browser's coalesced events kept so fast strokes stay smooth; each new stroke takes the tool
   * `tool()` gives ({width, erase}). Calls `changed(false)` as a stroke grows and `changed(true)`
   * when it ends; returns whether a stroke is being drawn.
   */
  function followPointer(canvas, strokes, tool, changed) {
    let current = null;           // the points of the stroke being drawn
    let active = null;            // its pointer's id

    function point(event) {
      const r = canvas.getBoundingClientRect();
      const clamp = (v) => Math.min(1, Math.max(0, v));
      return [clamp((event.clientX - r.left) / r.width), clamp((event.clientY - r.top) / r.height)];
    }

    canvas.addEventListener("pointerdown", (event) => {
      if (active !== null || (event.pointerType === "mouse" && event.button !== 0)) return;
      event.preventDefault();
      active = event.pointerId;
      canvas.setPointerCapture(event.pointerId);
      current = [point(event)];
      strokes.push({ points: current, ...tool() });
      changed(false);
    });

    canvas.addEventListener("pointermove", (event) => {
      if (event.pointerId !== active) return;
      event.preventDefault();
      const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
      for (const e of events.length ? events : [event]) current.push(point(e));
      changed(false);
    });

    function end(event) {
      if (event.pointerId !== active) return;
      active = null;
      current = null;
      changed(true);
    }
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);

    return () => active !== null;
  }

  /**
   * Where the strokes leave ink, painted `height` px high on a pad `aspect` times as wide as high:
   * null if nowhere, else the ink's box [left, top, right, bottom] in pad heights. Measured on a
   * small picture because an eraser can take away any part of what was drawn.
   */
  function inkBox(strokes, aspect, height) {
    if (!strokes.some((s) => !s.erase)) return null;
    const off = document.createElement("canvas");
    [off.width, off.height] = [Math.max(1, Math.round(height * aspect)), height];
    const g = off.getContext("2d", { willReadFrequently: true });
    paint(g, strokes, off.width, off.height, "#000");
    const { data, width } = g.getImageData(0, 0, off.width, off.height);
    let [left, top, right, bottom] = [Infinity, Infinity, -1, -1];
    for (let i = 3, k = 0; i < data.length; i += 4, k++) {
      if (data[i] < INK) continue;
      const x = k % width, y = (k - x) / width;
      left = Math.min(left, x); right = Math.max(right, x);
      top = Math.min(top, y); bottom = Math.max(bottom, y);
    }
    return right < 0 ? null : [left / height, top / height, (right + 1) / height, (bottom + 1) / height];
  }

  /**
   * The drawing pad on `canvas`. After every change to the drawing the pad repaints itself, then
   * calls `changed(now)`: `now` is false while a stroke is being drawn, true once it ends and after
   * an undo or a clear. The canvas follows its box and the device pixel ratio, and the ink follows
   * light and dark mode, keeping the drawing. New strokes take the pen's width (`setPen`: thin,
   * normal or thick) and rub out instead of drawing while the eraser is on (`setEraser`).
   */
  window.drawingPad = (canvas, changed) => {
    const strokes = [];
    const g = canvas.getContext("2d");
    let pen = PENS.normal;
    let erasing = false;
    let measured = null;          // the ink's box, measured once per change: {box} or null
    const drawing = followPointer(canvas, strokes, tool, update);

    function tool() {
      return erasing ? { width: ERASER * pen, erase: true } : { width: pen, erase: false };
    }

    function update(now) {
      measured = null;
      show();
      changed(now);
    }

    function show() {
      paint(g, strokes, canvas.width, canvas.height, inkColour());
    }

    /** Size the canvas to its box in device pixels, and repaint. */
    function fit() {
      const dpr = window.devicePixelRatio || 1;
      const r = canvas.getBoundingClientRect();
      const width = Math.round(r.width * dpr), height = Math.round(r.height * dpr);
      if (width > 0 && height > 0 && (canvas.width !== width || canvas.height !== height)) {
        canvas.width = width;
        canvas.height = height;
      }
      show();
    }

    /** Width / height of the pad's box (1 for a square pad). */
    function aspect() {
      const r = canvas.getBoundingClientRect();
      return r.height > 0 ? r.width / r.height : 1;
    }

    function box() {
      if (measured === null) measured = { box: inkBox(strokes, aspect(), MEASURE_SIZE) };
      return measured.box;
    }

    /** How far the ink reaches, pen included, along its longer side, in pad heights (0: no ink). */
    function span() {
      const b = box();
      return b === null ? 0 : Math.max(b[2] - b[0], b[3] - b[1]);
    }

    /** [width, height] of the exported image: EXPORT_SIZE high, as wide as the pad is. */
    function exportSize() {
      return [Math.round(EXPORT_SIZE * aspect()), EXPORT_SIZE];
    }

    /**
     * The drawing as the API gets it (a promise of a PNG data URL): black ink on transparent, as a
     * palette image of one byte a pixel, its alpha (inkPNG); the canvas's own RGBA PNG where the
     * browser cannot compress a stream.
     */
    async function exportPNG() {
      const off = document.createElement("canvas");
      [off.width, off.height] = exportSize();
      const g = off.getContext("2d", { willReadFrequently: true });
      paint(g, strokes, off.width, off.height, "#000");
      if (typeof CompressionStream === "undefined") return off.toDataURL("image/png");
      return inkPNG(g.getImageData(0, 0, off.width, off.height));
    }

    /** Take the last stroke away, drawn or erased (not while one is being drawn). */
    function undo() {
      if (drawing() || strokes.length === 0) return;
      strokes.pop();
      update(true);
    }

    /** Take every stroke away (not while one is being drawn). */
    function clear() {
      if (drawing()) return;
      strokes.length = 0;
      update(true);
    }

    new ResizeObserver(fit).observe(canvas);
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", show);
    return {
      drawing, span, exportSize, exportPNG, fit, undo, clear,
      /** Whether there is nothing to undo (no stroke, drawn or erased). */
      isEmpty: () => strokes.length === 0,
      /** Whether any ink is left on the pad (an eraser may have taken it all). */
      hasInk: () => box() !== null,
      /** The pen's width for the strokes to come: "thin", "normal" or "thick". */
      setPen: (name) => { pen = PENS[name] || PENS.normal; },
      /** Whether the strokes to come rub ink out. */
      setEraser: (on) => { erasing = Boolean(on); },
    };
  };

  /** `run` once `ms` have passed without another call to `later`; `cancel` drops a pending run. */
  window.debounced = (run, ms) => {
    let timer = 0;
    return {
      later() {
        clearTimeout(timer);
        timer = setTimeout(run, ms);
      },
      cancel() {
        clearTimeout(timer);
      },
    };
  };
})();
