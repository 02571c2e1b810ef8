// One work order: its facts, its history, and the steps the viewer's role may take next.
"use strict";
(() => {
  const number = document.body.dataset.number;
  const error = document.getElementById("order-error");
  function show(order) {
    const facts = [["kind", order.kind], ["state", order.state], ["customer", order.customer_name || (order.anonymous ? "(anonymous)" : "—")],
      ["account", order.account_number], ["address", order.address], ["area", order.transformer_area], ["county", order.county],
      ["deadline", Hotline.moment(order.contact_deadline)], ["left", order.time_left == null ? null : Hotline.left(order.time_left)],
      ["overdue", order.overdue ? "!" : ""], ["crew", Hotline.moment(order.crew_expected_at)], ["summary", order.summary]];
    document.getElementById("order-facts").replaceChildren(...facts.flatMap(([k, v]) => {
      const dt = document.createElement("dt"); dt.textContent = k;
      const dd = document.createElement("dd"); dd.textContent = v == null || v === "" ? "—" : v;
      return [dt, dd];
    }));
    document.getElementById("order-steps").replaceChildren(...order.steps.map((s) => {
      const li = document.createElement("li");
      li.textContent = Hotline.moment(s.at) + " " + s.action + " → " + s.to_state + " · " + s.actor + (s.notes ? " · " + s.notes : "");
      return li;
    }));
    document.getElementById("order-actions").replaceChildren(...order.actions.map((a) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = a;
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
    for (const c of data.counties) { const o = document.createElement("option"); o.value = c.id; o.textContent = c.code + " " + c.name; select.appendChild(o); }
  }).catch(() => {});
  Hotline.api("GET", "/api/work-orders/" + encodeURIComponent(number)).then(show).catch((e) => { error.textContent = e.message; error.hidden = false; });
})();
