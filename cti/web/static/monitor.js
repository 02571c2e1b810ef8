// The floor monitor: redrawn from each pushed snapshot ("monitor.floor"); no polling.
"use strict";
(() => {
  const error = document.getElementById("monitor-error");
  let last = null;

  function fail(e) { error.textContent = e.message; error.hidden = false; }

  function row(cells) {
    const tr = document.createElement("tr");
    for (const c of cells) {
      const td = document.createElement("td");
      if (c instanceof Node) td.appendChild(c); else td.textContent = c;
      tr.appendChild(td);
    }
    return tr;
  }

  function figureCells(f) {
    f = f || {};
    return [f.offered ?? 0, Hotline.percent(f.service_level), f.asa_s == null ? "—" : Hotline.seconds(f.asa_s),
            Hotline.percent(f.abandon_rate), f.aht_s == null ? "—" : Hotline.seconds(f.aht_s)];
  }

  // One row per queue or tier, named by `label`.
  function table(id, live, today, label) {
    const names = new Set([...Object.keys(live || {}), ...Object.keys(today || {})]);
    const rows = [...names].sort().map((name) => {
      const l = (live || {})[name] || {};
      return row([label(name), l.waiting || 0, Hotline.seconds((l.longest_wait_ms || 0) / 1000), ...figureCells((today || {})[name])]);
    });
    document.querySelector("#" + id + " tbody").replaceChildren(...rows);
  }

  function button(label, handler) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.addEventListener("click", async () => { try { await handler(); } catch (e) { fail(e); } });
    return b;
  }

  function seat() { return document.getElementById("my-seat").value; }

  function render(snapshot) {
    last = snapshot;
    const now = snapshot.at_ms;
    const floor = snapshot.floor || {};
    const today = snapshot.today || {};
    const waiting = (floor.calls || []).filter((c) => c.state === "waiting");
    const oldest = waiting.reduce((m, c) => Math.min(m, c.entered_ms), now);
    Hotline.text("total-waiting", waiting.length);
    Hotline.text("total-longest", Hotline.seconds((now - oldest) / 1000));
    const total = today.total || {};
    Hotline.text("total-sl", Hotline.percent(total.service_level));
    Hotline.text("total-asa", total.asa_s == null ? null : Hotline.seconds(total.asa_s));
    Hotline.text("total-abandon", Hotline.percent(total.abandon_rate));
    Hotline.text("total-aht", total.aht_s == null ? null : Hotline.seconds(total.aht_s));
    Hotline.text("total-overdue", today.overdue_orders || 0);
    document.getElementById("total-overdue").parentElement.classList.toggle("alarm", (today.overdue_orders || 0) > 0);
    table("queues", floor.groups, today.queues, Hotline.queue);
    table("tiers", floor.tiers, today.tiers, (tier) => tier ? Hotline.termSpan("tier", tier) : "—");
    place(document.querySelector("#waiting tbody"), waitingRows, waiting.sort((a, b) => a.entered_ms - b.entered_ms).map((c) => {
      const tr = kept(waitingRows, c.id, c.priority, () => row(["", "", "", "",
        button(Hotline.say("raise_short"), () => Hotline.api("POST", "/api/calls/" + encodeURIComponent(c.id) + "/priority", { priority: Math.min((c.priority || 0) + 10, 99) }))]));
      [c.caller, Hotline.termSpan("tier", c.tier), Hotline.queue(c.group), Hotline.seconds((now - c.entered_ms) / 1000)].forEach((v, i) => { tr.cells[i].replaceChildren(v); });
      return tr;
    }));
    renderAgents(floor.agents || [], now);
    renderCampaigns(snapshot.campaigns || []);
    renderFunnel(snapshot.ivr || { available: false });
    renderChart(today.intervals || []);
    const ul = document.getElementById("abandoned");
    ul.replaceChildren(...(today.abandoned_calls || []).slice(0, 20).map((a) => {
      const li = document.createElement("li");
      li.append(Hotline.clock(a.at) + " " + (a.caller || "") + " ", a.queue ? Hotline.queue(a.queue) : "", " ",
        a.tier ? Hotline.termSpan("tier", a.tier) : "", " " + Hotline.seconds(a.waited_s || 0));
      return li;
    }));
  }

  // Redrawn every second and on every push: a tile or row whose buttons still apply is kept and only its text
  // changes, so that a supervisor's click (press and release on the same button) is not lost to a redraw.
  const agentTiles = new Map();
  const waitingRows = new Map();

  function kept(cache, id, key, make) {
    let found = cache.get(id);
    if (!found || found.key !== key) {
      found = { key, node: make() };
      cache.set(id, found);
    }
    found.seen = true;
    return found.node;
  }

  // The nodes in this order; those not drawn this time are forgotten. Nodes already in place are not touched.
  function place(container, cache, nodes) {
    for (const [id, found] of cache) { if (found.seen) found.seen = false; else cache.delete(id); }
    const same = nodes.length === container.children.length && nodes.every((n, i) => container.children[i] === n);
    if (!same) container.replaceChildren(...nodes);
  }

  function renderAgents(all, now) {
    document.getElementById("agent-count").textContent = "(" + all.length + ")";
    // How many in each state, and only the chosen state's tiles when the floor is large.
    const counts = {};
    for (const a of all) counts[a.state] = (counts[a.state] || 0) + 1;
    document.getElementById("agent-states").textContent = Object.keys(counts).sort().map((s) => Hotline.term("state", s) + " " + counts[s]).join(" · ");
    const only = document.getElementById("agent-filter").value;
    const agents = only ? all.filter((a) => a.state === only) : all;
    place(document.getElementById("agent-grid"), agentTiles, agents.sort((a, b) => a.id.localeCompare(b.id)).map((a) => {
      const div = kept(agentTiles, a.id, a.state + " " + (a.call || ""), () => tileOf(a));
      div.dataset.state = a.state;
      div.querySelector(".name .state").textContent = " · " + Hotline.term("state", a.state) + " " + Hotline.seconds((now - (a.since_ms || now)) / 1000);
      div.querySelector(".muted").textContent = (a.seat || "") + (a.pause_reason ? " · " + Hotline.term("reason", a.pause_reason) : "") +
        (a.caller ? " · " + a.caller + " " + (a.tier ? Hotline.term("tier", a.tier) : "") : "");
      return div;
    }));
  }

  function tileOf(a) {
    const div = document.createElement("div");
    div.className = "agent";
    div.dataset.agent = a.id;
    const name = document.createElement("div");
    name.className = "name";
    const state = document.createElement("span");
    state.className = "state";
    name.append(Hotline.dataSpan(a.id), state);
    const detail = document.createElement("div");
    detail.className = "muted";
    const acts = document.createElement("div");
    acts.className = "acts";
    if (a.call && a.state === "busy") {
      for (const mode of ["listen", "whisper", "barge"]) {
        acts.appendChild(button(Hotline.say(mode), () => Hotline.api("POST", "/api/calls/" + encodeURIComponent(a.call) + "/" + mode, { seat: seat() })));
      }
    }
    acts.appendChild(button(Hotline.say("pause"), () => Hotline.api("POST", "/api/agents/" + encodeURIComponent(a.id) + "/pause", {})));
    acts.appendChild(button(Hotline.say("sign_out"), () => Hotline.api("POST", "/api/agents/" + encodeURIComponent(a.id) + "/logout", {})));
    div.append(name, detail, acts);
    return div;
  }

  // The campaigns under way (running, paused): callees done of all, and what their calls ended in.
  const CAMPAIGN_FIGURES = ["total", "done", "confirmed", "to_agent", "machine", "retrying", "in_flight", "failed", "lost"];
  let campaignsShown = "";
  function renderCampaigns(campaigns) {
    const seen = JSON.stringify(campaigns);
    if (seen === campaignsShown) return;
    campaignsShown = seen;
    document.getElementById("campaign-card").hidden = campaigns.length === 0;
    document.querySelector("#campaign-progress tbody").replaceChildren(...campaigns.map((c) => {
      // The name says the kind already (计划停电通知：…) unless someone named it otherwise: the kind is its tooltip.
      const tr = row([Hotline.dataSpan(c.name), Hotline.termSpan("campaign_state", c.state), "", ...CAMPAIGN_FIGURES.map((k) => c[k])]);
      tr.dataset.campaign = c.id;
      tr.cells[0].title = Hotline.term("campaign_kind", c.kind);
      const bar = document.createElement("progress");
      bar.max = Math.max(c.total, 1);
      bar.value = c.done;
      tr.cells[2].appendChild(bar);
      return tr;
    }));
  }

  // The self-service funnel (cti/web/live.py documents it): the calls in the IVR now by the menu each waits at,
  // today's containment of the day's calls, and the menus where callers most often give up or fail three times.
  const OUTCOMES = ["completed", "human", "abandoned", "error"];
  let funnelShown = "";
  function renderFunnel(ivr) {
    const seen = JSON.stringify(ivr);
    if (seen === funnelShown) return;
    funnelShown = seen;
    const ok = ivr.available === true;
    document.getElementById("ivr-unavailable").hidden = ok;
    Hotline.text("ivr-now", ok ? ivr.in_ivr : null);
    Hotline.text("ivr-calls", ok ? ivr.calls_today : null);
    Hotline.text("ivr-containment", ok ? Hotline.percent(ivr.containment) : null);
    // The figures behind the percentage, for whoever reads the page by machine.
    const rate = document.getElementById("ivr-containment");
    rate.dataset.calls = ok ? ivr.calls_today : "";
    rate.dataset.completed = ok ? ivr.outcomes.completed : "";
    Hotline.text("ivr-outcomes", ok ? OUTCOMES.map((o) => Hotline.term("contact_outcome", o) + " " + (ivr.outcomes[o] || 0)).join(" · ") : null);
    const waiting = Object.entries(ok ? ivr.at_menu : {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    document.querySelector("#ivr-menus tbody").replaceChildren(
      ...waiting.map(([menu, calls]) => row([Hotline.termSpan("ivr_step", menu), calls])));
    document.querySelector("#ivr-trouble tbody").replaceChildren(
      ...(ok ? ivr.trouble : []).map((s) => row([Hotline.termSpan("ivr_step", s.menu), s.gave_up, s.failed])));
  }

  function renderChart(intervals) {
    const svg = document.getElementById("chart");
    const ns = "http://www.w3.org/2000/svg";
    const max = Math.max(1, ...intervals.map((i) => i.offered || 0));
    const w = 480 / Math.max(intervals.length, 1);
    const parts = [];
    let line = "";
    intervals.forEach((i, n) => {
      const h = 110 * (i.offered || 0) / max;
      const bar = document.createElementNS(ns, "rect");
      bar.setAttribute("class", "bar-offered");
      bar.setAttribute("x", n * w + 1); bar.setAttribute("y", 120 - h); bar.setAttribute("width", Math.max(w - 2, 1)); bar.setAttribute("height", h);
      parts.push(bar);
      const ha = 110 * (i.abandoned || 0) / max;
      const ab = document.createElementNS(ns, "rect");
      ab.setAttribute("class", "bar-abandoned");
      ab.setAttribute("x", n * w + 1); ab.setAttribute("y", 120 - ha); ab.setAttribute("width", Math.max(w - 2, 1)); ab.setAttribute("height", ha);
      parts.push(ab);
      if (i.service_level != null) line += (line ? " L" : "M") + (n * w + w / 2) + " " + (120 - 110 * i.service_level);
      if (n % 4 === 0) {
        const label = document.createElementNS(ns, "text");
        label.setAttribute("x", n * w); label.setAttribute("y", 136);
        label.textContent = Hotline.clock(i.start).slice(0, 5);
        parts.push(label);
      }
    });
    if (line) { const path = document.createElementNS(ns, "path"); path.setAttribute("class", "sl"); path.setAttribute("d", line); parts.push(path); }
    svg.replaceChildren(...parts);
  }

  // Time in state moves on between snapshots.
  setInterval(() => { if (last) { last.at_ms += 1000; render(last); } }, 1000);

  document.getElementById("agent-filter").addEventListener("change", () => { if (last) render(last); });
  Hotline.live((m) => { if (m.type === "monitor.floor") render(m.data); });
  Hotline.api("GET", "/api/monitor").then(render).catch(fail);
})();
