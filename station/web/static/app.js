/* The status page: one EventSource (a snapshot, then changed fields), polling as the fallback
   when the station's stream cap is reached. All text goes in through textContent. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const updateHz = parseFloat(document.body.dataset.updateHz) || 2;
  const cameraHz = parseFloat(document.body.dataset.cameraHz) || 1;
  const POLL_MS = 2000;
  const STREAM_RETRY_MS = 30000;
  const PHASES = {
    absent: "no lifter", top: "lockout", hinge: "hinging", knee_bend: "knee bend",
    bottom: "bottom", ascent: "standing up",
  };
  const figure = new window.StickFigure($("figure"), 1000 / updateHz);
  let state = {};
  let source = null;
  let pollTimer = null;
  let cameraTimer = null;

  function setLink(text) {
    const link = $("link");
    link.dataset.link = text;
    link.textContent = text;
  }

  function connect() {
    source = new EventSource("/api/events");
    source.addEventListener("snapshot", (e) => {
      stopPolling();
      setLink("live");
      apply(JSON.parse(e.data), true);
    });
    source.addEventListener("update", (e) => apply(JSON.parse(e.data), false));
    source.addEventListener("stopped", () => setLink("station stopped"));
    source.onerror = () => {
      if (source.readyState !== EventSource.CLOSED) {
        setLink("reconnecting");
        return;
      }
      // Refused (every stream slot taken) or the server is gone: poll, try the stream later.
      setLink("polling");
      startPolling();
      setTimeout(connect, STREAM_RETRY_MS);
    };
  }

  function startPolling() {
    if (pollTimer) return;
    const poll = () => fetch("/api/status", { cache: "no-store" })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((snap) => apply(snap, true))
      .catch(() => setLink("offline"));
    poll();
    pollTimer = setInterval(poll, POLL_MS);
  }

  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = null;
  }

  const RENDER = {
    state: renderState, fault: renderFault, phase: renderPhase, set: renderSet,
    last_rep: renderLastRep, sets_today: renderSets, health: renderHealth,
    guidance: renderGuidance, leds: renderLeds, pose: (p) => figure.setPose(p), camera: renderCamera,
  };

  function apply(changes, full) {
    state = full ? changes : Object.assign(state, changes);
    for (const [key, render] of Object.entries(RENDER)) {
      if (full || key in changes) render(state[key]);
    }
  }

  function renderState(value) {
    $("state").dataset.state = value;
    $("state").textContent = value;
  }

  function renderFault(message) {
    $("fault").hidden = !message;
    $("fault").textContent = message || "";
  }

  function renderPhase(phase) {
    $("phase").textContent = PHASES[phase] || phase;
    $("phase").dataset.phase = phase;
  }

  function renderSet(set) {
    const reps = $("reps");
    const text = String(set ? set.reps : 0);
    if (reps.textContent !== text) {
      reps.textContent = text;
      reps.classList.remove("bump");
      void reps.offsetWidth; // restart the animation
      reps.classList.add("bump");
    }
    const n = set && set.n ? set.day_n || set.n : null;
    const how = set && set.discarded ? " (discarded)" : set && !set.active ? " (ended)" : "";
    $("set-n").textContent = n ? `${n}${set.lifter ? ` · ${set.lifter}` : ""}${how}` : "–";
  }

  const FAULTS = {
    locked: "locked knees", rounded: "rounded back", arched: "arched: chest stayed up",
    early_knee_bend: "knees bent early", back_reach: "reached with the back", leaves_wall: "hips left the wall",
  };

  function keyTitles() {
    const titles = {};
    for (const li of document.querySelectorAll("#keys .key")) {
      titles[li.id.slice("key-".length)] = li.querySelector(".key-title").textContent;
    }
    return titles;
  }

  function gradeDetail(name, grade) {
    if (grade.ok === null) return "";
    const parts = [];
    if (name === "unlock_knees" && typeof grade.value === "number") parts.push(`knees ${grade.value.toFixed(0)}°`);
    if (grade.fault) parts.push(FAULTS[grade.fault] || grade.fault.replaceAll("_", " "));
    return parts.join(" · ");
  }

  function renderLastRep(rep) {
    $("last-n").textContent = rep ? `· set ${state.set && state.set.day_n ? state.set.day_n : rep.set}, rep ${rep.rep_in_set}` : "";
    for (const li of document.querySelectorAll("#keys .key")) {
      const name = li.id.slice("key-".length);
      const grade = rep && rep.keys ? rep.keys[name] : null;
      const ok = grade ? grade.ok : undefined;
      li.dataset.ok = ok === true ? "pass" : ok === false ? "fail" : grade ? "unknown" : "none";
      li.querySelector(".mark").textContent = ok === true ? "✓" : ok === false ? "✗" : "?";
      li.querySelector(".key-value").textContent = grade ? gradeDetail(name, grade) : "";
      li.querySelector(".key-cue").textContent = !grade ? "No rep yet"
        : ok === null ? `Not graded: ${grade.reason || "could not judge from this view"}` : grade.cue || "";
    }
  }

  function rateCell(td, counts) {
    const graded = counts ? counts.graded : 0;
    if (!graded) {
      td.textContent = "–";
      td.dataset.rate = "none";
      return;
    }
    const pct = Math.round((100 * counts.pass) / graded);
    td.textContent = `${pct}%`;
    td.title = `${counts.pass} of ${graded} graded reps`;
    td.dataset.rate = pct >= 80 ? "good" : pct >= 50 ? "fair" : "poor";
  }

  function clock(epochS) {
    if (!epochS) return "";
    return new Date(epochS * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function renderSets(sets) {
    const body = $("sets");
    const template = $("set-row");
    const rows = (sets || []).slice().reverse().map((set) => {
      const row = template.content.firstElementChild.cloneNode(true);
      row.querySelector(".n").textContent = set.day_n || set.n;
      row.querySelector(".t").textContent = clock(set.t_start);
      row.querySelector(".who").textContent = set.lifter || "";
      row.querySelector(".r").textContent = set.discarded ? `${set.reps} discarded` : set.reps;
      row.classList.toggle("active", Boolean(set.active));
      row.classList.toggle("discarded", Boolean(set.discarded));
      for (const td of row.querySelectorAll(".k")) rateCell(td, (set.keys || {})[td.dataset.key]);
      return row;
    });
    if (rows.length) body.replaceChildren(...rows);
    else body.replaceChildren(body.querySelector(".empty") || emptyRow(body));
    document.dispatchEvent(new CustomEvent("station:sets", { detail: sets || [] })); // the Staff panel lists them
  }

  function emptyRow(body) {
    const row = document.createElement("tr");
    row.className = "empty";
    const td = document.createElement("td");
    td.colSpan = body.closest("table").querySelectorAll("th").length;
    td.textContent = "No sets yet today";
    row.append(td);
    return row;
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    return h ? `${h} h ${m} min` : m ? `${m} min` : `${Math.floor(seconds)} s`;
  }

  function healthRows(h) {
    const rows = [
      ["Frames/s", h.fps !== undefined ? h.fps.toFixed(1) : "–", h.fps < 8 ? "warn" : ""],
      ["Inference", h.inference_ms !== undefined ? `${h.inference_ms.toFixed(0)} ms` : "no model", ""],
      ["Camera", h.camera || "–", /error|lost|stopped/.test(h.camera || "") ? "bad" : ""],
      ["Model", h.model || "–", /error|missing/.test(h.model || "") ? "bad" : ""],
      ["Detector", h.detector || "–", ""],
      ["Dropped frames", h.dropped_frames !== undefined ? String(h.dropped_frames) : "–", ""],
      ["Disk free", h.disk_free_mb !== null && h.disk_free_mb !== undefined
        ? `${(h.disk_free_mb / 1024).toFixed(1)} GB` : "–", h.disk_free_mb < 500 ? "warn" : ""],
      ["Uptime", duration(h.uptime_s), ""],
    ];
    if (h.cpu_temp_c !== null && h.cpu_temp_c !== undefined) {
      rows.push(["CPU", `${h.cpu_temp_c.toFixed(0)} °C`, h.cpu_temp_c >= 80 ? "bad" : h.cpu_temp_c >= 70 ? "warn" : ""]);
    }
    if (h.camera_stalled_s) rows[2] = ["Camera", `${h.camera}: no frames for ${h.camera_stalled_s} s`, "bad"];
    if (h.camera_state === "reconnecting") {
      const retry = h.camera_retry_in_s ? `, next try in ${Math.ceil(h.camera_retry_in_s)} s` : "";
      rows[2] = ["Camera", `${h.camera_error || "lost"}: reconnecting (attempt ${h.camera_attempts || 1}${retry})`, "bad"];
    }
    const history = h.history || {};
    rows.push(["History", history.message || "saved", history.message ? "bad" : ""]);
    if (h.feed) {
      const f = h.feed;
      rows.push(["Fleet feed", f.connected ? `connected${f.queued ? ` · ${f.queued} queued` : ""}`
        : `offline${f.reason ? `: ${f.reason}` : ""}${f.queued ? ` · ${f.queued} queued` : ""}`, f.connected ? "" : "warn"]);
    }
    if (h.throttled) {
      rows.push(["Throttling", h.throttled.length ? h.throttled.join(", ") : "none", h.throttled.length ? "warn" : ""]);
    }
    return rows;
  }

  function renderHealth(health) {
    const items = healthRows(health || {}).flatMap(([label, value, level]) => {
      const dt = document.createElement("dt");
      const dd = document.createElement("dd");
      dt.textContent = label;
      dd.textContent = value;
      if (level) dd.dataset.level = level;
      return [dt, dd];
    });
    $("health").replaceChildren(...items);
  }

  function renderGuidance(advice) {
    const box = $("guidance");
    box.hidden = !advice || advice.length === 0;
    box.replaceChildren(...(advice || []).map((a) => {
      const p = document.createElement("p");
      p.dataset.level = a.level;
      p.dataset.code = a.code;
      p.textContent = a.message;
      return p;
    }));
  }

  const LED_COLOURS = ["green", "red", "amber", "yellow", "blue", "white"];

  /* The LEDs as on the station's box: each key's green and red together, then rep and status. */
  function renderLeds(leds) {
    const titles = keyTitles();
    const groups = new Map();
    for (const [name, on] of Object.entries(leds || {})) {
      const colour = LED_COLOURS.find((c) => name.endsWith(`_${c}`));
      const group = colour ? name.slice(0, -colour.length - 1) : name;
      if (!groups.has(group)) groups.set(group, []);
      groups.get(group).push([name, colour || (name === "status" ? "blue" : "white"), on]);
    }
    $("leds").replaceChildren(...[...groups].map(([group, members]) => {
      const li = document.createElement("li");
      li.className = "led-group";
      for (const [name, colour, on] of members) {
        const dot = document.createElement("span");
        dot.className = "led";
        dot.dataset.name = name;
        dot.dataset.colour = colour;
        dot.dataset.on = on ? "on" : "off";
        dot.title = `${name}: ${on ? "on" : "off"}`;
        li.append(dot);
      }
      const label = document.createElement("span");
      label.className = "led-label";
      label.textContent = titles[group] || group.replaceAll("_", " ");
      li.append(label);
      return li;
    }));
  }

  function renderCamera(camera) {
    const img = $("camera");
    const show = Boolean(camera && camera.shown && camera.available);
    img.hidden = !show;
    if (show && !cameraTimer) {
      const refresh = () => { img.src = `/api/camera.png?t=${Date.now()}`; };
      refresh();
      cameraTimer = setInterval(refresh, 1000 / cameraHz);
    } else if (!show && cameraTimer) {
      clearInterval(cameraTimer);
      cameraTimer = null;
    }
  }

  connect();
})();
