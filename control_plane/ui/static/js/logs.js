// The run page's log panel: follows new lines, filters by level and text.
const section = document.querySelector("[data-logs-url]");
const list = document.getElementById("log-lines");
const level = document.getElementById("log-level");
const search = document.getElementById("log-search");
const followBox = document.getElementById("log-follow");
const count = document.getElementById("log-count");
const LEVELS = { 10: "DEBUG", 20: "INFO", 30: "WARNING", 40: "ERROR", 50: "CRITICAL" };

let lastId = Math.max(0, ...[...list.children].map((li) => Number(li.dataset.id)));
let pollsLeftAfterDone = Infinity;

function applyFilters() {
  const min = Number(level.value);
  const text = search.value.trim().toLowerCase();
  let shown = 0;
  for (const li of list.children) {
    const visible =
      Number(li.dataset.level) >= min && (!text || li.querySelector(".msg").textContent.toLowerCase().includes(text));
    li.hidden = !visible;
    if (visible) shown += 1;
  }
  count.textContent = `${shown} of ${list.children.length} lines shown`;
}

function append(lines) {
  for (const line of lines) {
    const li = document.createElement("li");
    li.dataset.id = line.id;
    li.dataset.level = line.level;
    li.className = `lvl-${line.level}`;
    const time = document.createElement("time");
    time.textContent = line.time.replace("T", " ").slice(0, 19) + "Z";
    const lvl = document.createElement("span");
    lvl.className = "lvl";
    lvl.textContent = LEVELS[line.level] || String(line.level);
    const msg = document.createElement("span");
    msg.className = "msg";
    msg.textContent = line.message;
    li.append(time, " ", lvl, " ", msg);
    list.append(li);
    lastId = Math.max(lastId, line.id);
  }
  if (lines.length) document.getElementById("no-logs")?.remove();
}

async function poll() {
  try {
    const response = await fetch(`${section.dataset.logsUrl}?after=${lastId}`, { cache: "no-store" });
    if (response.ok) {
      const lines = await response.json();
      append(lines);
      applyFilters();
      if (lines.length && followBox.checked) list.scrollTop = list.scrollHeight;
    }
  } catch (error) {
    // try again on the next tick
  }
  pollsLeftAfterDone -= 1;
  if (pollsLeftAfterDone > 0) window.setTimeout(poll, 1000);
}

level.addEventListener("change", applyFilters);
search.addEventListener("input", applyFilters);
// Lines may still arrive just after the run ends: a few more polls, then stop.
document.addEventListener("pushflow:done", () => {
  pollsLeftAfterDone = Math.min(pollsLeftAfterDone, 3);
});
applyFilters();
list.scrollTop = list.scrollHeight;
// A finished run: one more read picks up lines past the first server-rendered page.
if (!document.querySelector("[data-live-interval]")) pollsLeftAfterDone = 1;
poll();
