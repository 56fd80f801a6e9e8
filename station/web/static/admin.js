/* The Staff panel: staff type the admin secret once per tab (sessionStorage), and every action
   sends it as "Authorization: Bearer ...". A header, unlike a cookie, never rides along on a
   request another site makes, so no CSRF token is needed. All text goes in through textContent. */
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const panel = $("admin");
  if (!panel) return;
  const STORE_KEY = "station-admin-secret";
  const CONFIRM_MS = 4000;
  const LABELS = {
    "web.title": "Page title", "web.update_hz": "Page updates per second", "web.camera_hz": "Camera pictures per second",
    "web.show_camera": "Show the camera picture", "hinge.set_rest_s": "Rest that ends a set (s)",
    "hinge.set_leave_s": "Absence that ends a set (s)",
    "hinge.floor_lowered_within_s": "Floor reps count when the bar is lowered within (s; 0: at lockout, bars dropped)",
    "hinge.unlock_min_deg": "Key 1: least knee bend at the start (°)",
    "hinge.sync_max_gap": "Key 2: hips and chest out of step (fraction)", "hinge.min_wall_trunk_deg": "Key 2: least chest drop by the wall (°)",
    "hinge.early_knee_deg": "Key 3: knee bend before the wall (°)", "hinge.back_reach_deg": "Key 3: reach with the back (°)",
    "hinge.leave_wall_L": "Key 3: hips leaving the wall (leg lengths)",
  };
  let secret = sessionStorage.getItem(STORE_KEY);
  let sets = [];
  let settings = [];
  let armedReset = null;

  function say(text, level) {
    $("admin-msg").textContent = text;
    $("admin-msg").dataset.level = level || "info";
  }

  async function api(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: { Authorization: `Bearer ${secret}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    if (response.status === 401) lock();
    if (!response.ok) throw new Error(data.error || `the station answered ${response.status}`);
    return data;
  }

  function show(unlocked) {
    $("staff-tools").hidden = !unlocked;
    $("unlock").hidden = unlocked;
  }

  function lock() {
    secret = null;
    sessionStorage.removeItem(STORE_KEY);
    show(false);
  }

  async function unlock(candidate) {
    secret = candidate;
    try {
      await api("GET", "/api/admin");
      sessionStorage.setItem(STORE_KEY, secret);
      show(true);
      say("Unlocked for this tab.", "good");
      await loadSettings();
    } catch (err) {
      lock();
      say(err.message, "bad");
    }
  }

  function setLabel(set) {
    const time = set.t_start ? new Date(set.t_start * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
    return `${set.day_n || set.n} · ${time} · ${set.reps} reps${set.lifter ? ` · ${set.lifter}` : ""}`;
  }

  function renderSetChoices() {
    const select = $("name-set");
    const chosen = select.value;
    const named = sets.filter((s) => s.id);
    select.replaceChildren(...named.slice().reverse().map((set) => {
      const option = document.createElement("option");
      option.value = String(set.id);
      option.textContent = setLabel(set) + (set.active ? " (now)" : "");
      return option;
    }));
    if (named.some((s) => String(s.id) === chosen)) select.value = chosen;
  }

  function settingInput(entry) {
    const input = document.createElement("input");
    input.id = `setting-${entry.key}`;
    input.name = entry.key;
    if (entry.type === "boolean") {
      input.type = "checkbox";
      input.checked = Boolean(entry.value);
    } else if (entry.type === "number") {
      input.type = "number";
      input.step = "any";
      input.min = entry.minimum;
      input.max = entry.maximum;
      input.value = entry.pending !== undefined ? entry.pending : entry.value;
    } else {
      input.type = "text";
      input.maxLength = entry.max_length || 60;
      input.value = entry.value;
    }
    return input;
  }

  function renderSettings() {
    $("config-fields").replaceChildren(...settings.map((entry) => {
      const label = document.createElement("label");
      label.className = "config-field";
      const name = document.createElement("span");
      name.textContent = (LABELS[entry.key] || entry.key) + (entry.applies === "restart" ? " · after a restart" : "");
      name.title = entry.key;
      label.append(name, settingInput(entry));
      return label;
    }));
  }

  async function loadSettings() {
    const response = await fetch("/api/config", { cache: "no-store" });
    settings = (await response.json()).settings || [];
    renderSettings();
  }

  function changedSettings() {
    const changes = {};
    for (const entry of settings) {
      const input = $(`setting-${entry.key}`);
      const was = entry.pending !== undefined ? entry.pending : entry.value;
      const now = entry.type === "boolean" ? input.checked : entry.type === "number" ? Number(input.value) : input.value;
      if (now !== was) changes[entry.key] = now;
    }
    return changes;
  }

  async function endSet(discard) {
    try {
      const { ended } = await api("POST", discard ? "/api/set/reset" : "/api/set/end", {});
      say(`Set ${ended.n} ${discard ? "discarded" : "ended"} (${ended.reps} reps).`, "good");
    } catch (err) {
      say(err.message, "bad");
    }
  }

  $("unlock").addEventListener("submit", (e) => {
    e.preventDefault();
    const candidate = $("secret").value.trim();
    $("secret").value = "";
    unlock(candidate);
  });
  $("lock").addEventListener("click", () => { lock(); say("Locked.", "info"); });
  $("end-set").addEventListener("click", () => endSet(false));
  $("reset-set").addEventListener("click", () => {
    if (!armedReset) { // two clicks: a discarded set's count is gone from the day's totals
      $("reset-set").textContent = "Click again to discard";
      armedReset = setTimeout(() => { armedReset = null; $("reset-set").textContent = "Discard set"; }, CONFIRM_MS);
      return;
    }
    clearTimeout(armedReset);
    armedReset = null;
    $("reset-set").textContent = "Discard set";
    endSet(true);
  });
  $("name-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const id = $("name-set").value;
    if (!id) { say("No set to name yet.", "bad"); return; }
    try {
      const { lifter } = await api("PUT", `/api/sets/${encodeURIComponent(id)}/lifter`, { name: $("name-input").value });
      say(lifter ? `Set named: ${lifter}.` : "Name cleared.", "good");
      $("name-input").value = "";
    } catch (err) {
      say(err.message, "bad");
    }
  });
  $("config-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const changes = changedSettings();
    if (!Object.keys(changes).length) { say("Nothing changed.", "info"); return; }
    try {
      const result = await api("PATCH", "/api/config", changes);
      settings = result.settings;
      renderSettings();
      const parts = [];
      if (result.applied.length) parts.push(`applied now: ${result.applied.join(", ")}`);
      if (result.restart_required.length) parts.push(`after a restart: ${result.restart_required.join(", ")}`);
      say(`Saved (${parts.join("; ")}).`, "good");
      if ("web.title" in changes) {
        document.title = changes["web.title"];
        document.querySelector("h1").textContent = changes["web.title"];
      }
    } catch (err) {
      say(err.message, "bad");
    }
  });
  document.addEventListener("station:sets", (e) => { sets = e.detail; renderSetChoices(); });

  show(false);
  if (secret) unlock(secret);
})();
