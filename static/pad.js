// The drawing pad shared by the drawing page and the explorer: strokes drawn with a round pen on a
// canvas kept at one canvas pixel per device pixel, and exported as the PNG the API reads.
// Each stroke is a list of [x, y] points in [0, 1] of the pad, so any canvas size redraws it.
//   drawingPad(canvas, changed)  the pad: pointer, painting, resizing, export, undo and clear
//   debounced(run, ms)           run once the calls pause: live answers while a stroke is drawn
"use strict";

(() => {
  const PEN = 0.07;             // pen width, of the pad's height: a digit filling the pad gets MNIST-thick strokes
  const EXPORT_SIZE = 280;      // px: the height of the image sent (small PNG, plenty for a 20 px fit)

  /** Paint the strokes on a 2D context of width × height px: a line per stroke, a round dot per tap. */
  function paint(g, strokes, width, height, colour) {
    g.clearRect(0, 0, width, height);
    g.lineCap = "round";
    g.lineJoin = "round";
    g.strokeStyle = colour;
    g.fillStyle = colour;
    g.lineWidth = PEN * height;
    for (const s of strokes) {
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
  }

  /** The page's ink colour (light or dark mode). */
  function inkColour() {
    return getComputedStyle(document.documentElement).getPropertyValue("--ink").trim() || "#111";
  }

  /**
   * Strokes from the pointer on `canvas`: one finger, pen or left mouse button at a time, with the
   * browser's coalesced events kept so fast strokes stay smooth. Calls `changed(false)` as a stroke
   * grows and `changed(true)` when it ends; returns whether a stroke is being drawn.
   */
  function followPointer(canvas, strokes, changed) {
    let current = null;           // the stroke being drawn
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
      strokes.push(current);
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
   * The drawing pad on `canvas`. After every change to the drawing the pad repaints itself, then
   * calls `changed(now)`: `now` is false while a stroke is being drawn, true once it ends and after
   * an undo or a clear. The canvas follows its box and the device pixel ratio, and the ink follows
   * light and dark mode, keeping the drawing.
   */
  window.drawingPad = (canvas, changed) => {
    const strokes = [];
    const g = canvas.getContext("2d");
    const drawing = followPointer(canvas, strokes, update);

    function update(now) {
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

    /** How far the drawing reaches, pen included, along its longer side, in pad heights. */
    function span() {
      const xs = strokes.flat().map((p) => p[0] * aspect());
      const ys = strokes.flat().map((p) => p[1]);
      return Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)) + PEN;
    }

    /** [width, height] of the exported image: EXPORT_SIZE high, as wide as the pad is. */
    function exportSize() {
      return [Math.round(EXPORT_SIZE * aspect()), EXPORT_SIZE];
    }

    /** The drawing as the API gets it: a PNG data URL, black ink on transparent, like any canvas. */
    function exportPNG() {
      const off = document.createElement("canvas");
      [off.width, off.height] = exportSize();
      paint(off.getContext("2d"), strokes, off.width, off.height, "#000");
      return off.toDataURL("image/png");
    }

    /** Take the last stroke away (not while one is being drawn). */
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
    return { drawing, isEmpty: () => strokes.length === 0, span, exportSize, exportPNG, fit, undo, clear };
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
