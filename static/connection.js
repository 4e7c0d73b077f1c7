// The drawing page's link to the server, kept up by itself: when a request cannot get through, a
// calm status line says so ("Reconnecting…"), and the page asks the cheapest question it can
// (GET /readyz) again and again, waiting longer each time (1 s, 2 s, 4 s … at most 10 s), as
// chat and mail apps do. Once the server answers, "Back online", and the page's `back()` runs (it
// sends the drawing again). The wait starts short again only once a real request has got through,
// so a server that answers /readyz but fails the drawing is not asked every second.
//   connection(statusEl, back)  → { lost(message), ok(), tryNow(), offline() }
"use strict";

(() => {
  const FIRST_MS = 1000;        // the first wait before asking again
  const MAX_MS = 10000;         // the longest wait between two tries
  const PROBE_TIMEOUT_MS = 3000;
  const BACK_SHOWN_MS = 3000;   // how long "Back online" stays

  window.connection = (statusEl, back) => {
    let offline = false;
    let wait = FIRST_MS;
    let timer = 0;
    let probing = false;

    function say(text, state) {
      statusEl.textContent = text;
      statusEl.dataset.state = state;
      statusEl.hidden = text === "";
    }

    /** A request could not get through: say so, and ask again after the current wait. */
    function lost(message = "Can't reach the server. Reconnecting…") {
      say(message, "offline");
      if (offline) return;
      offline = true;
      schedule();
    }

    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(probe, wait);
      wait = Math.min(2 * wait, MAX_MS);
    }

    async function probe() {
      if (probing || !offline) return;
      probing = true;
      clearTimeout(timer);
      let up = false;
      try {
        const response = await fetch("/readyz", { cache: "no-store", signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
        up = response.ok;
      } catch {
        up = false;
      }
      probing = false;
      if (!offline) return;
      if (!up) {
        schedule();
        return;
      }
      offline = false;
      say("Back online.", "online");
      timer = setTimeout(() => { if (!offline) say("", ""); }, BACK_SHOWN_MS);
      back();
    }

    /** A request got through: the next loss waits the shortest time again. */
    function ok() {
      wait = FIRST_MS;
      if (!offline) return;
      offline = false;
      clearTimeout(timer);
      say("", "");
    }

    /** The user did something that wants the server (or the browser is online again): ask now. */
    function tryNow() {
      if (offline) probe();
    }

    window.addEventListener("online", tryNow);
    return { lost, ok, tryNow, offline: () => offline };
  };
})();
