"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const NS = "http://www.w3.org/2000/svg";
  const W = 420, H = 200, PAD = 30;

  function el(name, attrs, text) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function clear(svg) { while (svg.firstChild) svg.removeChild(svg.firstChild); }

  function bars(svg, points, unit) {
    clear(svg);
    if (!points.length) { svg.appendChild(el("text", {x: PAD, y: H / 2}, "no data in this period")); return; }
    const max = Math.max(...points.map((p) => Math.abs(p.value)), 1);
    const step = (W - PAD) / points.length;
    points.forEach((p, i) => {
      const h = (Math.abs(p.value) / max) * (H - 2 * PAD);
      const x = PAD + i * step;
      const bar = el("rect", {class: "bar" + (p.value < 0 ? " alt" : ""), x: x + 2, y: H - PAD - h, width: Math.max(step - 4, 1), height: h});
      bar.appendChild(el("title", {}, `${p.label}: ${p.value} ${unit}`));
      svg.appendChild(bar);
      svg.appendChild(el("text", {x: x + 2, y: H - PAD - h - 3, "data-value": p.value}, String(p.value)));
      svg.appendChild(el("text", {x: x + 2, y: H - 8}, p.label));
    });
  }

  function lines(svg, days, series) {
    clear(svg);
    if (!days.length) { svg.appendChild(el("text", {x: PAD, y: H / 2}, "no data in this period")); return; }
    const step = days.length > 1 ? (W - 2 * PAD) / (days.length - 1) : 0;
    series.forEach((values, k) => {
      let d = "";
      values.forEach((v, i) => {
        if (v === null) return;  // a null rate is a gap, not zero
        const x = PAD + i * step, y = H - PAD - v * (H - 2 * PAD);
        d += (d && values[i - 1] !== null ? " L" : " M") + x + " " + y;
      });
      if (d) svg.appendChild(el("path", {class: "line" + k, d: d.trim()}));
    });
    days.forEach((day, i) => svg.appendChild(el("text", {x: PAD + i * step - 10, y: H - 8}, day.slice(5))));
    svg.appendChild(el("text", {x: 0, y: PAD}, "100%"));
    svg.appendChild(el("text", {x: 0, y: H - PAD}, "0%"));
  }

  async function get(path, params) {
    const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v));
    const answer = await fetch(`${path}?${query}`, {headers: {Authorization: "Bearer " + $("token").value}});
    if (!answer.ok) {
      const problem = await answer.json().catch(() => ({}));
      throw new Error(`${path}: ${answer.status} ${problem.title || ""}`);
    }
    return answer.json();
  }

  async function show(event) {
    if (event) event.preventDefault();
    sessionStorage.setItem("slotwise-token", $("token").value);
    const period = {from: $("from").value + "T00:00:00Z", to: $("to").value + "T00:00:00Z"};
    const provider = $("provider").value.trim();
    const filter = {...period, provider_id: provider};
    $("status").textContent = "loading…";
    $("status").className = "";
    try {
      const [days, hours, revenue, access] = await Promise.all([
        get("/v1/analytics/appointments", {...filter, group_by: "day"}),
        get("/v1/analytics/appointments", {...filter, group_by: "hour"}),
        get("/v1/analytics/revenue", {...filter, group_by: "method", specialty: $("specialty").value.trim()}),
        get("/v1/analytics/access", {provider_id: provider}),
      ]);
      bars($("by-day"), days.groups.map((g) => ({label: g.day.slice(5), value: g.figures.appointments})), "appointments");
      bars($("by-hour"), hours.groups.map((g) => ({label: String(g.hour), value: g.figures.appointments})), "appointments");
      const rate = (name) => days.groups.map((g) => (g.figures[name] === null ? null : Number(g.figures[name])));
      lines($("rates"), days.groups.map((g) => g.day), [rate("completion_rate"), rate("no_show_rate"), rate("cancellation_rate")]);
      const money = [];
      revenue.currencies.forEach((c) => c.groups.forEach((g) => money.push({label: `${g.method} ${c.currency}`, value: Number(g.figures.net)})));
      bars($("revenue"), money, "net");
      const body = $("access").querySelector("tbody");
      body.replaceChildren(...access.rows.map((r) => {
        const tr = document.createElement("tr");
        [r.provider_id.slice(0, 8), r.appointment_type, r.days === null ? "fewer than 3 free" : r.days, r.free_seats]
          .forEach((v) => { const td = document.createElement("td"); td.textContent = String(v); tr.appendChild(td); });
        return tr;
      }));
      $("status").textContent = `${days.totals.appointments} appointments from ${$("from").value} to ${$("to").value}`;
    } catch (err) {
      $("status").textContent = err.message;
      $("status").className = "error";
    }
  }

  const today = new Date();
  const weekAgo = new Date(today.getTime() - 7 * 86400000);
  $("from").value = weekAgo.toISOString().slice(0, 10);
  $("to").value = today.toISOString().slice(0, 10);
  const params = new URLSearchParams(location.search);
  for (const name of ["from", "to", "provider", "specialty"]) if (params.get(name)) $(name).value = params.get(name);
  $("token").value = sessionStorage.getItem("slotwise-token") || "";
  $("filters").addEventListener("submit", show);
  if ($("token").value) show();
})();
