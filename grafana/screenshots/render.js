// Draws DATA (written by main.go: each panel's JSON and its queries'
// answers) on Grafana's 24-column grid, with uPlot for the time series.
(function () {
  "use strict";
  const D = DATA;
  const tz = D.timezone && D.timezone !== "browser" ? D.timezone : undefined;
  const palette = ["#7eb26d", "#eab839", "#6ed0e0", "#ef843c", "#e24d42", "#1f78c1", "#ba43a9", "#705da0",
    "#508642", "#cca300", "#447ebc", "#c15c17", "#890f02", "#0a437c", "#6d1f62", "#584477"];
  const named = { green: "#56a64b", red: "#e02f44", orange: "#ff9830", yellow: "#f2cc0c", blue: "#3274d9",
    purple: "#a352cc", transparent: "transparent", text: "#24292e" };
  const color = (c) => named[c] || c || "#56a64b";

  document.getElementById("title").textContent = D.title;
  document.getElementById("sub").textContent = "Data: " + D.subtitle + ". Time zone " + (tz || "browser") + ".";
  const vars = document.getElementById("vars");
  for (const [k, v] of Object.entries(D.variables || {})) {
    const s = document.createElement("span");
    s.textContent = k + ": " + v;
    vars.appendChild(s);
  }

  // --- units, as Grafana writes them (the ones the boards use)
  function num(v, dec) {
    const a = Math.abs(v);
    if (a >= 1e6) return (v / 1e6).toFixed(1) + " Mil";
    if (a >= 1e4) return (v / 1e3).toFixed(1) + " K";
    if (dec !== undefined) return v.toFixed(dec);
    if (a === 0 || a >= 100) return v.toFixed(0);
    if (a >= 10) return v.toFixed(1).replace(/\.0$/, "");
    return v.toFixed(2).replace(/\.?0+$/, "");
  }
  function fmt(v, unit) {
    if (v === null || v === undefined || Number.isNaN(v)) return "";
    switch (unit) {
      case "percentunit": return num(v * 100, Math.abs(v) >= 0.1 ? 0 : 1) + "%";
      case "percent": return num(v) + "%";
      case "s":
        if (Math.abs(v) < 1 && v !== 0) return num(v * 1000) + " ms";
        if (Math.abs(v) < 60) return num(v) + " s";
        if (Math.abs(v) < 3600) return num(v / 60) + " min";
        return num(v / 3600) + " hour";
      case "reqps": return num(v) + " req/s";
      case "ops": return num(v) + " ops/s";
      case "cpm": return num(v) + " cpm";
      case "dateTimeAsIso": return new Date(v).toLocaleString("sv-SE", { timeZone: tz });
      default: return num(v);
    }
  }

  const hm = new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  function hhmm(t) { return hm.format(new Date(t * 1000)); }
  // About eight ticks on whole minutes (1, 2, 5, 10, 15, 30 or 60 apart).
  function timeSplits(u, axisIdx, min, max) {
    const minutes = [1, 2, 5, 10, 15, 30, 60].find((m) => (max - min) / (m * 60) <= 8) || 120;
    const out = [];
    for (let t = Math.ceil(min / (minutes * 60)) * minutes * 60; t <= max; t += minutes * 60) out.push(t);
    return out;
  }

  function thresholdColor(th, v) {
    if (!th || !th.steps) return null;
    let c = th.steps[0].color;
    for (const s of th.steps) if (s.value !== null && s.value !== undefined && v >= s.value) c = s.color;
    return color(c);
  }
  function mapped(mappings, v) {
    for (const m of mappings || []) {
      if (m.type === "value" && m.options && m.options[String(v)]) return m.options[String(v)];
    }
    return null;
  }
  function lastValue(s) {
    for (let i = s.v.length - 1; i >= 0; i--) if (s.v[i] !== null) return s.v[i];
    return null;
  }
  function allSeries(pd) {
    const out = [];
    for (const f of pd.frames || []) for (const s of f.series || []) out.push(Object.assign({ refId: f.refId }, s));
    return out;
  }
  function noValue(body, p) {
    const d = document.createElement("div");
    d.className = "novalue";
    d.textContent = (p.fieldConfig && p.fieldConfig.defaults.noValue) || "No data";
    body.appendChild(d);
  }

  const grid = document.getElementById("grid");
  const colW = (D_width() - 16) / 24;
  function D_width() { return document.body.clientWidth || 1600; }
  const gap = 4;

  for (const pd of D.panels) {
    const p = pd.panel;
    const g = p.gridPos;
    const x = g.x * colW, y = g.y * D.rowHeight, w = g.w * colW - gap, h = g.h * D.rowHeight - gap;
    if (p.type === "row") {
      const r = document.createElement("div");
      r.className = "row";
      Object.assign(r.style, { left: x + "px", top: y + "px", width: w + "px" });
      r.textContent = "▾ " + p.title;
      grid.appendChild(r);
      continue;
    }
    const el = document.createElement("div");
    el.className = "panel";
    Object.assign(el.style, { left: x + "px", top: y + "px", width: w + "px", height: h + "px" });
    const t = document.createElement("h2");
    t.textContent = p.title;
    el.appendChild(t);
    const body = document.createElement("div");
    body.className = "body";
    body.style.top = "26px";
    el.appendChild(body);
    grid.appendChild(el);
    const bw = w - 12, bh = h - 30;
    if (pd.error) {
      body.innerHTML = '<div class="err"></div>';
      body.firstChild.textContent = pd.error;
      continue;
    }
    const series = allSeries(pd).filter((s) => s.v.some((v) => v !== null));
    const draw = { timeseries, stat, gauge, bargauge, table, "state-timeline": stateTimeline, heatmap }[p.type];
    if (!draw) { body.textContent = "(" + p.type + ")"; continue; }
    if (series.length === 0) { noValue(body, p); continue; }
    draw(body, p, pd, series, bw, bh);
  }
  grid.style.height = Math.max(...D.panels.map((pd) => (pd.panel.gridPos.y + pd.panel.gridPos.h) * D.rowHeight)) + "px";

  // --- panels

  function legendBox(items, maxLines) {
    const lg = document.createElement("div");
    lg.className = "legend";
    lg.style.maxHeight = maxLines * 14 + "px";
    for (const it of items) {
      const s = document.createElement("span");
      s.innerHTML = "<i></i>";
      s.firstChild.style.background = it.color;
      s.appendChild(document.createTextNode(it.label));
      lg.appendChild(s);
    }
    return lg;
  }

  function timeseries(body, p, pd, series, bw, bh) {
    const dflt = p.fieldConfig.defaults;
    const unit = dflt.unit;
    const custom = dflt.custom || {};
    const stack = custom.stacking && custom.stacking.mode === "normal";
    // Every query of a panel has the same start and step, so the series'
    // timestamps fall on one grid: their union is the x axis.
    const xs = [...new Set(series.flatMap((s) => s.t.map((t) => t.toFixed(3))))].map(Number).sort((a, b) => a - b);
    const index = new Map(xs.map((t, i) => [t.toFixed(3), i]));
    const ys = series.map((s) => {
      const a = new Array(xs.length).fill(null);
      s.t.forEach((t, i) => { const k = index.get(t.toFixed(3)); if (k !== undefined) a[k] = s.v[i]; });
      return a;
    });
    if (stack) for (let j = 1; j < ys.length; j++) for (let i = 0; i < xs.length; i++) {
      if (ys[j][i] !== null) ys[j][i] += ys[j - 1][i] || 0;
    }
    const dashed = (p.fieldConfig.overrides || []).filter((o) => o.matcher.id === "byRegexp" &&
      o.properties.some((pr) => pr.id === "custom.lineStyle"));
    const isDashed = (name) => dashed.some((o) => new RegExp("^" + o.matcher.options + "$").test(name));
    // Legend lines the labels need at about 6 px a character, at most 4.
    const legendWidth = series.reduce((w, s) => w + 30 + 6 * (s.name.length + 8), 0);
    const legendLines = Math.min(4, Math.max(1, Math.ceil(legendWidth / bw)));
    const plotH = Math.max(60, bh - legendLines * 14 - 4);
    const stepped = custom.lineInterpolation === "stepAfter";
    const opts = {
      width: bw, height: plotH, tzDate: tz ? (ts) => uPlot.tzDate(new Date(ts * 1e3), tz) : undefined,
      legend: { show: false }, cursor: { show: false },
      scales: { x: { time: true }, y: { range: (u, mn, mx) => {
        let lo = dflt.min !== undefined ? dflt.min : Math.min(0, mn);
        let hi = dflt.max !== undefined ? dflt.max : mx;
        const th = custom.thresholdsStyle && dflt.thresholds;
        if (th) for (const s of th.steps) if (s.value !== null && s.value !== undefined) hi = Math.max(hi, s.value * 1.1);
        if (hi <= lo) hi = lo + 1;
        return [lo, hi + (dflt.max !== undefined ? 0 : (hi - lo) * 0.05)];
      } } },
      axes: [
        { stroke: "#6e7781", grid: { stroke: "#eceef0" }, ticks: { show: false }, font: "11px sans-serif",
          splits: timeSplits, values: (u, vals) => vals.map(hhmm) },
        { stroke: "#6e7781", grid: { stroke: "#eceef0" }, ticks: { show: false }, font: "11px sans-serif",
          size: 62, values: (u, vals) => vals.map((v) => fmt(v, unit)) },
      ],
      series: [{}].concat(series.map((s, i) => ({
        label: s.name, stroke: palette[i % palette.length], width: 1.5,
        dash: isDashed(s.name) ? [8, 6] : undefined,
        fill: stack ? palette[i % palette.length] + "d0" : undefined,
        paths: stepped ? uPlot.paths.stepped({ align: 1 }) : undefined,
        points: { show: false }, spanGaps: false,
      }))),
      hooks: { draw: [(u) => {
        const ts = custom.thresholdsStyle;
        if (!ts || ts.mode !== "dashed" || !dflt.thresholds) return;
        const ctx = u.ctx;
        for (const s of dflt.thresholds.steps) {
          if (s.value === null || s.value === undefined) continue;
          const yy = u.valToPos(s.value, "y", true);
          ctx.save();
          ctx.strokeStyle = color(s.color);
          ctx.setLineDash([6, 5]);
          ctx.lineWidth = 1.5;
          ctx.beginPath();
          ctx.moveTo(u.bbox.left, yy);
          ctx.lineTo(u.bbox.left + u.bbox.width, yy);
          ctx.stroke();
          ctx.restore();
        }
      }] },
    };
    // Stacked series are cumulative sums filled down to zero: drawn from
    // the top of the stack down, each covers the fill of the one above
    // except its own band.
    if (stack) {
      opts.series = [opts.series[0]].concat(opts.series.slice(1).reverse());
      new uPlot(opts, [xs].concat(ys.slice().reverse()), body);
    } else {
      new uPlot(opts, [xs].concat(ys), body);
    }
    body.appendChild(legendBox(series.map((s, i) => {
      const lv = lastValue(s);
      return { color: palette[i % palette.length], label: s.name + (lv !== null ? " " + fmt(lv, unit) : "") };
    }), legendLines));
  }

  function statItems(p, series) {
    const dflt = p.fieldConfig.defaults;
    return series.map((s) => {
      const v = lastValue(s);
      const m = mapped(dflt.mappings, v);
      const byThreshold = (dflt.color && dflt.color.mode === "thresholds") || p.type === "gauge";
      return {
        name: s.name, value: v,
        text: m ? m.text : fmt(v, dflt.unit),
        color: m && m.color ? color(m.color) : byThreshold ? thresholdColor(dflt.thresholds, v) : "#24292e",
      };
    });
  }

  function stat(body, p, pd, series) {
    const d = document.createElement("div");
    d.className = "stat";
    const nameOnly = p.options && p.options.textMode === "name";
    for (const it of statItems(p, series)) {
      const c = document.createElement("div");
      const v = document.createElement("div");
      v.className = "v";
      v.style.color = it.color;
      v.style.fontSize = series.length > 2 ? "20px" : (nameOnly ? "22px" : "30px");
      v.textContent = nameOnly ? it.name : it.text;
      c.appendChild(v);
      if (series.length > 1 && !nameOnly) {
        const n = document.createElement("div");
        n.className = "n";
        n.textContent = it.name;
        c.appendChild(n);
      }
      d.appendChild(c);
    }
    body.appendChild(d);
  }

  function gauge(body, p, pd, series, bw, bh) {
    const dflt = p.fieldConfig.defaults;
    const min = dflt.min !== undefined ? dflt.min : 0, max = dflt.max !== undefined ? dflt.max : 1;
    const it = statItems(p, series)[0];
    const frac = Math.max(0, Math.min(1, (it.value - min) / (max - min)));
    const r = Math.min(bw / 2, bh) * 0.85, cx = bw / 2, cy = bh * 0.85;
    const arc = (f) => {
      const a = Math.PI * (1 - f);
      return [cx + r * Math.cos(a), cy - r * Math.sin(a)];
    };
    const [x1, y1] = arc(frac);
    body.innerHTML = `<svg width="${bw}" height="${bh}">
      <path d="M ${cx - r} ${cy} A ${r} ${r} 0 0 1 ${cx + r} ${cy}" stroke="#eceef0" stroke-width="${r * 0.22}" fill="none"/>
      <path d="M ${cx - r} ${cy} A ${r} ${r} 0 0 1 ${x1} ${y1}" stroke="${it.color}" stroke-width="${r * 0.22}" fill="none"/>
      <text x="${cx}" y="${cy - r * 0.15}" text-anchor="middle" font-size="${Math.max(14, r * 0.38)}" fill="${it.color}">${it.text}</text></svg>`;
  }

  function bargauge(body, p, pd, series, bw, bh) {
    const dflt = p.fieldConfig.defaults;
    const items = statItems(p, series);
    const max = dflt.max !== undefined ? dflt.max : Math.max(...items.map((i) => i.value), 1e-9);
    const min = dflt.min !== undefined ? dflt.min : 0;
    const rows = Math.max(1, Math.floor(bh / 18));
    for (const it of items.slice(0, rows)) {
      const r = document.createElement("div");
      r.className = "bar";
      r.innerHTML = '<span class="l"></span><span class="b"><i></i></span><span class="v"></span>';
      r.children[0].textContent = it.name;
      const f = Math.max(0, Math.min(1, (it.value - min) / (max - min)));
      r.children[1].firstChild.style.width = (f * 100).toFixed(1) + "%";
      r.children[1].firstChild.style.background = thresholdColor(dflt.thresholds, it.value) || palette[0];
      r.children[2].textContent = it.text;
      body.appendChild(r);
    }
    if (items.length > rows) {
      const more = document.createElement("div");
      more.className = "n";
      more.textContent = "… and " + (items.length - rows) + " more";
      body.appendChild(more);
    }
  }

  // table: Grafana's "merge" of instant queries on their common labels,
  // then "organize" (hidden, renamed and ordered columns).
  function table(body, p, pd) {
    const rows = new Map();
    const frames = pd.frames || [];
    const labelSets = frames.flatMap((f) => (f.series || []).map((s) => Object.keys(s.labels).filter((k) => k !== "__name__")));
    const common = labelSets.length ? labelSets.reduce((a, b) => a.filter((k) => b.includes(k))) : [];
    for (const f of frames) {
      for (const s of f.series || []) {
        const key = common.map((k) => s.labels[k]).join("\u0000");
        const row = rows.get(key) || {};
        for (const [k, v] of Object.entries(s.labels)) if (k !== "__name__") row[k] = v;
        row["Value #" + f.refId] = lastValue(s);
        rows.set(key, row);
      }
    }
    const org = ((p.transformations || []).find((t) => t.id === "organize") || { options: {} }).options;
    const excl = org.excludeByName || {}, ren = org.renameByName || {}, idx = org.indexByName || {};
    const cols = [...new Set([...rows.values()].flatMap((r) => Object.keys(r)))].filter((c) => !excl[c]);
    cols.sort((a, b) => (idx[a] !== undefined ? idx[a] : 99) - (idx[b] !== undefined ? idx[b] : 99));
    const props = {};
    for (const o of p.fieldConfig.overrides || []) {
      if (o.matcher.id !== "byName") continue;
      props[o.matcher.options] = Object.fromEntries(o.properties.map((pr) => [pr.id, pr.value]));
    }
    const tbl = document.createElement("table");
    const head = tbl.insertRow();
    for (const c of cols) {
      const th = document.createElement("th");
      th.textContent = ren[c] || c;
      head.appendChild(th);
    }
    const sorted = [...rows.values()].sort((a, b) => cols.map((c) => String(a[c] ?? "")).join("|").localeCompare(cols.map((c) => String(b[c] ?? "")).join("|"), "en", { numeric: true }));
    for (const r of sorted) {
      const tr = tbl.insertRow();
      for (const c of cols) {
        const td = tr.insertCell();
        const pr = props[ren[c] || c] || {};
        const v = r[c];
        if (typeof v === "number") {
          td.className = "num";
          td.textContent = fmt(v, pr.unit);
          const cell = pr["custom.cellOptions"];
          if (cell && cell.type === "color-background") {
            const col = thresholdColor(pr.thresholds, v);
            if (col && col !== "transparent") { td.style.background = col; td.style.color = "#fff"; }
          } else if (cell && cell.type === "gauge") {
            const f = Math.max(0, Math.min(1, (v - (pr.min || 0)) / ((pr.max || 1) - (pr.min || 0))));
            td.innerHTML = `<span style="display:inline-block;width:70px;height:9px;background:#eceef0;margin-right:6px"><i style="display:block;height:100%;width:${(f * 100).toFixed(0)}%;background:#56a64b"></i></span>`;
            td.appendChild(document.createTextNode(fmt(v, pr.unit)));
          }
        } else {
          td.textContent = v === undefined ? "" : v;
        }
      }
    }
    body.style.overflow = "hidden";
    body.appendChild(tbl);
  }

  function stateTimeline(body, p, pd, series, bw, bh) {
    const dflt = p.fieldConfig.defaults;
    const n = series.length;
    const labelW = Math.min(160, bw * 0.2);
    const rowH = Math.max(8, Math.min(24, (bh - 18) / n - 2));
    let html = `<svg width="${bw}" height="${bh}">`;
    const span = D.end - D.start;
    series.forEach((s, j) => {
      const yy = j * (rowH + 2);
      html += `<text x="${labelW - 6}" y="${yy + rowH * 0.75}" text-anchor="end" font-size="10.5" fill="#444">${s.name.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</text>`;
      s.t.forEach((t, i) => {
        if (s.v[i] === null) return;
        const x0 = labelW + ((t - D.start) / span) * (bw - labelW);
        const wd = (D.step / span) * (bw - labelW) + 0.5;
        const m = mapped(dflt.mappings, s.v[i]);
        const col = m && m.color ? color(m.color) : thresholdColor(dflt.thresholds, s.v[i]);
        html += `<rect x="${x0.toFixed(1)}" y="${yy}" width="${wd.toFixed(1)}" height="${rowH}" fill="${col}"/>`;
      });
    });
    html += "</svg>";
    body.innerHTML = html;
  }

  // heatmap: cumulative le buckets per step, drawn as per-bucket counts.
  function heatmap(body, p, pd, series, bw, bh) {
    const les = series.map((s) => ({ s, le: s.labels.le === "+Inf" ? Infinity : parseFloat(s.labels.le) }))
      .sort((a, b) => a.le - b.le);
    const steps = new Map();
    les.forEach((b, j) => b.s.t.forEach((t, i) => {
      const row = steps.get(t) || new Array(les.length).fill(0);
      row[j] = b.s.v[i] || 0;
      steps.set(t, row);
    }));
    let maxv = 0;
    for (const row of steps.values()) for (let j = row.length - 1; j > 0; j--) { row[j] = Math.max(0, row[j] - row[j - 1]); maxv = Math.max(maxv, row[j]); }
    for (const row of steps.values()) maxv = Math.max(maxv, row[0]);
    const labelW = 44, cellH = (bh - 16) / les.length, span = D.end - D.start;
    let html = `<svg width="${bw}" height="${bh}">`;
    les.forEach((b, j) => {
      const yy = (les.length - 1 - j) * cellH;
      html += `<text x="${labelW - 4}" y="${yy + cellH * 0.7}" text-anchor="end" font-size="10" fill="#444">${b.le === Infinity ? "+Inf" : fmt(b.le, "s")}</text>`;
    });
    for (const [t, row] of steps) {
      const x0 = labelW + ((t - D.start) / span) * (bw - labelW);
      const wd = (D.step / span) * (bw - labelW) + 0.5;
      row.forEach((v, j) => {
        if (!v) return;
        const a = Math.pow(v / (maxv || 1), 0.5);
        html += `<rect x="${x0.toFixed(1)}" y="${((les.length - 1 - j) * cellH).toFixed(1)}" width="${wd.toFixed(1)}" height="${(cellH - 1).toFixed(1)}" fill="rgba(230,110,20,${(0.15 + 0.85 * a).toFixed(2)})"/>`;
      });
    }
    html += "</svg>";
    body.innerHTML = html;
  }
})();
