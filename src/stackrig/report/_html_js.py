"""The report page's script: hand-written vanilla JS, inlined into the HTML.

It reads the embedded ``report.json``, orders tests failures first, and renders lazily: a page of
rows at a time (the next page when the end of the list scrolls into view), a test's details only
when it is expanded.  Filters by outcome, searches names and errors, expands and collapses.
"""

from __future__ import annotations

__all__ = ["JS"]

JS = r"""
(function () {
"use strict";
var D = JSON.parse(document.getElementById("stackrig-data").textContent);
var T = D.tests || [], RUNS = D.runs || [], SECTIONS = D.sections || [];
var ORDER = ["failed", "error", "xpassed", "rerun", "skipped", "xfailed", "passed"];
var PAGE = 100, SVG = "http://www.w3.org/2000/svg";
function $(id) { return document.getElementById(id); }
function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}
function add(parent) {
  for (var i = 1; i < arguments.length; i++) {
    var c = arguments[i];
    if (c === null || c === undefined || c === "") continue;
    parent.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
  }
  return parent;
}
function secs(s) {
  if (s === null || s === undefined) return "";
  if (s < 0.001) return (s * 1000).toFixed(2) + " ms";
  if (s < 1) return (s * 1000).toFixed(0) + " ms";
  if (s < 120) return s.toFixed(2) + " s";
  return Math.floor(s / 60) + " min " + Math.round(s % 60) + " s";
}
function msec(v) { return v === null || v === undefined ? "" : (v < 10 ? v.toFixed(1) : Math.round(v)) + " ms"; }
function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }
function first(s) { if (!s) return ""; var i = s.indexOf("\n"); return i < 0 ? s : s.slice(0, i); }
function pre(text) { return el("pre", null, text); }
function block(parent, title) { add(parent, el("h3", null, title)); return parent; }
function table(cols, rows) {
  var t = el("table"), tr = el("tr");
  cols.forEach(function (c) { add(tr, el("th", null, c)); });
  add(t, tr);
  rows.forEach(function (r) {
    var row = el("tr");
    r.forEach(function (c) { add(row, typeof c === "object" && c !== null ? add(el("td"), c) : el("td", null, c)); });
    add(t, row);
  });
  return t;
}
function panel(title, note, body, open) {
  var d = el("details", "panel"), s = el("summary", null, title + " ");
  if (open) d.open = true;
  add(s, el("span", null, note));
  var inner = el("div");
  d.addEventListener("toggle", function once() {
    if (d.open && !inner.firstChild) body(inner);
  });
  if (open) body(inner);
  return add(d, s, inner);
}
function link(a, text) {
  var e = el("a", null, text || a.name || a.path);
  e.href = a.path; e.target = "_blank"; e.rel = "noopener";
  return e;
}
function attachments(parent, list) {
  var shots = el("div", "shots"), files = el("ul");
  list.forEach(function (a) {
    if ((a.mime || "").indexOf("image/") === 0) {
      var img = el("img"); img.alt = a.name; img.title = a.name; img.loading = "lazy";
      img.src = a.data || a.path;
      add(shots, a.path ? add(link(a, ""), img) : img);
    } else {
      var hint = /trace.*\.zip$/.test(a.path || "") ? " (open with: playwright show-trace " + a.path + ")" : "";
      add(files, add(el("li"), a.path ? link(a) : a.name, " ", el("span", "quiet", (a.mime || "") + hint)));
    }
  });
  add(parent, shots.firstChild ? shots : null, files.firstChild ? files : null);
}

/* -- header ---------------------------------------------------------------------------------- */
var buckets = {}, sorted = [], i, o;
ORDER.forEach(function (k) { buckets[k] = []; });
for (i = 0; i < T.length; i++) {
  o = T[i].outcome || "passed";
  (buckets[o] || (buckets[o] = [])).push(i);
}
Object.keys(buckets).forEach(function (k) { if (ORDER.indexOf(k) < 0) ORDER.push(k); });
ORDER.forEach(function (k) { var b = buckets[k]; for (var j = 0; j < b.length; j++) sorted.push(b[j]); });
var on = {}, q = "", openAll = false, opened = {}, view = [], shown = 0;
var chips = $("chips"), list = $("list"), moreBox = $("more"), moreBtn = $("more-btn");
ORDER.forEach(function (k) {
  on[k] = true;
  if (!buckets[k].length) return;
  var c = el("button", "chip o-" + k);
  c.type = "button"; c.dataset.outcome = k; c.setAttribute("aria-pressed", "true");
  add(c, k, el("b", null, buckets[k].length));
  c.addEventListener("click", function () {
    on[k] = !on[k]; c.setAttribute("aria-pressed", on[k] ? "true" : "false"); refilter();
  });
  chips.appendChild(c);
});
(function meta() {
  var total = 0, parts = [];
  RUNS.forEach(function (r) { total = Math.max(total, r.duration || 0); });
  parts.push(plural(T.length, "test"));
  if (RUNS.length > 1) parts.push(RUNS.length + " runs");
  if (RUNS[0]) {
    var r = RUNS[0];
    if (r.started) parts.push(new Date(r.started * 1000).toLocaleString());
    parts.push("took " + secs(total));
    if (r.workers) parts.push(r.workers + " xdist workers");
    if (r.host) parts.push(r.host);
    if (r.python) parts.push("Python " + r.python);
    if (r.pytest) parts.push("pytest " + r.pytest);
  }
  $("meta").textContent = parts.join(" \u00b7 ");
})();

/* -- the test list --------------------------------------------------------------------------- */
function hay(t) {
  return t._h || (t._h = (t.id + "\n" + (t.message || "") + "\n" + (t.longrepr || "")).toLowerCase());
}
function refilter() {
  var words = q.toLowerCase().split(/\s+/).filter(Boolean);
  view = [];
  for (var k = 0; k < sorted.length; k++) {
    var t = T[sorted[k]];
    if (!on[t.outcome || "passed"]) continue;
    if (words.length) {
      var h = hay(t), ok = true;
      for (var w = 0; w < words.length && ok; w++) ok = h.indexOf(words[w]) >= 0;
      if (!ok) continue;
    }
    view.push(sorted[k]);
  }
  list.textContent = ""; shown = 0;
  if (!view.length) add(list, el("div", "empty", T.length ? "No test matches." : "No tests ran."));
  more();
}
function more() {
  var end = Math.min(view.length, shown + PAGE), frag = document.createDocumentFragment();
  for (; shown < end; shown++) frag.appendChild(row(view[shown]));
  list.appendChild(frag);
  var left = view.length - shown;
  moreBox.hidden = left <= 0;
  moreBtn.textContent = "Show " + Math.min(PAGE, left) + " more (" + left + " not shown)";
  $("count").textContent = view.length === T.length ? T.length + " tests" : view.length + " of " + T.length + " tests";
}
function row(idx) {
  var t = T[idx], r = el("div", "t o-" + (t.outcome || "passed")), h = el("div", "h");
  r.dataset.i = idx;
  h.tabIndex = 0; h.setAttribute("role", "button"); h.setAttribute("aria-expanded", "false");
  add(h, el("span", "b", t.outcome || "passed"), el("span", "n", t.id), el("span", "m", first(t.message)),
      el("span", "u", secs(t.duration || 0)));
  r.appendChild(h);
  if (openAll || opened[idx]) toggle(r, true);
  return r;
}
function toggle(r, open) {
  var idx = +r.dataset.i, d = r.childNodes[1];
  if (open) {
    if (!d) r.appendChild(details(T[idx])); else d.hidden = false;
    opened[idx] = true;
  } else {
    if (d) d.hidden = true;
    delete opened[idx];
  }
  r.classList.toggle("open", open);
  r.firstChild.setAttribute("aria-expanded", open ? "true" : "false");
}
function details(t) {
  var d = el("div", "d"), m = [];
  (t.phases || []).forEach(function (p) { m.push(p[0] + " " + p[1] + " " + secs(p[2])); });
  if (t.file) m.push(t.file + (t.line !== undefined && t.line !== null ? ":" + (t.line + 1) : ""));
  if (t.worker) m.push("worker " + t.worker);
  if (RUNS.length > 1 && RUNS[t.run || 0]) m.push(RUNS[t.run || 0].label || "run " + (t.run || 0));
  add(d, el("div", "meta", m.join(" \u00b7 ")));
  if (t.longrepr) add(block(d, "Error"), pre(t.longrepr));
  else if (t.message) add(block(d, "Reason"), pre(t.message));
  var logs = t.logs || [];
  if (logs.length) {
    block(d, "Service logs during the test");
    var quiet = [];
    logs.forEach(function (l) {
      if (!l.lines || !l.lines.length) { quiet.push(l.service); return; }
      var more = l.total > l.lines.length ? "last " + l.lines.length + " of " + l.total + " lines"
        : plural(l.lines.length, "line");
      var head = el("div", "svc", l.service + " ");
      add(head, el("small", null, (l.kind ? l.kind + " \u00b7 " : "") + more + (l.path ? " \u00b7 " + l.path : "")));
      add(d, head, pre(l.lines.join("\n")));
    });
    if (quiet.length) add(d, el("div", "quiet", "Nothing logged during the test by: " + quiet.join(", ")));
  }
  if (t.unmatched && t.unmatched.length) add(block(d, "Stub requests that matched nothing"),
    table(["Stub", "Method", "URL", "Closest mapping"], t.unmatched.map(function (u) {
      return [u.service, u.method, u.url, u.closest || ""];
    })));
  if (t.events) add(block(d, "Events the test's taps saw"), pre(t.events));
  if (t.faults) add(block(d, "Faults active when it failed"), pre(t.faults));
  if (t.attachments && t.attachments.length) attachments(block(d, "Attachments"), t.attachments);
  (t.sections || []).forEach(function (s) { add(block(d, s.title), pre(s.text)); });
  return d;
}
list.addEventListener("click", function (e) {
  var h = e.target.closest && e.target.closest(".h");
  if (h && h.parentNode.parentNode === list) toggle(h.parentNode, !h.parentNode.classList.contains("open"));
});
list.addEventListener("keydown", function (e) {
  if ((e.key === "Enter" || e.key === " ") && e.target.classList.contains("h")) {
    e.preventDefault(); toggle(e.target.parentNode, !e.target.parentNode.classList.contains("open"));
  }
});
moreBtn.addEventListener("click", more);
if (window.IntersectionObserver) {
  new IntersectionObserver(function (entries) {
    if (entries[0].isIntersecting && shown < view.length) more();
  }, {rootMargin: "400px"}).observe(moreBox);
}
$("expand-all").addEventListener("click", function () {
  openAll = true;
  for (var c = list.firstChild; c; c = c.nextSibling) if (c.dataset && c.dataset.i) toggle(c, true);
});
$("collapse-all").addEventListener("click", function () {
  openAll = false; opened = {};
  for (var c = list.firstChild; c; c = c.nextSibling) if (c.dataset && c.dataset.i) toggle(c, false);
});
var timer = 0;
$("q").addEventListener("input", function (e) {
  clearTimeout(timer);
  var value = e.target.value;
  timer = setTimeout(function () { q = value; refilter(); }, 120);
});

/* -- the stack --------------------------------------------------------------------------------- */
function timeline(services) {
  var bars = services.filter(function (s) { return s.ready_ms !== undefined && s.ready_ms !== null && !s.external; });
  if (!bars.length) return null;
  var end = 0;
  bars.forEach(function (s) { end = Math.max(end, (s.start_ms || 0) + s.ready_ms); });
  end = end || 1;
  var L = 130, W = 470, R = 22, H = bars.length * R + 24, k = W / end;
  var svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "tl"); svg.setAttribute("width", L + W + 80); svg.setAttribute("height", H);
  svg.setAttribute("role", "img"); svg.setAttribute("aria-label", "time to ready of each service");
  function n(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    for (var a in attrs) e.setAttribute(a, attrs[a]);
    if (text !== undefined) e.textContent = text;
    svg.appendChild(e);
    return e;
  }
  [0, 0.5, 1].forEach(function (f) {
    var x = L + f * W;
    n("line", {x1: x, x2: x, y1: 0, y2: H - 16});
    n("text", {x: x, y: H - 4, "text-anchor": f === 0 ? "start" : f === 1 ? "end" : "middle", "class": "ax"},
      msec(f * end));
  });
  bars.forEach(function (s, j) {
    var y = j * R + 4, x = L + (s.start_ms || 0) * k, w = Math.max(2, s.ready_ms * k);
    n("text", {x: 0, y: y + 13}, s.name);
    var r = n("rect", {x: x, y: y, width: w, height: R - 8, rx: 2, "class": "bar"});
    var tip = document.createElementNS(SVG, "title");
    tip.textContent = s.name + ": starts at " + (s.start_estimated ? "~" : "") + msec(s.start_ms || 0) +
      ", ready after " + msec(s.ready_ms);
    r.appendChild(tip);
    n("text", {x: x + w + 4, y: y + 13}, msec(s.ready_ms));
  });
  return svg;
}
function stackBody(stack) {
  return function (box) {
    var where = stack.stack_file + (stack.run_id ? " \u00b7 run " + stack.run_id : "");
    if (stack.stack_file) add(box, el("div", "quiet", where));
    var rows = (stack.services || []).map(function (s) {
      var ports = s.ports && s.ports.length ? s.ports.join(", ") : (s.port || "");
      return [s.name, s.kind || "", s.version || "", s.source || (s.external ? "external" : ""), String(ports),
              s.url || "", s.external ? "shared" : msec(s.ready_ms), (s.pids || []).join(", ")];
    });
    add(box, table(["Service", "Kind", "Version", "Provider", "Port", "URL", "Ready", "PIDs"], rows));
    var svg = timeline(stack.services || []);
    if (svg) {
      block(box, "Time to ready");
      add(box, svg);
      if ((stack.services || []).some(function (s) { return s.start_estimated; }))
        add(box, el("div", "quiet", "Start offsets estimated from depends_on: the run record has no start times."));
    }
    if (stack.warnings && stack.warnings.length) {
      block(box, "Warnings");
      var ul = el("ul");
      stack.warnings.forEach(function (w) { add(ul, el("li", null, w)); });
      add(box, ul);
    }
  };
}

/* -- sections other engines fill: one renderer per type -------------------------------------- */
function okText(v) { return v === true ? el("span", "ok", "ok") : v === false ? el("span", "bad", "failed") : ""; }
var SEV = ["critical", "high", "medium", "low", "info"];
var RENDER = {
  load: function (s, box) {
    var rows = [["requests", s.requests || 0], ["failures", s.failures || 0]];
    if (s.rps !== undefined && s.rps !== null) rows.push(["requests/s", s.rps.toFixed(1)]);
    if (s.duration) rows.push(["duration", secs(s.duration)]);
    Object.keys(s.latency_ms || {}).forEach(function (k) { rows.push(["latency " + k, msec(s.latency_ms[k])]); });
    add(box, el("div", "quiet", [s.tool, s.target].filter(Boolean).join(" \u00b7 ")), table(["", ""], rows));
    if (s.thresholds && s.thresholds.length) add(block(box, "Thresholds"), table(["Threshold", "Value", ""],
      s.thresholds.map(function (t) { return [t.name, t.value || "", okText(t.ok)]; })));
    if (s.charts && s.charts.length) attachments(block(box, "Charts"), s.charts);
  },
  scan: function (s, box) {
    var f = (s.findings || []).slice().sort(function (a, b) {
      return SEV.indexOf(a.severity) - SEV.indexOf(b.severity);
    });
    add(box, el("div", "quiet", [s.tool, s.target].filter(Boolean).join(" \u00b7 ")));
    add(box, f.length ? table(["Severity", "Finding", "Id", "Where"], f.map(function (x) {
      var title = x.url ? link({path: x.url, name: x.title}) : x.title;
      return [el("span", "sev-" + x.severity, x.severity), title, x.id || "", x.location || ""];
    })) : el("div", "ok", "No findings."));
  },
  pact: function (s, box) {
    add(box, add(el("div"), s.consumer + " \u2192 " + s.provider + " ", okText(s.ok)));
    add(box, table(["Interaction", "Provider state", "", "Mismatches"], (s.interactions || []).map(function (x) {
      return [x.description, x.state || "", okText(x.ok), (x.mismatches || []).join("\n")];
    })));
  },
  coverage: function (s, box) {
    function pct(c, t) { return t ? (100 * c / t).toFixed(1) + "% (" + c + "/" + t + ")" : ""; }
    var rows = [["lines", pct(s.lines_covered || 0, s.lines_total || 0)]];
    if (s.branches_total) rows.push(["branches", pct(s.branches_covered || 0, s.branches_total)]);
    add(box, el("div", "quiet", [s.service, s.language].filter(Boolean).join(" \u00b7 ")), table(["", ""], rows));
    if (s.html) add(box, add(el("div"), link({path: s.html, name: "detailed coverage report"})));
    if (s.files && s.files.length) add(block(box, "Files"), table(["File", "Lines"], s.files.map(function (x) {
      return [x.path, pct(x.covered, x.total)];
    })));
  },
  table: function (s, box) {
    add(box, table(s.columns || [], (s.rows || []).map(function (r) {
      return r.map(function (c) { return c === null || c === undefined ? "" : String(c); });
    })));
  }
};
function sectionNote(s) {
  if (s.type === "load") return (s.ok === false ? "failed \u00b7 " : "") + plural(s.requests || 0, "request");
  if (s.type === "scan") return plural((s.findings || []).length, "finding");
  if (s.type === "pact") return s.consumer + " \u2192 " + s.provider + (s.ok === false ? " \u00b7 failed" : "");
  if (s.type === "coverage") {
    return s.service + (s.lines_total ? " \u00b7 " + (100 * (s.lines_covered || 0) / s.lines_total).toFixed(1) +
      "% of lines" : "");
  }
  return "";
}
(function panels() {
  var box = $("panels");
  RUNS.forEach(function (run) {
    (run.stacks || []).forEach(function (stack) {
      var n = (stack.services || []).length;
      var label = "Stack" + (stack.label ? " (" + stack.label + ")" : "") +
        (RUNS.length > 1 && run.label ? " \u2014 " + run.label : "");
      var note = plural(n, "service") + (stack.how ? " \u00b7 " + stack.how : "") +
        (stack.warnings && stack.warnings.length ? " \u00b7 " + stack.warnings.length + " warnings" : "");
      add(box, panel(label, note, stackBody(stack), false));
    });
  });
  SECTIONS.forEach(function (s) {
    var render = RENDER[s.type];
    if (!render) return;
    var name = s.type.charAt(0).toUpperCase() + s.type.slice(1);
    add(box, panel(name + ": " + s.title, sectionNote(s), function (inner) { render(s, inner); }, false));
  });
})();

refilter();
if (window.performance && performance.mark) performance.mark("stackrig-first-screen");
window.stackrigReport = {  /* for tests and benchmarks */
  shown: function () { return shown; }, matching: function () { return view.length; },
  total: function () { return T.length; }
};
})();
"""
