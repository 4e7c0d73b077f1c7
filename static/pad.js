// The drawing pad's pointer handling, shared by the drawing page and the explorer: each stroke is
// a list of [x, y] points in [0, 1] of the pad, one finger, pen or left mouse button at a time,
// with the browser's coalesced events kept so fast strokes stay smooth.
"use strict";

window.strokePad = (pad, strokes, changed) => {
  let current = null;           // the stroke being drawn
  let active = null;            // its pointer's id

  function point(event) {
    const r = pad.getBoundingClientRect();
    const clamp = (v) => Math.min(1, Math.max(0, v));
    return [clamp((event.clientX - r.left) / r.width), clamp((event.clientY - r.top) / r.height)];
  }

  pad.addEventListener("pointerdown", (event) => {
    if (active !== null || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    active = event.pointerId;
    pad.setPointerCapture(event.pointerId);
    current = [point(event)];
    strokes.push(current);
    changed(false);
  });

  pad.addEventListener("pointermove", (event) => {
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
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointercancel", end);

  return { drawing: () => active !== null };
};
