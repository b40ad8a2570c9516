// ytmaker's page: plain JavaScript over the JSON API and its Server-Sent Events (no build step, no inline code).
// The open project follows /api/v1/projects/{id}/events; the list follows /api/v1/events. EventSource reconnects
// by itself and sends Last-Event-ID, so a dropped connection misses nothing.
(() => {
  "use strict";

  const API = "/api/v1";
  const TERMINAL = new Set(["completed", "failed", "cancelled"]);
  const page = JSON.parse(document.getElementById("page-data").textContent);
  const W = page.words;
  const $ = (id) => document.getElementById(id);

  let current = null; // id of the open project
  let stream = null; // its EventSource
  let newest = {}; // the open project's newest snapshot shown (by seq)
  const rows = new Map(); // project id -> list row

  const word = (key, fallback) => (key in W ? W[key] : fallback);
  const statusWord = (status) => word("status_" + status, status || "");
  const stageWord = (stage) => word("stage_" + stage, stage);
  // The stages write their progress in English; the page's other languages translate it by pattern (page_text.PROGRESS).
  const PROGRESS = (page.progress || []).map(([pattern, words]) => [new RegExp(pattern), words]);
  function progressWords(message) {
    for (const [pattern, words] of PROGRESS) {
      const match = pattern.exec(message);
      if (match) return words.replace(/\{(\w+)\}/g, (_, name) => (name === "stage" ? stageWord : String)(match.groups[name]));
    }
    return message;
  }
  const percent = (value) => Math.max(0, Math.min(100, Math.round(Number(value) || 0)));

  async function api(path, options = {}) {
    const response = await fetch(API + path, { credentials: "same-origin", ...options });
    if (!response.ok) {
      let reason = response.status + " " + response.statusText;
      try {
        const body = await response.json();
        reason = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
      } catch (_) { /* not JSON: keep the status line */ }
      throw new Error(reason);
    }
    return response.status === 204 ? null : response.json();
  }

  function show(element, visible) { element.hidden = !visible; }

  function setError(element, message) {
    element.textContent = message || "";
    show(element, Boolean(message));
  }

  // ---- the open project ----

  function setBar(bar, value) {
    const figure = percent(value);
    bar.querySelector("progress").value = figure;
    bar.querySelector(".pct").textContent = figure + " %";
    bar.dataset.value = String(figure);
  }

  function applyProgress(fields, stages) {
    if (fields.seq !== undefined && Number(fields.seq) >= Number(newest.seq ?? -1)) newest = fields;
    const runs = new Map((stages || []).map((run) => [run.stage, run]));
    const terminal = TERMINAL.has(fields.status);
    for (const bar of document.querySelectorAll("#project .bar[data-stage]")) {
      const stage = bar.dataset.stage;
      const run = runs.get(stage);
      let value = fields["p:" + stage];
      if (run && (run.status === "succeeded" || run.status === "skipped")) value = 100;
      if (value !== undefined) setBar(bar, value);
      const skipped = Boolean(run && run.status === "skipped");
      bar.classList.toggle("skipped", skipped);
      if (skipped) {
        bar.querySelector(".pct").textContent = "–";
        bar.title = statusWord("skipped");
      }
      bar.classList.toggle("failed", Boolean(run && run.status === "failed"));
      bar.classList.toggle("active", !terminal && fields.stage === stage);
    }
    if (fields.progress !== undefined || fields.status === "completed") {
      const overall = fields.status === "completed" ? 100 : fields.progress;
      $("bar-overall").value = percent(overall);
      $("pct-overall").textContent = percent(overall) + " %";
      $("overall").classList.toggle("done", percent(overall) === 100);
    }
    if (fields.status) {
      const badge = $("p-status");
      badge.textContent = statusWord(fields.status);
      badge.dataset.status = fields.status;
      show($("cancel"), !terminal);
      show($("retry"), fields.status === "failed" || fields.status === "cancelled");
      show($("delete"), terminal);
    }
    if (fields.message !== undefined) $("p-message").textContent = terminal ? "" : progressWords(fields.message);
    if (fields.error) showFailure(fields.error, null);
  }

  function showFailure(error, stage) {
    const where = stage ? word("failed_at") + ": " + stageWord(stage) + ". " : "";
    $("p-error").textContent = where + error;
    show($("p-failure"), true);
  }

  function render(project) {
    $("p-title").textContent = project.title || word("untitled");
    $("p-title").classList.toggle("untitled", !project.title);
    $("p-title").lang = project.language || "";
    for (const bar of document.querySelectorAll("#project .bar")) setBar(bar, 0);
    show($("p-failure"), false);
    const recorded = { ...project.progress, status: project.status };
    // a record fetched while the stream runs can be older than what the stream already showed: keep the newer
    const older = newest.project_id === project.id && Number(project.progress.seq ?? -1) < Number(newest.seq ?? -1);
    applyProgress(older ? newest : recorded, project.stages);
    if (project.status === "failed" || project.status === "cancelled") {
      if (project.error) showFailure(project.error, project.failed_stage);
    }
    const outputs = project.outputs || {};
    const player = $("player");
    if (outputs.video) {
      if (player.getAttribute("src") !== outputs.video) player.src = outputs.video;
    } else {
      player.removeAttribute("src");
    }
    show($("p-result"), Boolean(outputs.video || outputs.thumbnail));
    show(player, Boolean(outputs.video));
    if (outputs.thumbnail) $("thumb").src = outputs.thumbnail;
    show($("thumb-figure"), Boolean(outputs.thumbnail));
    for (const [id, url] of [["dl-video", outputs.video], ["dl-srt", outputs.subtitles_srt], ["dl-vtt", outputs.subtitles_vtt]]) {
      const link = $(id);
      if (url) link.href = url;
      show(link, Boolean(url));
    }
    show($("project"), true);
    updateRow(project.id, { ...project.progress, status: project.status }, project);
  }

  async function refresh(id) {
    const project = await api("/projects/" + encodeURIComponent(id));
    if (id === current) render(project);
    return project;
  }

  function follow(id) {
    if (stream) stream.close();
    stream = new EventSource(API + "/projects/" + encodeURIComponent(id) + "/events");
    let titled = !$("p-title").classList.contains("untitled");
    stream.addEventListener("progress", (event) => {
      const fields = JSON.parse(event.data);
      if (id !== current) return;
      applyProgress(fields, null);
      updateRow(id, fields, null);
      if (!titled && fields.stage && fields.stage !== "script") {  // the script is written: it has a title now
        titled = true;
        refresh(id).catch(() => {});
      }
    });
    stream.addEventListener("end", () => {
      stream.close();
      stream = null;
      refresh(id).catch(() => {});
    });
  }

  async function open(id, { scroll = false } = {}) {
    if (id !== current) newest = {};
    current = id;
    const url = new URL(location.href);
    url.searchParams.set("project", id);
    history.replaceState(null, "", url);
    for (const link of document.querySelectorAll("nav.langs a")) {  // the switch keeps the open project
      const target = new URL(link.href);
      target.searchParams.set("project", id);
      link.href = target.pathname + target.search;
    }
    for (const [rowId, row] of rows) row.classList.toggle("current", rowId === id);
    try {
      const project = await refresh(id);
      if (!TERMINAL.has(project.status)) follow(id);
      else if (stream) { stream.close(); stream = null; }
      if (scroll) $("project").scrollIntoView({ behavior: "smooth", block: "start" });
    } catch (error) {
      setError($("form-error"), error.message);
    }
  }

  async function act(path, method) {
    const id = current;
    try {
      await api("/projects/" + encodeURIComponent(id) + path, { method });
      if (method === "DELETE") {
        rows.get(id)?.remove();
        rows.delete(id);
        emptyList();
        show($("project"), false);
        current = null;
        return;
      }
      await open(id);
    } catch (error) {
      showFailure(error.message, null);
    }
  }

  // ---- the list ----

  function emptyList() { show($("no-projects"), rows.size === 0); }

  function updateRow(id, fields, project) {
    let row = rows.get(id);
    if (!row) {
      if (!project) return false;
      row = document.createElement("li");
      row.className = "row";
      const button = document.createElement("button");
      button.type = "button";
      button.className = "row-open";
      button.innerHTML = '<span class="row-title"></span><span class="badge"></span>' +
        '<progress max="100" value="0"></progress><time></time>';
      button.addEventListener("click", () => open(id, { scroll: true }));
      row.append(button);
      rows.set(id, row);
      $("projects").prepend(row);
      emptyList();
    }
    if (project) {
      const title = row.querySelector(".row-title");
      title.textContent = project.title || word("untitled");
      row.classList.toggle("untitled", !project.title);
      title.lang = project.language || "";
      const time = row.querySelector("time");
      time.dateTime = project.created_at;
      time.textContent = new Date(project.created_at).toLocaleString(page.lang === "zh" ? "zh-CN" : "en",
        { dateStyle: "short", timeStyle: "short" });
    }
    if (fields.seq !== undefined) {  // snapshots can arrive out of order (a fetch racing the stream): keep the newest
      if (Number(fields.seq) < Number(row.dataset.seq || -1)) return true;
      row.dataset.seq = String(fields.seq);
    }
    if (fields.status) {
      const badge = row.querySelector(".badge");
      badge.textContent = statusWord(fields.status);
      badge.dataset.status = fields.status;
    }
    if (fields.progress !== undefined || fields.status === "completed") {
      const bar = row.querySelector("progress");
      bar.value = percent(fields.status === "completed" ? 100 : fields.progress);
      bar.setAttribute("aria-label", word("overall") + " " + bar.value + " %");
    }
    row.dataset.status = fields.status || row.dataset.status || "";
    row.classList.toggle("current", id === current);
    return true;
  }

  async function loadList() {
    const page = await api("/projects?limit=30");
    for (const project of page.items.slice().reverse()) updateRow(project.id, { ...project.progress, status: project.status }, project);
    emptyList();
  }

  function followAll() {
    const all = new EventSource(API + "/events");
    const live = $("live");
    all.addEventListener("open", () => { live.textContent = word("live"); live.dataset.state = "live"; show(live, true); });
    all.addEventListener("error", () => { live.textContent = word("reconnecting"); live.dataset.state = "down"; show(live, true); });
    all.addEventListener("progress", (event) => {
      const fields = JSON.parse(event.data);
      const id = fields.project_id;
      const known = updateRow(id, fields, null);
      // a project first seen here is fetched for its title, and fetched again at its end if it had none yet
      if (!known || (TERMINAL.has(fields.status) && rows.get(id).classList.contains("untitled"))) {
        api("/projects/" + encodeURIComponent(id)).then((project) => updateRow(id, fields, project)).catch(() => {});
      }
    });
  }

  // ---- the form ----

  let loaded = null; // {file, text}: the dropped or chosen file, sent as such while the text is unchanged

  const DOCUMENT = /\.(pdf|docx)$/i; // read by the server: shown by name, not as text

  async function take(file) {
    if (!file) return;
    const text = DOCUMENT.test(file.name) ? "" : await file.text();
    $("text").value = text;
    $("text").placeholder = text ? $("text").dataset.placeholder : word("file_chosen") + " " + file.name;
    loaded = { file, text };
  }

  function body() {
    const form = $("new-form");
    const fields = {};
    for (const name of ["title", "language", "format", "voice", "captions"]) {
      const value = form.elements[name].value.trim();
      if (value) fields[name] = value;
    }
    const duration = form.elements.max_duration.value.trim();
    if (duration !== "") fields.max_duration = Number(duration);
    if (loaded && loaded.text === $("text").value) {
      const data = new FormData();
      data.append("file", loaded.file);
      for (const [name, value] of Object.entries(fields)) data.append(name, String(value));
      return { body: data };
    }
    const text = $("text").value.trim();
    const given = /^https?:\/\/\S+$/i.test(text) ? { url: text } : { text: $("text").value }; // a pasted address is fetched
    return { body: JSON.stringify({ ...given, ...fields }), headers: { "Content-Type": "application/json" } };
  }

  async function submit(event) {
    event.preventDefault();
    const button = $("submit");
    setError($("form-error"), "");
    button.disabled = true;
    button.textContent = word("sending");
    try {
      const created = await api("/projects", { method: "POST", ...body() });
      await open(created.id, { scroll: true });
    } catch (error) {
      setError($("form-error"), error.message);
    } finally {
      button.disabled = false;
      button.textContent = word("submit");
    }
  }

  function wireDrop() {
    const drop = $("drop");
    for (const name of ["dragenter", "dragover"]) {
      drop.addEventListener(name, (event) => { event.preventDefault(); drop.classList.add("over"); });
    }
    for (const name of ["dragleave", "drop"]) drop.addEventListener(name, () => drop.classList.remove("over"));
    drop.addEventListener("drop", (event) => {
      event.preventDefault();
      take(event.dataTransfer.files[0]);
    });
    $("file").addEventListener("change", (event) => take(event.target.files[0]));
  }

  function wireToken() {
    $("sign-out")?.addEventListener("click", async () => {
      await fetch(API + "/session", { method: "DELETE", credentials: "same-origin" });
      location.reload();
    });
    const form = $("token-form");
    if (!form) return;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api("/session", { method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ token: form.elements.token.value.trim() }) });
        form.reset();
        location.reload();
      } catch (_) {
        setError($("token-error"), word("token_refused"));
      }
    });
  }

  function start() {
    wireToken();
    const access = document.body.dataset.access;
    if (access !== "open" && access !== "signed-in") return;
    wireDrop();
    $("new-form").addEventListener("submit", submit);
    $("cancel").addEventListener("click", () => act("/cancel", "POST"));
    $("retry").addEventListener("click", () => act("/retry", "POST"));
    $("delete").addEventListener("click", () => act("", "DELETE"));
    loadList().catch((error) => setError($("form-error"), error.message));
    followAll();
    const wanted = new URL(location.href).searchParams.get("project");
    if (wanted) open(wanted);
  }

  start();
})();
