// The explorer's Train panel: train one of digitpad's networks on the server and watch it learn.
// GET /api/train gives the choices and the tutorial's settings (the form opens on them), or says
// training is off (the panel says so and offers nothing). Start posts the settings; the run's
// Server-Sent Events (started, progress, weights, grid, paused, resumed, stopped) are drawn as they
// come (train-views.js). Pause/Resume and Step are POSTs to the run, Reset forgets it (DELETE).
// While paused or stopped, the tutorial's network shows one step of its equations on a chosen
// training image (train-maths.js), and the explorer's pad asks the trained network too.
// Closing the page closes the stream, which stops the run on the server.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const { el, setTrained } = window.explorer;
  const views = window.trainViews;
  let info = null;   // GET /api/train: networks, optimizers, defaults, limits, data
  let run = null;    // the run on screen: {id, settings, limits, data, state, step, points, stream, accuracy}
  let shownMaths = null;

  // ----- the API ----------------------------------------------------------------------------------
  /** A JSON request; a refusal throws an Error carrying its status, code and Retry-After. */
  async function api(method, url, body) {
    const init = { method };
    if (body !== undefined) {
      init.headers = { "Content-Type": "application/json" };
      init.body = JSON.stringify(body);
    }
    const response = await fetch(url, init);
    const data = response.status === 204 ? {} : await response.json().catch(() => ({}));
    if (!response.ok) {
      const detail = Array.isArray(data.detail) ? data.detail.map((d) => d.msg || String(d)).join("; ") : data.detail;
      throw Object.assign(new Error(detail || `${url} answered ${response.status}`),
        { status: response.status, code: data.code, retryAfter: response.headers.get("Retry-After") });
    }
    return data;
  }

  const runUrl = (path = "") => `/api/train/${encodeURIComponent(run.id)}${path}`;
  const percent = (v) => `${(v * 100).toFixed(1)}\u00a0%`;  // "84.7 %", never broken before the %

  // ----- the form ---------------------------------------------------------------------------------
  const OPTIMIZERS = { gd: "GD", momentum: "momentum", rmsprop: "RMSProp", adam: "Adam" };  // short, for the menu

  function option(o) {
    const name = typeof o === "string" ? o : o.name;
    return el("option", { value: name, text: o.label || OPTIMIZERS[name] || name });
  }

  function fillForm(d) {
    $("train-network").replaceChildren(...info.networks.map(option));
    $("train-optimizer").replaceChildren(...info.optimizers.map(option));
    $("train-network").value = d.network;
    $("train-seed").value = String(d.seed ?? 0);
    $("train-steps").max = String(info.limits.max_steps);
    if (info.limits.max_batch_size) $("train-batch").max = String(info.limits.max_batch_size);
    const n = info.data && (info.data.full_batch || info.data.train);
    $("train-full-label").textContent = n ? `the same ${n.toLocaleString("en")} images (full batch, as in the tutorial)`
      : "all its images at once (full batch, as in the tutorial)";
    fillSettings(d);
  }

  /** Optimizer, α, batch and steps: the defaults, or what the server suggests for a network. */
  function fillSettings(d) {
    $("train-optimizer").value = d.optimizer;
    $("train-lr").value = String(d.learning_rate);
    $("train-full").checked = !d.batch_size;
    $("train-mini").checked = !!d.batch_size;
    $("train-batch").value = String(d.batch_size || 64);
    $("train-steps").value = String(d.steps);
    about();
  }

  /** A network was chosen: the settings that make it learn well (the tutorial's for the tutorial's). */
  function chooseNetwork() {
    const n = info.networks.find((x) => x.name === $("train-network").value);
    if (n && n.suggested) fillSettings(n.suggested);
    about();
  }

  /** The chosen network's and optimizer's descriptions; the batch size only for mini-batches. */
  function about() {
    const n = info.networks.find((x) => x.name === $("train-network").value);
    const o = info.optimizers.find((x) => (x.name || x) === $("train-optimizer").value);
    $("train-network-about").textContent = n ? n.description : "";
    $("train-optimizer-about").textContent = o && o.description ? o.description : "";
    $("train-batch").disabled = !$("train-mini").checked;
  }

  function settings() {
    return { network: $("train-network").value, optimizer: $("train-optimizer").value,
      learning_rate: Number($("train-lr").value),
      batch_size: $("train-mini").checked ? Number($("train-batch").value) : 0,
      steps: Number($("train-steps").value), seed: Number($("train-seed").value) };
  }

  function describeData(data) {
    if (!data) return "";
    const where = data.source === "mnist" ? "MNIST digits" : "digits of the small MNIST subset shipped with digitpad";
    return `It learns from ${data.train.toLocaleString("en")} ${where} and is checked on ${data.validation.toLocaleString("en")} others it never trains on.`;
  }

  // ----- the state: which buttons do something now ------------------------------------------------
  /** idle (no run), starting, running, paused or stopped: the buttons, the form and the status line. */
  function setState(state) {
    if (run && state !== "idle" && state !== "starting") run.state = state;
    $("train").dataset.state = state;
    const live = state === "running" || state === "paused" || state === "starting";
    $("train-settings").disabled = live;
    $("train-start").disabled = live;
    $("train-pause").disabled = !(state === "running" || state === "paused");
    $("train-pause").textContent = state === "paused" ? "Resume" : "Pause";
    $("train-step").disabled = state === "running" || state === "starting";
    $("train-reset").disabled = state === "starting";
    const tutorial = run && run.settings.network === "tutorial";
    $("train-maths-box").hidden = !run;
    $("train-maths-form").hidden = !tutorial;
    $("train-maths-other").hidden = !run || tutorial;
    $("train-maths-go").disabled = !(tutorial && (state === "paused" || state === "stopped"));
    if (run) $("train-image").max = String(Math.max(0, (run.data?.train ?? 1) - 1));
    if (run && run.saved && (state === "paused" || state === "stopped")) handOver();
    if (state === "running") say("Training…");
    if (state === "paused") say(`Paused after step ${run.step}. Step goes one step further, Resume carries on.`);
  }

  /** The run has weights to answer with (saved at step 0, then as it goes): the pad asks them too
      (again at each pause, step and at the end), and they can be downloaded. */
  function handOver() {
    run.saved = true;
    $("train-download").hidden = false;
    $("train-download").href = runUrl("/weights.npz");
    setTrained({ id: run.id, label: networkLabel(run.settings), accuracy: run.accuracy });
  }

  function networkLabel(s) {
    const n = info.networks.find((x) => x.name === s.network);
    return `${n ? n.label : s.network}, ${OPTIMIZERS[s.optimizer] || s.optimizer}`;
  }

  function say(text, tone = "") {
    $("train-status").textContent = text;
    $("train-status").dataset.tone = tone;
  }

  // ----- a run ------------------------------------------------------------------------------------
  /** A new run with the form's settings (the last one is forgotten first); paused: wait for Step. */
  async function start(paused) {
    await forget();
    setState("starting");
    say("Starting…");
    let made;
    try {
      made = await api("POST", "/api/train", { ...settings(), paused });
    } catch (e) {
      setState("idle");
      say(refusal(e), "error");
      return false;
    }
    run = { id: made.id, settings: made.settings, limits: made.limits, data: made.data, state: "starting",
            step: 0, points: [], accuracy: null };
    views.clear();
    views.curve([], run.settings.steps);
    $("train-intro-data").textContent = describeData(made.data);
    listen(made.events);
    setState(paused ? "paused" : "running");
    return true;
  }

  function refusal(e) {
    if (e.status === 503) {
      const wait = e.retryAfter ? ` Try again in ${e.retryAfter} s.` : " Try again in a moment.";
      return `The server is already training as many networks as it allows.${wait}`;
    }
    if (e.status === 422) return `Those settings cannot be trained: ${e.message}`;
    return `The run could not start: ${e.message}`;
  }

  function listen(url) {
    const stream = new EventSource(url);
    run.stream = stream;
    const mine = run;
    const on = (type, handle) => stream.addEventListener(type, (e) => {
      if (run === mine) handle(JSON.parse(e.data));
    });
    on("started", started);
    on("progress", progress);
    on("weights", (w) => {
      views.weights(w);
      if (!run.saved) handOver();
    });
    on("grid", (g) => views.answers(g.answers));
    on("paused", (p) => { run.step = Math.max(run.step, p.step); setState("paused"); });
    on("resumed", () => setState("running"));
    on("stopped", stopped);
    stream.onerror = () => {  // the server stops a run whose stream is gone: do not reconnect
      if (run !== mine || run.state === "stopped") return;
      stream.close();
      say("The connection to the run was lost, so it stopped.", "warn");
      setState("stopped");
    };
  }

  function started(s) {
    if (s.settings) run.settings = s.settings;
    if (s.data) $("train-intro-data").textContent = describeData(s.data);
    if (s.grid) views.grid(s.grid);
  }

  function progress(p) {
    if (run.points.length && p.step <= run.points[run.points.length - 1].step) return;
    run.points.push(p);
    run.step = p.step;
    if (Number.isFinite(p.val_accuracy)) run.accuracy = p.val_accuracy;
    views.curve(run.points, run.settings.steps);
    if (run.accuracy != null) $("train-accuracy").textContent = percent(run.accuracy);
    $("train-numbers").textContent = [`step ${p.step} of ${run.settings.steps}`,
      Number.isFinite(p.loss) ? `loss ${p.loss.toPrecision(3)}` : "loss not a number",
      Number.isFinite(p.train_accuracy) ? `training ${percent(p.train_accuracy)}` : "",
      p.seconds != null ? `${p.seconds.toFixed(1)} s` : ""].filter(Boolean).join(" · ");
    if (run.state === "paused") afterStep();
  }

  /** A step taken while paused: the pad's answer and the maths are for the new parameters. */
  function afterStep() {
    setState("paused");
    if (run.settings.network === "tutorial") showMaths();
  }

  function stopped(s) {
    run.stream.close();
    run.step = s.step ?? run.step;
    if (Number.isFinite(s.val_accuracy)) {
      run.accuracy = s.val_accuracy;
      $("train-accuracy").textContent = percent(s.val_accuracy);
    }
    if (s.confusion) views.confusion(s.confusion);
    setState("stopped");
    say(stopMessage(s), s.reason === "diverged" ? "warn" : "");
  }

  function stopMessage(s) {
    const acc = Number.isFinite(s.val_accuracy) ? `, ${percent(s.val_accuracy)} of the validation digits right` : "";
    switch (s.reason) {
      case "finished": return `Finished: ${s.step} steps${acc}.`;
      case "time_limit": return `Stopped at the time limit of ${run.limits?.max_seconds ?? "its"} s, after ${s.step} steps${acc}.`;
      case "diverged": return `Diverged at step ${s.step}: ${s.message || "the loss is no longer a number"}. ` +
        "The learning rate is too large for this network: try a smaller one.";
      case "disconnected": return "Stopped: the page lost its connection to the run.";
      case "failed": return `The run failed${s.message ? `: ${s.message}` : "."}`;
      default: return s.message ? `Stopped: ${s.message}` : `Stopped after ${s.step} steps${acc}.`;
    }
  }

  /** Stop and forget the run on screen, on the server too (Reset, or before a new one). */
  async function forget() {
    if (!run) return;
    const old = run;
    run = null;
    shownMaths = null;
    if (old.stream) old.stream.close();
    setTrained(null);
    $("train-download").hidden = true;
    $("train-maths").replaceChildren();
    await api("DELETE", `/api/train/${encodeURIComponent(old.id)}`).catch(() => {});
  }

  async function control(verb) {
    try {
      const r = await api("POST", runUrl(`/${verb}`));
      if (r.step != null) run.step = Math.max(run.step, r.step);
      if (verb !== "step") setState(r.state === "paused" ? "paused" : r.state === "stopped" ? "stopped" : "running");
    } catch (e) {
      say(e.code === "unknown_run" ? "This run has expired; start a new one." : e.message, "error");
    }
  }

  // ----- the maths of one step --------------------------------------------------------------------
  async function showMaths() {
    const k = Math.max(0, Math.floor(Number($("train-image").value) || 0));
    const mine = run;
    try {
      const m = await api("GET", runUrl(`/maths?image=${k}`));
      if (run !== mine) return;
      shownMaths = m;
      $("train-maths").replaceChildren(...window.trainMaths.render(m));
    } catch (e) {
      if (run === mine) $("train-maths").replaceChildren(el("p", { className: "muted", text: e.message }));
    }
  }

  // ----- wiring -----------------------------------------------------------------------------------
  function off() {
    $("train-off").textContent = "Training is turned off on this server, so there is nothing to start here. " +
      "The networks above were trained offline, with python -m scripts.train.";
    $("train-off").hidden = false;
    $("train-body").hidden = true;
  }

  async function load() {
    try {
      info = await api("GET", "/api/train");
    } catch (e) {
      if (e.code === "training_off" || e.status === 404) return off();
      $("train-off").textContent = `The training settings could not be loaded: ${e.message}`;
      $("train-off").hidden = false;
      return undefined;
    }
    if (info.enabled === false) return off();
    fillForm(info.defaults);
    $("train-intro-data").textContent = describeData(info.data);
    $("train-body").hidden = false;
    setState("idle");
    return undefined;
  }

  $("train-form").addEventListener("submit", (e) => {
    e.preventDefault();
    start(false);
  });
  $("train-network").addEventListener("change", chooseNetwork);
  for (const id of ["train-optimizer", "train-full", "train-mini"]) $(id).addEventListener("change", about);
  $("train-pause").addEventListener("click", () => control(run.state === "paused" ? "resume" : "pause"));
  $("train-step").addEventListener("click", async () => {
    if (!run || run.state === "stopped") {
      if (!$("train-form").reportValidity() || !(await start(true))) return;
    }
    await control("step");
  });
  $("train-reset").addEventListener("click", async () => {
    await forget();
    views.clear();
    fillForm(info.defaults);
    $("train-accuracy").textContent = "–";
    $("train-numbers").textContent = "";
    setState("idle");
    say("");
  });
  $("train-maths-form").addEventListener("submit", (e) => {
    e.preventDefault();
    showMaths();
  });
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    if (shownMaths) $("train-maths").replaceChildren(...window.trainMaths.render(shownMaths));
  });
  load();
})();
