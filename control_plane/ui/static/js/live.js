// Live updates without reloading: every element with data-live-url and data-live-interval
// is refreshed from that URL (a server-rendered fragment) until the fragment carries
// data-done. With data-live-version-url (the newest event's id), the fragment is read only
// when that number moved, i.e. when some run changed. Focus and open <details> survive the swap, so keyboard users keep their place;
// a change of the run's state (data-state) is announced to screen readers, nothing else.

function focusKey(el) {
  const form = el.closest("form");
  if (form) return { selector: `form[action="${form.getAttribute("action")}"] button` };
  if (el.getAttribute("href")) return { selector: `a[href="${el.getAttribute("href")}"]` };
  return null;
}

function swap(container, html) {
  const active = container.contains(document.activeElement) ? focusKey(document.activeElement) : null;
  const open = [...container.querySelectorAll("details")].map((d) => d.open);
  container.innerHTML = html;
  container.querySelectorAll("details").forEach((d, i) => {
    if (open[i]) d.open = true;
  });
  if (active) container.querySelector(active.selector)?.focus();
}

function follow(container) {
  const interval = Number(container.dataset.liveInterval);
  let last = null;
  let version = container.dataset.liveVersion;
  const changed = async () => {
    if (!container.dataset.liveVersionUrl) return true;
    const response = await fetch(container.dataset.liveVersionUrl, { cache: "no-store", credentials: "same-origin" });
    if (!response.ok || response.redirected) return response.redirected;
    const now = String((await response.json()).id);
    if (now === version) return false;
    version = now;
    return true;
  };
  const tick = async () => {
    try {
      if (!(await changed())) {
        window.setTimeout(tick, interval);
        return;
      }
      const response = await fetch(container.dataset.liveUrl, { cache: "no-store", credentials: "same-origin" });
      if (response.redirected && new URL(response.url).pathname === "/ui/login") {
        window.location.reload();
        return;
      }
      if (response.ok) {
        const html = await response.text();
        if (html !== last) {
          const before = container.querySelector("[data-state]")?.dataset.state;
          swap(container, html);
          last = html;
          const after = container.querySelector("[data-state]")?.dataset.state;
          const announce = document.getElementById("live-announce");
          if (announce && after && after !== before) announce.textContent = `Run is now ${after}`;
        }
        if (container.querySelector("[data-done]")) {
          document.dispatchEvent(new CustomEvent("pushflow:done"));
          return;
        }
      }
    } catch (error) {
      // The server may be restarting: try again on the next tick.
    }
    window.setTimeout(tick, interval);
  };
  window.setTimeout(tick, interval);
}

document.querySelectorAll("[data-live-url][data-live-interval]").forEach(follow);
