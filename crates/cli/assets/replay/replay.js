// iovmarket replay: plays an episode recorded by `iovmarket replay`.
//
// The data is the JSON in #replay-data (crates/cli/src/replay/record.rs documents its columns).
// Frame t (0-based) is the episode's slot t + 1. The map is one SVG (#map): static layers (roads,
// coverage, RSUs) are drawn once; each frame rewrites a pool of vehicle circles and trade lines.
// Six charts share the slider: each has a cursor at the current frame. Contract for tests:
// document.body.dataset.ready = "1" after the first frame; window.iovReplay.{slots, slot, goto}.
(function () {
  "use strict";

  var NS = "http://www.w3.org/2000/svg";
  var D = JSON.parse(document.getElementById("replay-data").textContent);
  if (D.format !== 1) {
    throw new Error("iovmarket replay: unknown data format " + D.format);
  }
  var T = D.slots;
  var MAP_PX = 720;
  var LABELS_UP_TO = 60; // price labels are drawn only when this few trades are in view

  // ---- geometry: position units (q metres from the view's lower-left corner) to map pixels ----
  var spanX = D.view[2] - D.view[0];
  var spanY = D.view[3] - D.view[1];
  var scale = MAP_PX / Math.max(spanX, spanY); // px per metre
  var mapW = spanX * scale;
  var mapH = spanY * scale;
  var unit = D.q * scale; // px per position unit
  function px(qx) { return qx * unit; }
  function py(qy) { return mapH - qy * unit; }
  function f1(v) { return Math.round(v * 10) / 10; }

  function el(tag, attrs, parent) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) { e.setAttribute(k, attrs[k]); }
    if (parent) { parent.appendChild(e); }
    return e;
  }

  // ---- decoded frames: vehicle ids are delta-coded within a frame; the request columns
  // (value, shade = bid - value, waited) hold only the rows with a pending request ----
  var F = D.frames;
  var ids = new Array(F.id.length);
  var req = new Array(F.id.length); // row -> index into the request columns, -1 if none
  var nReq = 0;
  for (var t0 = 0; t0 < T; t0++) {
    var acc = 0;
    for (var r0 = F.off[t0]; r0 < F.off[t0 + 1]; r0++) {
      acc += F.id[r0];
      ids[r0] = acc;
      req[r0] = (F.flags[r0] & 1) ? nReq++ : -1;
    }
  }
  var R = D.rsu;
  var nRsu = R.id.length;
  function colour(localRsu) { return D.palette[R.colour[localRsu]]; }

  // ---- header ----
  document.getElementById("title").textContent = D.title;
  document.getElementById("subtitle").textContent = D.subtitle;

  // ---- map: static layers ----
  var map = document.getElementById("map");
  map.setAttribute("viewBox", "0 0 " + f1(mapW) + " " + f1(mapH));
  map.style.height = (720 * mapH / mapW) + "px";
  var roads = el("g", { "class": "road", "stroke-width": Math.max(D.road_w * scale, 0.8).toFixed(1) }, map);
  if (D.roads.length) {
    var d = "";
    D.roads.forEach(function (line) {
      for (var i = 0; i < line.length; i += 2) {
        d += (i === 0 ? "M" : "L") + f1(px(line[i])) + " " + f1(py(line[i + 1]));
      }
    });
    el("path", { d: d }, roads);
  }
  var cov = el("g", {}, map);
  for (var c = 0; c < nRsu; c++) {
    el("circle", {
      "class": "cov", cx: f1(px(R.x[c])), cy: f1(py(R.y[c])), r: f1(D.coverage * scale),
      fill: colour(c), stroke: colour(c)
    }, cov);
  }
  var tradeLayer = el("g", {}, map);
  var labelLayer = el("g", {}, map);
  var vehLayer = el("g", {}, map);
  var rsuLayer = el("g", {}, map);
  var side = nRsu > 200 ? 5 : 10;
  for (var s = 0; s < nRsu; s++) {
    var x = px(R.x[s]), y = py(R.y[s]);
    el("rect", {
      "class": "rsu", x: f1(x - side / 2), y: f1(y - side / 2), width: side, height: side,
      fill: colour(s)
    }, rsuLayer);
    if (nRsu <= 64) {
      el("text", { "class": "rsulabel", x: f1(x + side / 2 + 3), y: f1(y - side / 2 - 2) }, rsuLayer)
        .textContent = "RSU " + R.id[s];
    }
  }

  // Vehicle dot radius from the busiest frame, so dots keep their size while playing.
  var most = 0;
  for (var t1 = 0; t1 < T; t1++) { most = Math.max(most, F.off[t1 + 1] - F.off[t1]); }
  var dot = most <= 300 ? 4.5 : most <= 3000 ? 2.5 : 1.4;

  // ---- legend and note ----
  var legend = document.getElementById("legend");
  function key(svg, text) {
    var span = document.createElement("span");
    span.innerHTML = svg;
    span.appendChild(document.createTextNode(text));
    legend.appendChild(span);
  }
  var c0 = D.palette[0], c1 = D.palette[1];
  key('<svg width="14" height="14"><rect x="2" y="2" width="10" height="10" fill="' + c0 +
      '" stroke="#000"/></svg>', "RSU (its VMs sell)");
  key('<svg width="16" height="14"><circle cx="8" cy="7" r="5" fill="' + c0 +
      '" stroke="#fff"/></svg>', "vehicle, colour of its RSU");
  key('<svg width="16" height="14"><circle cx="8" cy="7" r="5" fill="' + c1 +
      '" stroke="#000" stroke-width="1.6"/></svg>', "pending request (ringed)");
  key('<svg width="16" height="14"><circle cx="8" cy="7" r="5" fill="#b0b0b0" stroke="#fff"/></svg>',
      "out of coverage");
  key('<svg width="24" height="14"><line x1="1" y1="7" x2="23" y2="7" stroke="#222" stroke-width="1.4"/></svg>',
      "trade RSU \u2192 buyer, labelled with the buyer's payment");
  if (!D.roads.length) {
    key("", "(no road geometry for trace mobility)");
  }
  var note = document.getElementById("mapnote");

  // ---- frame drawing ----
  var vehPool = [], tradePool = [], labelPool = [];
  function pooled(pool, layer, tag, n) {
    while (pool.length < n) { pool.push(el(tag, {}, null)); }
    // Keep exactly n elements in the layer, so the DOM holds what the frame draws.
    while (layer.childNodes.length > n) { layer.removeChild(layer.lastChild); }
    for (var i = layer.childNodes.length; i < n; i++) { layer.appendChild(pool[i]); }
    return pool;
  }

  var cur = 0;
  var selected = -1; // followed vehicle id, -1 if none
  var hovered = -1; // row under the pointer, -1 if none

  function drawFrame(t) {
    var a = F.off[t], b = F.off[t + 1];
    var n = b - a;
    var circles = pooled(vehPool, vehLayer, "circle", n);
    for (var i = 0; i < n; i++) {
      var row = a + i;
      var e = circles[i];
      var rl = F.rsu[row];
      var cls = "veh";
      if (rl < 0) { cls += " none"; }
      if (F.flags[row] & 1) { cls += " pend"; }
      if (ids[row] === selected) { cls += " sel"; }
      e.setAttribute("class", cls);
      e.setAttribute("cx", f1(px(F.x[row])));
      e.setAttribute("cy", f1(py(F.y[row])));
      e.setAttribute("r", dot);
      e.setAttribute("fill", rl < 0 ? "#b0b0b0" : colour(rl));
      e.row = row;
    }
    var TR = D.trades;
    var ta = TR.off[t], tb = TR.off[t + 1];
    var lines = pooled(tradePool, tradeLayer, "line", tb - ta);
    var labelled = tb - ta <= LABELS_UP_TO;
    var labels = pooled(labelPool, labelLayer, "text", labelled ? tb - ta : 0);
    for (var k = ta; k < tb; k++) {
      var vr = a + TR.vehicle[k], rs = TR.rsu[k];
      var x1 = px(R.x[rs]), y1 = py(R.y[rs]), x2 = px(F.x[vr]), y2 = py(F.y[vr]);
      var line = lines[k - ta];
      line.setAttribute("class", "trade");
      line.setAttribute("x1", f1(x1));
      line.setAttribute("y1", f1(y1));
      line.setAttribute("x2", f1(x2));
      line.setAttribute("y2", f1(y2));
      if (labelled) {
        var label = labels[k - ta];
        label.setAttribute("class", "price");
        label.setAttribute("x", f1(x1 + 0.62 * (x2 - x1) + 3));
        label.setAttribute("y", f1(y1 + 0.62 * (y2 - y1) - 3));
        label.textContent = (TR.pays[k] / 1000).toFixed(3);
      }
    }
    var inView = D.series.in_view[t];
    var msg = n + " of " + inView + " vehicles in view drawn";
    if (D.sample_every > 1) {
      msg += " (every " + D.sample_every + "th by id, and every trading vehicle)";
    }
    msg += "; " + (tb - ta) + " trades in view" + (labelled ? "" : " (price labels off above " + LABELS_UP_TO + ")");
    note.textContent = msg;
  }

  // ---- vehicle details ----
  var info = document.getElementById("info");
  function fmt3(v) { return (v / 1000).toFixed(3); }
  function rowOf(t, id) {
    for (var r = F.off[t]; r < F.off[t + 1]; r++) { if (ids[r] === id) { return r; } }
    return -1;
  }
  function showInfo() {
    var row = hovered >= 0 ? hovered : selected >= 0 ? rowOf(cur, selected) : -1;
    if (row < 0) {
      info.innerHTML = selected >= 0
        ? "<h2>Vehicle " + selected + "</h2><p class=\"hint\">Not in view at this slot. Click the map background to stop following it.</p>"
        : "<p class=\"hint\">Hover over a vehicle for its request, bid and payment; click to follow it.</p>";
      return;
    }
    var TR = D.trades;
    var trade = -1;
    for (var k = TR.off[cur]; k < TR.off[cur + 1]; k++) {
      if (F.off[cur] + TR.vehicle[k] === row) { trade = k; }
    }
    var q = req[row];
    var pending = q >= 0;
    var rl = F.rsu[row];
    var bidText;
    if (!pending) { bidText = "no request"; }
    else if (rl < 0) { bidText = "none (out of coverage)"; }
    else if (F.flags[row] & 2) { bidText = fmt3(F.value[q] + F.shade[q]); }
    else { bidText = "0 (sits out)"; }
    var rows = [
      ["serving RSU", rl < 0 ? "none" : "RSU " + R.id[rl]],
      ["pending request", pending ? "yes, waited " + F.waited[q] + " slot" + (F.waited[q] === 1 ? "" : "s") : "no"],
      ["valuation u_v", pending ? fmt3(F.value[q]) : "\u2013"],
      ["bid", bidText],
      ["payment", trade >= 0 ? fmt3(TR.pays[trade]) + " to VM " + TR.vm[trade] +
        " (ask " + fmt3(TR.ask[trade]) + ", seller gets " + fmt3(TR.gets[trade]) + ")" : "\u2013 (no trade)"],
      ["latency", trade >= 0 ? (TR.latency[trade] / 10).toFixed(1) + " ms" : "\u2013"],
      ["mean rate from RSU", (F.rate[row] / 10).toFixed(1) + " Mbit/s"]
    ];
    var html = "<h2>Vehicle " + ids[row] + (ids[row] === selected ? " (followed)" : "") + ", slot " + (cur + 1) + "</h2><table>";
    rows.forEach(function (r) { html += "<tr><td>" + r[0] + "</td><td>" + r[1] + "</td></tr>"; });
    info.innerHTML = html + "</table>";
  }
  vehLayer.addEventListener("mouseover", function (e) {
    if (e.target.row !== undefined) { hovered = e.target.row; showInfo(); }
  });
  vehLayer.addEventListener("mouseout", function () { hovered = -1; showInfo(); });
  map.addEventListener("click", function (e) {
    selected = e.target.row !== undefined ? ids[e.target.row] : -1;
    hovered = -1;
    drawFrame(cur);
    showInfo();
  });

  // ---- charts ----
  var CW = 320, CH = 160, ML = 44, MR = 8, MT = 28, MB = 18;
  var charts = [];
  function extent(values) {
    var lo = Infinity, hi = -Infinity;
    values.forEach(function (v) { if (v !== null) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
    if (lo === Infinity) { lo = 0; hi = 1; }
    lo = Math.min(lo, 0); hi = Math.max(hi, 0);
    if (hi - lo < 1e-9) { hi = lo + 1; }
    return [lo, hi];
  }
  function short(v) {
    var a = Math.abs(v);
    if (a >= 1000) { return v.toFixed(0); }
    if (a >= 10) { return v.toFixed(1); }
    return v.toFixed(a >= 1 ? 2 : 3);
  }
  function xOf(t) { return ML + (T <= 1 ? 0 : t / (T - 1)) * (CW - ML - MR); }
  // One chart: `series` is a list of {values (null = gap), colour}; `band` an optional [lo[], hi[]].
  function chart(title, series, valueText, band) {
    var all = [];
    series.forEach(function (s) { all = all.concat(s.values); });
    if (band) { all = all.concat(band[0], band[1]); }
    var ext = extent(all);
    function yOf(v) { return MT + (1 - (v - ext[0]) / (ext[1] - ext[0])) * (CH - MT - MB); }
    var svg = el("svg", { "class": "chart", viewBox: "0 0 " + CW + " " + CH }, document.getElementById("charts"));
    el("text", { "class": "ctitle", x: 2, y: 11 }, svg).textContent = title;
    // The current slot's value, on its own line under the title so that neither hides the other.
    var val = el("text", { "class": "cval", x: CW - MR, y: 23, "text-anchor": "end" }, svg);
    el("rect", { "class": "frame", x: ML, y: MT, width: CW - ML - MR, height: CH - MT - MB }, svg);
    if (ext[0] < 0) {
      el("line", { "class": "zero", x1: ML, x2: CW - MR, y1: f1(yOf(0)), y2: f1(yOf(0)) }, svg);
    }
    el("text", { x: ML - 3, y: MT + 8, "text-anchor": "end" }, svg).textContent = short(ext[1]);
    el("text", { x: ML - 3, y: CH - MB, "text-anchor": "end" }, svg).textContent = short(ext[0]);
    el("text", { x: ML, y: CH - 4 }, svg).textContent = "slot 1";
    el("text", { x: CW - MR, y: CH - 4, "text-anchor": "end" }, svg).textContent = "slot " + T;
    if (band) {
      var top = "", bottom = "";
      for (var t = 0; t < T; t++) {
        if (band[0][t] === null) { continue; }
        top += (top ? "L" : "M") + f1(xOf(t)) + " " + f1(yOf(band[1][t]));
        bottom = "L" + f1(xOf(t)) + " " + f1(yOf(band[0][t])) + bottom;
      }
      if (top) { el("path", { "class": "band", d: top + bottom + "Z" }, svg); }
    }
    series.forEach(function (s) {
      var d = "", pen = false;
      for (var t = 0; t < T; t++) {
        var v = s.values[t];
        if (v === null) { pen = false; continue; }
        d += (pen ? "L" : "M") + f1(xOf(t)) + " " + f1(yOf(v));
        pen = true;
        // Isolated points would vanish as zero-length paths: mark them with a short tick.
        if (T > 1 && (t === 0 || s.values[t - 1] === null) && (t === T - 1 || s.values[t + 1] === null)) {
          d += "h0.01";
        }
      }
      var path = el("path", { "class": "line", d: d }, svg);
      path.style.stroke = s.colour;
    });
    var cursor = el("line", { "class": "cursor", y1: MT, y2: CH - MB }, svg);
    function pick(e) {
      var box = svg.getBoundingClientRect();
      var xv = (e.clientX - box.left) * CW / box.width;
      goto(Math.round((xv - ML) / (CW - ML - MR) * (T - 1)));
    }
    svg.addEventListener("mousedown", function (e) { pick(e); e.preventDefault(); });
    svg.addEventListener("mousemove", function (e) { if (e.buttons & 1) { pick(e); } });
    charts.push({ cursor: cursor, val: val, text: valueText });
  }
  var S = D.series;
  function v4(x) { return x === null ? "\u2013" : short(x); }

  // Clearing price: one line per RSU in view when few, otherwise their mean with a min-max band.
  var price = [];
  for (var pr = 0; pr < nRsu; pr++) {
    var vals = [];
    for (var pt = 0; pt < T; pt++) {
      var p = D.price[pt * nRsu + pr];
      vals.push(p < 0 ? null : p / 1000);
    }
    price.push(vals);
  }
  if (nRsu <= 10) {
    chart("Clearing price per RSU", price.map(function (vals, i) {
      return { values: vals, colour: colour(i) };
    }), function (t) {
      var parts = [];
      price.forEach(function (vals, i) { if (vals[t] !== null) { parts.push(R.id[i] + ": " + vals[t].toFixed(3)); } });
      return parts.length ? parts.join("  ") : "no trade";
    });
  } else {
    var mean = [], lo = [], hi = [];
    for (var mt = 0; mt < T; mt++) {
      var sum = 0, n = 0, l = Infinity, h = -Infinity;
      price.forEach(function (vals) {
        if (vals[mt] !== null) { sum += vals[mt]; n++; l = Math.min(l, vals[mt]); h = Math.max(h, vals[mt]); }
      });
      mean.push(n ? sum / n : null);
      lo.push(n ? l : null);
      hi.push(n ? h : null);
    }
    chart("Clearing price, mean and min\u2013max of " + nRsu + " RSUs in view",
      [{ values: mean, colour: "#1f77b4" }],
      function (t) { return mean[t] === null ? "no trade" : mean[t].toFixed(3); }, [lo, hi]);
  }
  chart("Trades (all RSUs)", [{ values: S.trades, colour: "#2ca02c" }],
    function (t) { return S.trades[t] + " of " + S.buyers[t] + " buyers"; });
  chart("Social welfare", [{ values: S.welfare, colour: "#9467bd" }], function (t) { return v4(S.welfare[t]); });
  chart("Budget", [{ values: S.budget, colour: "#8c564b" }], function (t) { return v4(S.budget[t]); });
  chart("Latency (ms)", [{ values: S.latency, colour: "#ff7f0e" }], function (t) { return v4(S.latency[t]); });
  chart("Reward", [{ values: S.reward, colour: "#d62728" }], function (t) { return v4(S.reward[t]); });

  // ---- controls ----
  var slider = document.getElementById("slider");
  var label = document.getElementById("slotlabel");
  var playBtn = document.getElementById("play");
  var speed = document.getElementById("speed");
  slider.max = String(T - 1);

  function goto(t) {
    t = Math.max(0, Math.min(T - 1, Math.round(Number(t)) || 0));
    cur = t;
    drawFrame(t);
    slider.value = String(t);
    label.textContent = "slot " + (t + 1) + " / " + T;
    var x = f1(xOf(t));
    charts.forEach(function (c) {
      c.cursor.setAttribute("x1", x);
      c.cursor.setAttribute("x2", x);
      c.val.textContent = c.text(t);
    });
    showInfo();
    return t;
  }

  var playing = false, last = 0, carry = 0;
  function tick(now) {
    if (!playing) { return; }
    carry += (now - last) / 1000 * Number(speed.value);
    last = now;
    if (carry >= 1) {
      var steps = Math.floor(carry);
      carry -= steps;
      if (cur + steps >= T - 1) { goto(T - 1); setPlaying(false); return; }
      goto(cur + steps);
    }
    requestAnimationFrame(tick);
  }
  function setPlaying(on) {
    playing = on;
    playBtn.textContent = on ? "Pause" : "Play";
    if (on) {
      if (cur >= T - 1) { goto(0); }
      last = performance.now();
      carry = 0;
      requestAnimationFrame(tick);
    }
  }
  // Buttons give focus back after a click, so that space always means play/pause.
  function button(id, action) {
    document.getElementById(id).addEventListener("click", function () { action(); this.blur(); });
  }
  button("play", function () { setPlaying(!playing); });
  button("back", function () { setPlaying(false); goto(cur - 1); });
  button("fwd", function () { setPlaying(false); goto(cur + 1); });
  slider.addEventListener("input", function () { setPlaying(false); goto(slider.value); });
  document.addEventListener("keydown", function (e) {
    if (e.target.tagName === "SELECT") { return; }
    if (e.key === " " || e.code === "Space") { setPlaying(!playing); e.preventDefault(); }
    else if (e.key === "ArrowLeft") { setPlaying(false); goto(cur - 1); e.preventDefault(); }
    else if (e.key === "ArrowRight") { setPlaying(false); goto(cur + 1); e.preventDefault(); }
  });

  window.iovReplay = {
    slots: T,
    get slot() { return cur; },
    goto: goto,
    play: function () { setPlaying(true); },
    pause: function () { setPlaying(false); },
    firstFrameMs: null
  };
  goto(0);
  window.iovReplay.firstFrameMs = performance.now();
  document.body.dataset.ready = "1";
})();
