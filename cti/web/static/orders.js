// The dispatcher's list of work orders, filtered; overdue orders first when asked for.
"use strict";
(() => {
  const form = document.getElementById("order-filter");
  const error = document.getElementById("orders-error");
  async function load() {
    error.hidden = true;
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) params.set(k, v);
    try {
      const data = await Hotline.api("GET", "/api/work-orders?" + params);
      document.getElementById("order-total").textContent = data.total;
      document.querySelector("#orders tbody").replaceChildren(...data.items.map((o) => {
        const tr = document.createElement("tr");
        if (o.overdue) tr.className = "error";
        const link = document.createElement("a");
        link.href = "/orders/" + encodeURIComponent(o.number);
        link.textContent = o.number;
        const cells = [link, o.kind, o.state, o.customer_name || (o.anonymous ? "(anonymous)" : "—"), o.summary, o.county || "—",
          o.contact_deadline ? Hotline.moment(o.contact_deadline).slice(0, 16) : "—", o.time_left == null ? "—" : Hotline.left(o.time_left)];
        for (const c of cells) { const td = document.createElement("td"); if (c instanceof Node) td.appendChild(c); else td.textContent = c; tr.appendChild(td); }
        return tr;
      }));
    } catch (e) { error.textContent = e.message; error.hidden = false; }
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
  load();
})();
