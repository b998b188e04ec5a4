// outage-radar dashboard: services by status, reports/min vs expected and band (plotly.js from
// the plotly wheel, served locally), incident list with explanations, live updates over SSE.
"use strict";

const state = { services: [], incidents: new Map(), selected: null };

async function getJSON(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(url + ": " + res.status);
  return res.json();
}

function el(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

const fmt = (x) => (x === null || x === undefined ? "-" : Number(x).toFixed(x >= 100 ? 0 : 1));
const when = (iso) => (iso ? iso.replace("T", " ").replace(/(\.\d+)?Z$/, " UTC") : "-");

function renderServices() {
  const list = document.getElementById("services");
  list.replaceChildren(...state.services.map((s) => {
    const item = el("li", { class: "service", "data-id": s.id, "data-state": s.state });
    if (s.id === state.selected) item.classList.add("selected");
    item.append(el("span", { class: "name" }, s.id),
                el("span", { class: "num", title: "observed / expected" },
                   fmt(s.observed) + " / " + fmt(s.expected)));
    item.addEventListener("click", () => select(s.id));
    return item;
  }));
  const latest = state.services.map((s) => s.t).filter(Boolean).sort().pop();
  document.getElementById("asof").textContent = latest ? "data as of " + when(latest) : "";
}

function pickDefault() {
  // A service in trouble first; else the origin of the latest (possibly spreading) outage:
  // the earliest incident started within 15 minutes of the most recent one.
  if (state.selected && state.services.some((s) => s.id === state.selected)) return;
  const hot = state.services.find((s) => s.state !== "ok");
  const incidents = [...state.incidents.values()].sort(byStart);
  const latest = incidents[0] ? Date.parse(incidents[0].started_at) : null;
  const wave = incidents.filter((i) => latest - Date.parse(i.started_at) <= 15 * 60 * 1000);
  const origin = wave[wave.length - 1];
  state.selected = hot ? hot.id : origin ? origin.service : state.services[0]?.id ?? null;
}

const byStart = (a, b) => (a.started_at < b.started_at ? 1 : a.started_at > b.started_at ? -1 : 0);

function incidentCard(inc, fresh) {
  const card = el("article", { class: "incident", "data-incident": inc.incident_id,
                               "data-service": inc.service, "data-status": inc.status });
  if (fresh) { card.classList.add("fresh"); card.dataset.via = "sse"; }
  const head = el("div", { class: "head" });
  head.append(el("span", { class: "svc" }, inc.service),
              el("span", { class: "badge " + inc.status }, inc.status),
              el("span", { class: "muted" }, "started " + when(inc.started_at) +
                 ", detected " + when(inc.opened_at || inc.detected_at) +
                 (inc.resolved_at ? ", resolved " + when(inc.resolved_at) : "")));
  const peak = inc.peak || {};
  const delay = (Date.parse(inc.opened_at || inc.detected_at) - Date.parse(inc.started_at)) / 1000;
  const facts = [
    ["peak", fmt(peak.observed) + " reports/bucket at " + when(peak.at) + " vs expected " +
             fmt(peak.expected) + " (upper " + fmt(peak.upper) + "), score " + fmt(peak.score)],
    ["latest", fmt(inc.observed) + " reports/bucket vs expected " + fmt(inc.expected)],
    ["detection delay", Number.isFinite(delay) ? Math.round(delay) + " s after onset" : "-"],
    ["signals", inc.signals.join(", ") || "-"],
    ["top categories", inc.top_categories.join(", ") || "-"],
    ["top regions", inc.top_regions.join(", ") || "-"],
    ["sources", inc.sources.join(", ") || "-"],
    ["related", inc.related.join(", ") || "-"],
  ];
  const dl = el("dl");
  for (const [k, v] of facts) dl.append(el("dt", {}, k), el("dd", {}, v));
  card.append(head, dl);
  card.addEventListener("click", () => select(inc.service));
  return card;
}

function renderIncidents(freshId = null) {
  const box = document.getElementById("incidents");
  const items = [...state.incidents.values()].sort(byStart);
  if (!items.length) { box.replaceChildren(el("p", { class: "muted" }, "No incidents.")); return; }
  box.replaceChildren(...items.map((inc) => incidentCard(inc, inc.incident_id === freshId
                                                                 || inc._via_sse)));
}

async function renderChart() {
  const name = state.selected;
  const title = document.getElementById("chart-title");
  if (!name) { title.textContent = "Reports per minute (no data yet)"; return; }
  title.textContent = "Reports per minute: " + name;
  const series = await getJSON("/services/" + encodeURIComponent(name) + "/series");
  const x = series.points.map((p) => p.t);
  const traces = [
    { x, y: series.points.map((p) => p.expected), name: "expected", mode: "lines",
      line: { color: "#6b7280", dash: "dash", width: 1.5 } },
    { x, y: series.points.map((p) => p.upper), name: "normal band (upper)", mode: "lines",
      fill: "tonexty", fillcolor: "rgba(107,114,128,0.18)", line: { width: 0 } },
    { x, y: series.points.map((p) => p.observed), name: "reports", mode: "lines",
      line: { color: "#d8342c", width: 2 }, fill: "tozeroy", fillcolor: "rgba(216,52,44,0.08)" },
  ];
  const first = x.length ? x[0] : null;
  const last = x.length ? x[x.length - 1] : null;
  const inView = (i) => i.service === name && (!first || !i.resolved_at || i.resolved_at >= first);
  const later = (a, b) => (Date.parse(a) >= Date.parse(b) ? a : b);
  const shapes = [...state.incidents.values()].filter(inView).map((i) => ({
    type: "rect", xref: "x", yref: "paper", x0: first ? later(i.started_at, first) : i.started_at,
    x1: i.resolved_at || last, y0: 0, y1: 1, fillcolor: "rgba(216,52,44,0.12)",
    line: { width: 0 }, layer: "below" }));
  const layout = { margin: { t: 10, r: 10, b: 40, l: 50 }, shapes, hovermode: "x unified",
                   legend: { orientation: "h", y: 1.12 },
                   yaxis: logScale() ? { type: "log" } : { rangemode: "tozero" },
                   xaxis: first ? { type: "date", range: [first, last] } : { type: "date" } };
  await Plotly.react("chart", traces, layout, { displaylogo: false, responsive: true });
  document.getElementById("chart").dataset.service = name;
}

async function refresh() {
  const [services, incidents] = await Promise.all([getJSON("/services"),
                                                   getJSON("/incidents?limit=200")]);
  state.services = services;
  for (const inc of incidents) {
    const old = state.incidents.get(inc.incident_id);
    state.incidents.set(inc.incident_id, old && old._via_sse ? { ...inc, _via_sse: true } : inc);
  }
  pickDefault();
  renderServices();
  renderIncidents();
  await renderChart();
}

function logScale() {
  return document.getElementById("log").checked;
}

function select(name) {
  state.selected = name;
  renderServices();
  renderChart().catch(console.error);
}

function peakOf(alert) {
  return { at: alert.detected_at, observed: alert.observed, expected: alert.expected,
           upper: alert.upper, score: alert.score };
}

function merge(alert) {
  // An SSE alert updates its incident: first detection kept, peak = highest observed so far.
  const old = state.incidents.get(alert.incident_id);
  let peak = old?.peak || peakOf(alert);
  if ((alert.observed ?? 0) > (peak.observed ?? 0)) peak = peakOf(alert);
  return { ...old, ...alert, peak, opened_at: old?.opened_at || alert.detected_at,
           alerts: (old?.alerts || 0) + 1, _via_sse: true };
}

function onAlert(event) {
  const alert = JSON.parse(event.data);
  state.incidents.set(alert.incident_id, merge(alert));
  const svc = state.services.find((s) => s.id === alert.service);
  if (svc) svc.state = alert.status === "resolved" ? "ok" : "confirmed";
  renderServices();
  renderIncidents(alert.incident_id);
  if (alert.service === state.selected || !state.selected) {
    state.selected = alert.service;
    renderChart().catch(console.error);
  }
}

function connect() {
  const live = document.getElementById("live");
  const source = new EventSource("/alerts/stream");
  source.onopen = () => { live.dataset.state = "connected"; live.textContent = "live"; };
  source.onerror = () => { live.dataset.state = "error"; live.textContent = "reconnecting"; };
  source.addEventListener("alert", onAlert);
}

document.getElementById("log").addEventListener("change", () => renderChart());
connect();
refresh().catch(console.error);
setInterval(() => refresh().catch(console.error), 30000);
