// The agent desktop: state controls, the screen-pop as the call rings, and the after-call work.
"use strict";
(() => {
  const me = document.body.dataset.agent;
  const pop = document.getElementById("screenpop");
  const error = document.getElementById("desk-error");
  let call = null;        // the live call's id
  let contactId = null;   // its contact record, for the disposition and work orders
  let customerId = null;  // the customer on the call (opt-outs)
  let wrapTimer = null;

  function fail(e) { error.textContent = e.message; error.hidden = false; }
  function clearError() { error.hidden = true; }

  async function refresh() {
    const data = await Hotline.api("GET", "/api/agent");
    const state = data.state.state || "logged_out";
    const badge = document.getElementById("agent-state");
    badge.dataset.state = state;
    badge.textContent = Hotline.term("state", state);
    const reason = data.state.pause_reason;
    document.getElementById("state-since").textContent = reason ? "(" + Hotline.term("reason", reason) + ")" : "";
    if (data.call && data.call !== call) await loadPop(data.call);
  }

  function renderPop(data) {
    const c = data.call || {};
    const customer = data.customer;
    const contact = data.contact;
    call = c.id;
    contactId = contact ? contact.id : contactId;
    pop.dataset.call = c.id || "";
    Hotline.text("pop-caller", c.caller);
    shown("pop-intent", c.intent ? Hotline.termSpan("intent", c.intent) : null);
    const tier = customer ? customer.tier : c.tier;
    shown("pop-tier", tier ? Hotline.termSpan("tier", tier) : null);
    Hotline.text("pop-manager", customer ? customer.account_manager : c.manager);
    Hotline.text("pop-account", c.account);
    Hotline.text("pop-customer", customer ? customer.name : null);
    Hotline.text("pop-verified", contact ? (contact.verified ? "✔" : "✘") + " " + (contact.identified ? Hotline.term("identified", contact.identified) : "") : null);
    const bills = customer ? customer.bills : [];
    const due = bills.reduce((sum, b) => sum + (b.amount_due_fen || 0), 0);
    const arrears = bills.reduce((sum, b) => sum + (b.arrears_fen || 0), 0);
    Hotline.text("pop-bills", customer ? Hotline.yuan(due) : null);
    Hotline.text("pop-arrears", customer ? Hotline.yuan(arrears) : null);
    // A callee of an outbound notice who asked for a person: which notice, so the agent knows what they heard.
    const campaign = data.campaign;
    shown("pop-campaign", campaign ? [Hotline.termSpan("campaign_kind", campaign.kind), " · ", Hotline.dataSpan(campaign.name), " #" + campaign.id] : null);
    customerId = customer ? customer.customer_id : null;
    document.getElementById("optout-done").hidden = true;
    list("pop-path", contact ? contact.ivr_path : [], (s) => [Hotline.termSpan("ivr_step", s.step), s.key ? " [" + s.key + "]" : "",
      s.result ? " " : "", s.result ? Hotline.termSpan("ivr_result", s.result) : ""]);
    list("pop-outages", customer ? customer.current_outages.concat(customer.upcoming_outages) : [], (o) => [Hotline.dataSpan(o.reason), " · ", Hotline.dataSpan(o.where)]);
    list("pop-contacts", customer ? customer.recent_contacts : [], (x) => [Hotline.moment(x.started_at).slice(0, 16) + " ",
      x.disposition ? Hotline.termSpan("disposition", x.disposition) : x.outcome ? Hotline.termSpan("contact_outcome", x.outcome) : ""]);
    list("pop-orders", customer ? customer.open_work_orders : [], (w) => [w.number + " ", Hotline.termSpan("kind", w.kind), " ", Hotline.dataSpan(w.summary)]);
  }

  // A fact of the screen-pop: a term, or text and terms side by side; "—" when there is none.
  function shown(id, parts) {
    const el = document.getElementById(id);
    if (parts === null || parts === undefined) el.replaceChildren("—"); else el.replaceChildren(...[].concat(parts));
  }

  function list(id, items, parts) {
    const ul = document.getElementById(id);
    ul.replaceChildren(...items.map((item) => { const li = document.createElement("li"); li.append(...parts(item)); return li; }));
  }

  async function loadPop(id) {
    try { renderPop(await Hotline.api("GET", "/api/calls/" + encodeURIComponent(id) + "/screenpop")); } catch (e) { fail(e); }
  }

  function phase(name) {
    document.getElementById("call-phase").textContent = name;
    pop.classList.toggle("ringing", name === pop.dataset.ringingWord);
  }
  pop.dataset.ringingWord = Hotline.say("incoming");

  function countdown(seconds) {
    clearInterval(wrapTimer);
    const el = document.getElementById("wrapup-timer");
    let left = seconds;
    el.textContent = left + "s";
    wrapTimer = setInterval(() => { left -= 1; el.textContent = left > 0 ? left + "s" : ""; if (left <= 0) clearInterval(wrapTimer); }, 1000);
  }

  Hotline.live(async (m) => {
    if (m.type === "screenpop") { renderPop(m.data); phase(pop.dataset.ringingWord); document.getElementById("saved").hidden = true; document.getElementById("order-number").textContent = ""; }
    if (m.type === "queue.connect" && m.agent === me) phase(Hotline.say("connected"));
    if ((m.type === "queue.noanswer" || m.type === "queue.reject" || m.type === "queue.abandon") && m.agent === me) { phase("—"); }
    if (m.type === "queue.complete" || m.type === "queue.transfer") phase(Hotline.say("wrap_up"));
    if (m.type === "agent.wrapup" && m.agent === me) countdown(m.data.seconds || 0);
    // An offer, a connect or a failed offer changes the agent's state too, though no agent.* event says so.
    const mine = m.agent === me && ["queue.offer", "queue.connect", "queue.noanswer", "queue.reject", "queue.abandon", "queue.complete", "queue.transfer"].includes(m.type);
    if (mine || m.type.startsWith("agent.") || m.type === "resync" || m.type === "hello") { try { await refresh(); } catch (e) { fail(e); } }
  });

  function on(id, handler) {
    document.getElementById(id).addEventListener("click", async () => { clearError(); try { await handler(); await refresh(); } catch (e) { fail(e); } });
  }
  on("btn-login", () => Hotline.api("POST", "/api/agent/login", { seat: document.getElementById("seat").value }));
  on("btn-ready", () => Hotline.api("POST", "/api/agent/ready", {}));
  on("btn-pause", () => Hotline.api("POST", "/api/agent/pause", { reason: document.getElementById("pause-reason").value }));
  on("btn-logout", () => Hotline.api("POST", "/api/agent/logout", {}));
  on("btn-hangup", () => Hotline.api("POST", "/api/calls/" + encodeURIComponent(call) + "/hangup", {}));
  on("btn-transfer", () => Hotline.api("POST", "/api/calls/" + encodeURIComponent(call) + "/transfer", { target: document.getElementById("transfer-target").value }));

  document.getElementById("wrapup-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    clearError();
    const topics = document.getElementById("topics").value.split(/[,，、\s]+/).filter(Boolean);
    try {
      await Hotline.api("POST", "/api/contacts/" + contactId + "/wrapup", {
        disposition: document.getElementById("disposition").value, notes: document.getElementById("notes").value, topics });
      document.getElementById("saved").hidden = false;
    } catch (err) { fail(err); }
  });
  document.getElementById("optout-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    clearError();
    const kinds = [...document.querySelectorAll("#optout-form input[name=kinds]:checked")].map((box) => box.value);
    try {
      if (customerId === null) throw new Error(Hotline.say("no_customer"));
      await Hotline.api("POST", "/api/customers/" + customerId + "/opt-out", { kinds });
      document.getElementById("optout-done").hidden = false;
    } catch (err) { fail(err); }
  });
  document.getElementById("order-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    clearError();
    try {
      const order = await Hotline.api("POST", "/api/work-orders", {
        contact_id: contactId, kind: document.getElementById("order-kind").value, summary: document.getElementById("order-summary").value });
      document.getElementById("order-number").textContent = order.number;
    } catch (err) { fail(err); }
  });

  refresh().catch(fail);
})();
