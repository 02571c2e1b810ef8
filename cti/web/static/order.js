// One work order: its facts, its history, and the steps the viewer's role may take next.
"use strict";
(() => {
  const number = document.body.dataset.number;
  const error = document.getElementById("order-error");
  // Database text as it is; "—" for none.
  function data(text) { return text == null || text === "" ? "—" : Hotline.dataSpan(text); }
  function show(order) {
    const customer = order.customer_name ? Hotline.dataSpan(order.customer_name) : order.anonymous ? Hotline.say("anonymous") : "—";
    // [label, what is shown, the value behind a term]
    const facts = [["kind", Hotline.term("kind", order.kind), order.kind], ["state", Hotline.term("order_state", order.state), order.state], ["customer", customer],
      ["account", order.account_number], ["address", data(order.address)], ["area", data(order.transformer_area)], ["county", data(order.county)],
      ["deadline", Hotline.moment(order.contact_deadline)], ["time_left", order.time_left == null ? null : Hotline.left(order.time_left)],
      ["is_overdue", order.overdue ? Hotline.say("yes") : ""], ["crew", Hotline.moment(order.crew_expected_at)], ["summary", data(order.summary)]];
    document.getElementById("order-facts").replaceChildren(...facts.flatMap(([k, v, value]) => {
      const dt = document.createElement("dt"); dt.textContent = Hotline.say(k);
      const dd = document.createElement("dd"); dd.append(v == null || v === "" ? "—" : v);
      if (value) dd.dataset.value = value;
      return [dt, dd];
    }));
    document.getElementById("order-steps").replaceChildren(...order.steps.map((s) => {
      const li = document.createElement("li");
      li.append(Hotline.moment(s.at) + " ", Hotline.termSpan("order_action", s.action), " → ", Hotline.termSpan("order_state", s.to_state),
        " · ", Hotline.dataSpan(s.actor), ...(s.notes ? [" · ", Hotline.dataSpan(s.notes)] : []));
      return li;
    }));
    document.getElementById("order-actions").replaceChildren(...order.actions.map((a) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = Hotline.term("order_action", a);
      b.dataset.action = a;
      b.addEventListener("click", async () => {
        error.hidden = true;
        const body = { notes: document.getElementById("order-notes").value };
        const county = document.getElementById("order-county").value;
        if (a === "dispatch" && county) body.county_company_id = Number(county);
        try { show(await Hotline.api("POST", "/api/work-orders/" + encodeURIComponent(number) + "/" + a, body)); }
        catch (e) { error.textContent = e.message; error.hidden = false; }
      });
      return b;
    }));
  }
  Hotline.api("GET", "/api/counties").then((data) => {
    const select = document.getElementById("order-county");
    for (const c of data.counties) {
      const o = document.createElement("option");
      o.value = c.id;
      o.className = "data";
      o.textContent = c.code + " " + c.name;
      select.appendChild(o);
    }
  }).catch(() => {});
  Hotline.api("GET", "/api/work-orders/" + encodeURIComponent(number)).then(show).catch((e) => { error.textContent = e.message; error.hidden = false; });
})();
