// The drawing page's "Right!" and "Wrong? It's …": one tap tells digitpad what the drawing really
// is (POST /api/feedback with the 28×28 input the network saw). "Right!" sends what the network
// said as the label, which the API counts as agreeing. One word per answer: once sent, the
// buttons stay disabled for that answer, even when it is shown again (the same drawing re-read, a
// digit of a number picked again).
//   feedbackPanel(link)  → { offer(answer) }: answer = {key, preview, predicted, verdict, version} or null
"use strict";

(() => {
  const LABELS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, "not_a_digit"];

  /** "a 7", "an 8". */
  const aDigit = (d) => `${d === 8 ? "an" : "a"} ${d}`;

  window.feedbackPanel = (link) => {
    const $ = (id) => document.getElementById(id);
    const panel = $("correct");
    const title = $("correct-title");
    const agree = $("agree");
    const status = $("feedback-status");
    const sent = new Map();     // answer key → what the page said once feedback on it was sent
    let answered = null;        // the answer on show

    for (const label of LABELS) {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.testid = label === "not_a_digit" ? "correct-none" : `correct-${label}`;
      b.textContent = label === "not_a_digit" ? "not a digit" : String(label);
      b.title = label === "not_a_digit" ? "It is not a digit at all" : `It is ${aDigit(label)}`;
      b.addEventListener("click", () => send(label));
      $("correct-buttons").appendChild(b);
    }
    agree.addEventListener("click", () => { if (answered) send(answered.predicted); });
    const buttons = [agree, ...$("correct-buttons").children];

    function say(text, error = false) {
      status.textContent = text;
      status.classList.toggle("error", error);
    }

    /** Offer "Right!" and corrections for this answer (or none, with null); an answer already told about stays told. */
    function offer(answer) {
      answered = answer;
      panel.hidden = answer === null;
      if (answer === null) return;
      const unsure = answer.verdict === "unsure";      // nothing was claimed: ask which it is
      agree.hidden = unsure;
      agree.title = answer.predicted === "not_a_digit" ? "Yes: it is not a digit" : `Yes: it is ${aDigit(answer.predicted)}`;
      title.textContent = unsure ? "Which is it?" : "Wrong? It's …";
      say(sent.get(answer.key) || "");
      for (const b of buttons) b.disabled = sent.has(answer.key);
    }

    /** One tap, once per answer: the 28×28 input the network saw, what it really is, what the model had said. */
    async function send(label) {
      if (answered === null || sent.has(answered.key)) return;
      const about = answered;
      sent.set(about.key, "Sending…");
      for (const b of buttons) b.disabled = true;
      say("Sending…");
      let failed = "";
      try {
        const response = await fetch("/api/feedback", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ pixels: about.preview, label, predicted: about.predicted, model_version: about.version }),
        });
        const body = await response.json().catch(() => ({}));
        if (response.ok) sent.set(about.key, label === about.predicted ? "Thanks — saved as right." : "Thanks — saved.");
        else failed = body.detail || `Not saved: the server answered ${response.status}.`;
      } catch {
        failed = "Not saved: cannot reach the digitpad server.";
        link.lost();
      }
      if (failed) sent.delete(about.key);
      if (answered === null || answered.key !== about.key) return;   // another answer is on show: say nothing
      say(failed || sent.get(about.key), Boolean(failed));
      if (failed) for (const b of buttons) b.disabled = false;
    }

    return { offer };
  };
})();
