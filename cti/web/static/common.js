// Shared by every page: the CSRF token on every state-changing request, the language switch, the live socket.
"use strict";
const Hotline = (() => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  async function api(method, path, body) {
    const options = { method, headers: { "X-CSRFToken": csrf, Accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    let data = null;
    try { data = await response.json(); } catch (e) { data = { detail: response.statusText }; }
    if (!response.ok) {
      const error = new Error((data && data.detail) || response.statusText);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  // One socket per page, reopened after a drop; onMessage gets every message as an object.
  function live(onMessage) {
    const banner = document.getElementById("live-status");
    let delay = 500;
    function open() {
      const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
      ws.onopen = () => { delay = 500; banner.hidden = true; };
      ws.onmessage = (m) => {
        const message = JSON.parse(m.data);
        if (message.type === "live.lost") banner.hidden = false;
        // hello says whether the server hears the ACD now; live.restored carries no flag: it is live again.
        if (message.type === "hello") banner.hidden = message.live !== false;
        if (message.type === "live.restored") banner.hidden = true;
        onMessage(message);
      };
      ws.onclose = () => { banner.hidden = false; setTimeout(open, delay); delay = Math.min(delay * 2, 5000); };
    }
    open();
  }

  function text(id, value) {
    const el = document.getElementById(id);
    if (el) el.textContent = value === undefined || value === null || value === "" ? "—" : String(value);
  }

  function yuan(fen) { return (fen / 100).toFixed(2) + (document.body.dataset.lang === "en" ? " CNY" : " 元"); }
  function seconds(s) {
    s = Math.max(0, Math.round(s));
    return s >= 60 ? Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0") : s + "s";
  }
  // A moment as the utility's wall clock (China Standard Time), HH:MM:SS.
  function clock(iso) {
    if (!iso) return "";
    return new Date(iso).toLocaleTimeString("en-GB", { timeZone: "Asia/Shanghai", hour12: false });
  }
  // Agents' states as a person reads them.
  const STATES = {
    ready: ["示闲", "Ready"], ringing: ["振铃", "Ringing"], busy: ["通话", "On a call"], wrap_up: ["整理", "Wrap-up"],
    paused: ["示忙", "Paused"], held: ["暂停派话", "Held back"], logged_out: ["未签入", "Signed out"],
  };
  function stateName(state) {
    const names = STATES[state];
    return names ? names[document.body.dataset.lang === "en" ? 1 : 0] : state;
  }
  // A moment as the utility's local date and time (China Standard Time), "YYYY-MM-DD HH:MM:SS": the API gives UTC.
  function moment(iso) {
    if (!iso) return "";
    return new Date(iso).toLocaleString("sv-SE", { timeZone: "Asia/Shanghai", hour12: false });
  }
  function percent(x) { return x === null || x === undefined ? "—" : (100 * x).toFixed(0) + "%"; }

  document.getElementById("lang-switch").addEventListener("click", (e) => {
    document.cookie = "lang=" + e.target.dataset.to + "; path=/; max-age=31536000; samesite=lax";
    location.reload();
  });

  // Time left until a deadline; past it, how long overdue with a minus sign.
  function left(s) { return s < 0 ? "-" + seconds(-s) : seconds(s); }

  // Pause reasons and customer tiers as the page's language says them.
  const WORDS = {
    break: ["小休", "Break"], meal: ["用餐", "Meal"], training: ["培训", "Training"], meeting: ["会议", "Meeting"],
    after_call_work: ["话后处理", "After-call work"], other: ["其他", "Other"], supervisor: ["班长示忙", "By supervisor"],
    "missed calls": ["未接来电", "Missed calls"], "seat unreachable": ["话机不可达", "Seat unreachable"],
    key_account: ["大客户", "Key account"], standard: ["普通", "Standard"], attention: ["关注", "Attention"],
    planned_outage: ["计划停电通知", "Planned outage notice"], restoration: ["复电通知", "Restoration notice"],
    bill_reminder: ["电费提醒", "Bill reminder"], arrears_notice: ["欠费催缴", "Arrears notice"],
  };
  function word(value) {
    const names = WORDS[value];
    return names ? names[document.body.dataset.lang === "en" ? 1 : 0] : value;
  }

  return { api, live, text, yuan, seconds, left, percent, clock, moment, stateName, word };
})();
