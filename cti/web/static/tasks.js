// A key-account manager's list of notices to give in person (supervisors: anyone's), each marked done with notes.
"use strict";
(() => {
  const form = document.getElementById("task-filter");
  const error = document.getElementById("tasks-error");
  function fail(e) { error.textContent = e.message; error.hidden = false; }
  function cell(content) {
    const td = document.createElement("td");
    if (content instanceof Node) td.appendChild(content); else td.textContent = content == null || content === "" ? "—" : content;
    return td;
  }

  // What the manager tells, in one line: the same facts the robot's notice reads out.
  function message(task) {
    const m = task.message || {};
    const line = document.createElement("span");
    if (task.kind === "planned_outage") {
      line.append(Hotline.dataSpan(m.where), " · " + Hotline.moment(m.starts_at).slice(0, 16) + " – " +
        (m.ends_at ? Hotline.moment(m.ends_at).slice(0, 16) : "?") + " · ", Hotline.dataSpan(m.reason));
    } else if (task.kind === "restoration") {
      line.append(Hotline.dataSpan(m.where), " · " + Hotline.moment(m.restored_at).slice(0, 16));
    } else {
      line.append(Hotline.yuan(m.amount_fen || 0) + " · " + m.due_date + " · " + String(m.account_number || "").slice(-4));
    }
    return line;
  }

  function row(task) {
    const tr = document.createElement("tr");
    tr.dataset.task = task.id;
    const notes = document.createElement("input");
    notes.size = 24;
    notes.maxLength = 1024;
    notes.value = task.notes || "";
    notes.disabled = Boolean(task.done_at);
    let last;
    if (task.done_at) {
      last = Hotline.moment(task.done_at).slice(0, 16);
    } else {
      last = document.createElement("button");
      last.type = "button";
      last.textContent = Hotline.say("mark_done");
      last.addEventListener("click", async () => {
        error.hidden = true;
        try {
          await Hotline.api("POST", "/api/tasks/" + task.id + "/done", { notes: notes.value });
          await load();
        } catch (e) { fail(e); }
      });
    }
    tr.append(cell(Hotline.dataSpan(task.customer_name)), cell(task.phone), cell(Hotline.termSpan("campaign_kind", task.kind)), cell(message(task)),
      cell(Hotline.moment(task.created_at).slice(0, 16)), cell(notes), cell(last));
    return tr;
  }

  async function load() {
    error.hidden = true;
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) params.set(k, v);
    try {
      const data = await Hotline.api("GET", "/api/tasks?" + params);
      document.querySelector("#tasks tbody").replaceChildren(...data.tasks.map(row));
      document.getElementById("tasks-empty").hidden = data.tasks.length > 0;
    } catch (e) { fail(e); }
  }
  form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
  load();
})();
