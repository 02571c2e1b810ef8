// The campaigns page: every open campaign with its progress and the buttons its state allows, the outages a
// notice can be made for, and the bill-reminder / arrears-notice form. Refreshed every few seconds.
"use strict";
(() => {
  const error = document.getElementById("campaigns-error");
  const FIGURES = ["total", "done", "confirmed", "to_agent", "machine", "retrying", "failed", "lost"];
  const EVERY_MS = 4000;

  function fail(e) { error.textContent = e.message; error.hidden = false; }
  function cell(content) {
    const td = document.createElement("td");
    if (content instanceof Node) td.appendChild(content); else td.textContent = content == null ? "—" : content;
    return td;
  }
  function button(label, action, handler, primary) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.dataset.action = action;
    if (primary) b.className = "primary";
    b.addEventListener("click", async () => {
      error.hidden = true;
      b.disabled = true;
      try { await handler(); } catch (e) { fail(e); } finally { b.disabled = false; }
    });
    return b;
  }

  // A campaign's bar: callees done of all (managers' tasks are counted beside it).
  function bar(f) {
    const wrap = document.createElement("span");
    wrap.className = "progress-cell";
    const progress = document.createElement("progress");
    progress.max = Math.max(f.total, 1);
    progress.value = f.done;
    const label = document.createElement("span");
    label.className = "muted";
    label.textContent = f.done + "/" + f.total;
    wrap.append(progress, label);
    return wrap;
  }

  function campaignRow(c) {
    const tr = document.createElement("tr");
    tr.dataset.campaign = c.id;
    const badge = document.createElement("span");
    badge.className = "state-badge campaign-state";
    badge.dataset.campaignState = c.state;
    badge.dataset.value = c.state;
    badge.textContent = Hotline.term("campaign_state", c.state);
    const f = c.figures;
    const acts = document.createElement("span");
    acts.className = "acts";
    for (const a of c.actions) {
      acts.appendChild(button(Hotline.term("campaign_action", a), a, async () => {
        await Hotline.api("POST", "/api/campaigns/" + c.id + "/" + a, {});
        await load();
      }, a === "start"));
    }
    tr.append(cell(Hotline.dataSpan(c.name)), cell(Hotline.termSpan("campaign_kind", c.kind)), cell(badge), cell(bar(f)),
      ...FIGURES.map((k) => cell(f[k])), cell(f.tasks ? f.tasks_done + "/" + f.tasks : "—"),
      cell(Hotline.moment(c.created_at).slice(0, 16)), cell(acts));
    return tr;
  }

  // Redrawn only when something changed: a redraw under the pointer would swallow a click on its buttons.
  let shown = "";
  async function load() {
    try {
      const data = await Hotline.api("GET", "/api/campaigns");
      const seen = JSON.stringify(data.campaigns);
      if (seen !== shown) {
        shown = seen;
        document.querySelector("#campaigns tbody").replaceChildren(...data.campaigns.map(campaignRow));
      }
      document.getElementById("campaigns-empty").hidden = data.campaigns.length > 0;
      document.getElementById("campaigns-updated").textContent = Hotline.clock(new Date().toISOString());
    } catch (e) { fail(e); }
  }

  function window_(o) {
    return Hotline.moment(o.starts_at).slice(0, 16) + " – " + (o.expected_restoration_at ? Hotline.moment(o.expected_restoration_at).slice(0, 16) : "?");
  }

  async function loadOutages() {
    try {
      const planned = await Hotline.api("GET", "/api/outages?planned=1");
      document.querySelector("#planned-outages tbody").replaceChildren(...planned.outages.map((o) => {
        const tr = document.createElement("tr");
        tr.dataset.outage = o.id;
        tr.append(cell(Hotline.dataSpan(o.where)), cell(Hotline.dataSpan(o.reason)), cell(window_(o)), cell(button(Hotline.say("notify"), "notify", async () => {
          await Hotline.api("POST", "/api/campaigns", { kind: "planned_outage", outage_id: o.id });
          await load();
        })));
        return tr;
      }));
      const fromCalls = await Hotline.api("GET", "/api/outages");
      document.querySelector("#call-outages tbody").replaceChildren(...fromCalls.outages.map((o) => {
        const tr = document.createElement("tr");
        tr.dataset.outage = o.id;
        tr.append(cell(Hotline.dataSpan(o.where)), cell(Hotline.dataSpan(o.reason)), cell(o.reports), cell(button(Hotline.say("restore_notify"), "restore", async () => {
          const restored = await Hotline.api("POST", "/api/outages/" + o.id + "/restore", { notify: true });
          if (restored.campaign_error) fail(new Error(restored.campaign_error));
          await Promise.all([load(), loadOutages()]);
        })));
        return tr;
      }));
    } catch (e) { fail(e); }
  }

  const form = document.getElementById("bill-form");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    const fields = new FormData(form);
    const body = {
      kind: fields.get("kind"),
      due_within_days: Number(fields.get("due_within_days") || 0),
      min_amount_fen: Math.max(1, Math.round(Number(fields.get("min_amount") || 0) * 100)),
      start: fields.get("start") === "1",
    };
    if (fields.get("name")) body.name = fields.get("name");
    try {
      const made = await Hotline.api("POST", "/api/campaigns", body);
      const left = made.opted_out + made.without_phone;
      document.getElementById("bill-made").replaceChildren(Hotline.dataSpan(made.name), " · " + made.figures.total +
        (left ? " · " + Hotline.say("left_out") + " " + left : ""));
      await load();
    } catch (err) { fail(err); }
  });

  load();
  loadOutages();
  setInterval(load, EVERY_MS);
})();
