// Agent assessment for a period: one row per agent, and their recordings to play back here.
"use strict";
(() => {
  const error = document.getElementById("assessment-error");
  const player = document.getElementById("player");
  const today = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
  document.getElementById("from").value = today;
  document.getElementById("to").value = today;

  function cell(content) {
    const td = document.createElement("td");
    if (content instanceof Node) td.appendChild(content); else td.textContent = content;
    return td;
  }

  function pauses(list) {
    return (list || []).map((p) => Hotline.term("reason", p.reason) + " " + Hotline.seconds(p.seconds)).join(", ") || "—";
  }

  function recordings(list) {
    const span = document.createElement("span");
    for (const r of (list || []).filter((r) => r.contact_id != null)) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "link";
      b.textContent = "▶ " + Hotline.clock(r.started_at);
      b.addEventListener("click", () => { player.src = "/api/recordings/" + r.contact_id; player.hidden = false; player.play(); });
      span.appendChild(b);
      span.appendChild(document.createTextNode(" "));
    }
    return span;
  }

  async function load() {
    error.hidden = true;
    const from = document.getElementById("from").value;
    const to = document.getElementById("to").value;
    try {
      const data = await Hotline.api("GET", "/api/assessment?from=" + from + "&to=" + to);
      const rows = data.agents.map((a) => {
        const tr = document.createElement("tr");
        tr.append(cell(Hotline.dataSpan(a.agent + (a.name ? " " + a.name : ""))), cell(a.calls_handled),
          cell(a.aht_s == null ? "—" : Hotline.seconds(a.aht_s)),
          cell(a.average_wrap_up_s == null ? "—" : Hotline.seconds(a.average_wrap_up_s)),
          cell(a.satisfaction_average == null ? "—" : a.satisfaction_average.toFixed(2) + " (" + a.satisfaction_count + ")"),
          cell(a.orders_created), cell(a.orders_returned), cell(pauses(a.pauses)), cell(recordings(a.recordings)));
        return tr;
      });
      document.querySelector("#assessment tbody").replaceChildren(...rows);
    } catch (e) { error.textContent = e.message; error.hidden = false; }
  }

  document.getElementById("period-form").addEventListener("submit", (e) => { e.preventDefault(); load(); });
  load();
})();
