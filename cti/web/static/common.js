// Shared by every page: the CSRF token on every state-changing request, the page's words, the language switch, the
// live socket.
"use strict";
const Hotline = (() => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  // The page's words in its language: cti/web/i18n.py's table, which base.html puts in every page.
  const WORDS = JSON.parse(document.getElementById("words").textContent);

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

  // A word of the table; {name}s in it filled in from `values`.
  function say(key, values) {
    let word = WORDS[key] ?? key;
    for (const [name, value] of Object.entries(values || {})) word = word.replace("{" + name + "}", value);
    return word;
  }
  // A value of one of the vocabularies (tier, state, kind, order_state, reason, intent...) as the page's language
  // says it, looked up by the value ("tier.key_account"); a value the table lacks is shown as it is.
  function term(vocabulary, value) { return WORDS[vocabulary + "." + value] ?? value; }
  // An element showing a term, with the value behind it in data-value.
  function termSpan(vocabulary, value) {
    const span = document.createElement("span");
    span.dataset.value = value;
    span.textContent = term(vocabulary, value);
    return span;
  }
  // An element showing database text (a name, an address, a summary, a login): shown as it is, in any language.
  function dataSpan(text) {
    const span = document.createElement("span");
    span.className = "data";
    span.textContent = text;
    return span;
  }
  // An ACD group ("skill:billing", "team:key_accounts", "agent:A1001", "all") as a person reads it; a skill or team
  // the table does not know is shown by its configured name.
  function queue(name) {
    const span = document.createElement("span");
    span.dataset.value = name;
    const colon = name.indexOf(":");
    const pattern = colon < 0 ? undefined : WORDS["queue." + name.slice(0, colon)];
    if (pattern === undefined) {
      span.textContent = term("queue", name);
      return span;
    }
    const who = name.slice(colon + 1);
    const [before, after] = pattern.split("{name}");
    span.append(before, WORDS[name.slice(0, colon) + "." + who] ?? dataSpan(who), after);
    return span;
  }

  function yuan(fen) { return (fen / 100).toFixed(2) + " " + say("yuan"); }
  function seconds(s) {
    s = Math.max(0, Math.round(s));
    return s >= 60 ? Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0") : s + "s";
  }
  // A moment as the utility's wall clock (China Standard Time), HH:MM:SS.
  function clock(iso) {
    if (!iso) return "";
    return new Date(iso).toLocaleTimeString("en-GB", { timeZone: "Asia/Shanghai", hour12: false });
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

  return { api, live, text, say, term, termSpan, dataSpan, queue, yuan, seconds, left, percent, clock, moment };
})();
