// The dispatcher's list of work orders, filtered; overdue orders first when asked for.
"use strict";
(() => {
  const form = document.getElementById("order-filter");
  const error = document.getElementById("orders-error");
  // A cell; a term's cell keeps the value behind it in data-value.
  function cell(content, value) {
    const td = document.createElement("td");
    td.append(content);
    if (value !== undefined) td.dataset.value = value;
    return td;
  }
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
        const customer = o.customer_name ? Hotline.dataSpan(o.customer_name) : o.anonymous ? Hotline.say("anonymous") : "—";
        tr.append(cell(link), cell(Hotline.term("kind", o.kind), o.kind), cell(Hotline.term("order_state", o.state), o.state), cell(customer),
          cell(Hotline.dataSpan(o.summary)), cell(o.county ? Hotline.dataSpan(o.county) : "—"),
          cell(o.contact_deadline ? Hotline.moment(o.contact_deadline).slice(0, 16) : "—"), cell(o.time_left == null ? "—" : Hotline.left(o.time_left)));
        return tr;
      }));
    } catch (e) { error.textContent = e.message; error.hidden = false; }
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
  load();
})();
