// A websocket that reconnects with backoff. onOpen runs after every (re)connect, so a page can
// re-read what it missed from the API: the database is the truth, the socket only says "changed".
window.pdLive = function (path, handlers) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  let delay = 500;
  let closedByPage = false;
  const indicator = document.getElementById("live");
  function say(text, cls) { if (indicator) { indicator.textContent = text; indicator.className = "live " + (cls || ""); } }
  function connect() {
    const ws = new WebSocket(`${scheme}://${location.host}${path}`);
    ws.onopen = () => { delay = 500; say("live", "on"); if (handlers.onOpen) handlers.onOpen(); };
    ws.onmessage = (msg) => {
      const event = JSON.parse(msg.data);
      const fn = handlers[event.type];
      if (fn) fn(event);
    };
    ws.onclose = () => {
      if (closedByPage) return;
      say("reconnecting…", "off");
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10000);
    };
    return ws;
  }
  connect();
  return { close() { closedByPage = true; } };
};
