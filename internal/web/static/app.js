// markwatch console: keyboard shortcuts, claim renewal and the upload
// preview. Plain JavaScript, no library, no build step. Every page works
// without it; it only saves keystrokes.
(function () {
  "use strict";
  var main = document.getElementById("main");
  var csrf = main ? main.getAttribute("data-csrf") : "";

  function typing(e) {
    var t = e.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }

  // Queue pages: j/k move a selection over the rows, o or Enter opens, x
  // ticks the row for a bulk decision.
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.row"));
  var current = -1;
  function select(i) {
    if (!rows.length) return;
    i = Math.max(0, Math.min(rows.length - 1, i));
    if (current >= 0) rows[current].classList.remove("sel");
    current = i;
    var row = rows[i];
    row.classList.add("sel");
    var link = row.querySelector("a.open");
    if (link) link.focus();
  }

  var complaint = document.querySelector(".complaint");

  function verdict(v) {
    var radio = document.getElementById("d-" + v);
    if (!radio) return;
    radio.checked = true;
    var sel = document.getElementById("d-reason");
    // Only the reasons of the chosen verdict stay selectable.
    Array.prototype.forEach.call(sel.querySelectorAll("optgroup"), function (g) {
      g.disabled = g.getAttribute("data-verdict") !== v;
    });
    if (sel.selectedOptions.length && sel.selectedOptions[0].parentNode.disabled) sel.value = "";
    sel.focus();
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "Escape" && typing(e)) { e.target.blur(); return; }
    if (typing(e)) return;
    var help = document.getElementById("help");
    switch (e.key) {
      case "?":
        if (help && help.showModal && !help.open) help.showModal();
        break;
      case "/":
        var q = document.querySelector("input[type=search]");
        if (q) q.focus(); else return;
        break;
      case "j":
        if (complaint) { if (complaint.dataset.next) location.href = complaint.dataset.next; else return; }
        else select(current + 1);
        break;
      case "k":
        if (complaint) { if (complaint.dataset.prev) location.href = complaint.dataset.prev; else return; }
        else select(current - 1);
        break;
      case "o":
      case "Enter":
        if (complaint || current < 0) return;
        var a = rows[current].querySelector("a.open");
        if (a) location.href = a.href;
        break;
      case "x":
        if (current < 0) return;
        var box = rows[current].querySelector("input[type=checkbox]");
        if (box && !box.disabled) box.checked = !box.checked;
        break;
      case "u":
        if (!complaint) return;
        verdict("uphold");
        break;
      case "r":
        if (!complaint) return;
        verdict("reject");
        break;
      case "e":
        var esc = document.getElementById("escalate");
        if (!esc) return;
        esc.requestSubmit();
        break;
      default:
        return;
    }
    e.preventDefault();
  });

  // Picking a reason with Enter in the select submits the decision.
  var reason = document.getElementById("d-reason");
  if (reason) {
    reason.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && reason.value) { e.preventDefault(); document.getElementById("decide").requestSubmit(); }
    });
  }

  // The claim on an open complaint is renewed while its page is open.
  if (complaint && complaint.dataset.claim) {
    setInterval(function () {
      fetch(complaint.dataset.claim, { method: "POST", headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" });
    }, 60000);
  }

  // Upload selection: the files picked, before they are sent. What will be
  // matched, and whether an image is weak, is the server's verdict, shown
  // on the page after the upload (rendered from the matcher's own view).
  var upload = document.getElementById("upload");
  if (upload) {
    var file = document.getElementById("u-file");
    var kind = document.getElementById("u-kind");
    var preview = document.getElementById("preview");
    kind.addEventListener("change", function () { file.name = kind.value; });
    file.addEventListener("change", function () {
      preview.textContent = "";
      Array.prototype.forEach.call(file.files, function (f) {
        var fig = document.createElement("figure");
        var img = document.createElement("img");
        var cap = document.createElement("figcaption");
        img.alt = "Preview of " + f.name;
        img.className = "photo";
        cap.textContent = f.name + ": reading…";
        img.onload = function () {
          cap.textContent = f.name + ": " + img.naturalWidth + "×" + img.naturalHeight +
            " selected — upload it to see what will be matched";
        };
        img.onerror = function () {
          cap.textContent = f.name + ": refused — not an image this browser can read (JPEG, PNG, GIF or WebP)";
          cap.className = "error";
        };
        img.src = URL.createObjectURL(f);
        fig.appendChild(img);
        fig.appendChild(cap);
        preview.appendChild(fig);
      });
    });
  }
})();

// The bulk form offers only the reasons of the chosen decision.
(function () {
  "use strict";
  var decision = document.getElementById("b-decision");
  var reason = document.getElementById("b-reason");
  if (!decision || !reason) return;
  decision.addEventListener("change", function () {
    Array.prototype.forEach.call(reason.querySelectorAll("optgroup"), function (g) {
      g.disabled = decision.value !== "" && g.label !== decision.value;
    });
    if (reason.selectedOptions.length && reason.selectedOptions[0].parentNode.disabled) reason.value = "";
  });
})();

// The Ctrl-K (⌘-K) command palette: jump to a complaint, listing, seller or
// mark by id (a mark by name too), to a page the role may open, or run an
// action of this page. The server answers the lookups (GET /palette) and
// lists only what the user may open; this page's actions are its own
// buttons. A combobox over a listbox, the active option named by
// aria-activedescendant; Escape closes and focus goes back where it was.
// The list's data-q names the query it answers (what a test waits for).
(function () {
  "use strict";
  var dlg = document.getElementById("palette");
  if (!dlg || !dlg.showModal) return;
  var input = document.getElementById("palette-q");
  var list = document.getElementById("palette-list");
  var items = [];
  var active = -1;
  var back = null;
  var timer = 0;
  var seq = 0;
  var pending = null;

  // This page's actions: its submit buttons and button links, by label.
  function pageActions(q) {
    var out = [];
    var els = document.querySelectorAll("main button[type=submit], main a.button");
    Array.prototype.forEach.call(els, function (el) {
      var label = (el.textContent || "").trim();
      if (!label || el.disabled || el.closest("dialog")) return;
      if (q && label.toLowerCase().indexOf(q) < 0) return;
      out.push({ label: label, kind: "action", el: el });
    });
    return out.slice(0, 10);
  }

  function setActive(i) {
    if (!items.length) { active = -1; input.removeAttribute("aria-activedescendant"); return; }
    active = (i + items.length) % items.length;
    Array.prototype.forEach.call(list.children, function (li, j) {
      li.setAttribute("aria-selected", j === active ? "true" : "false");
    });
    var li = list.children[active];
    input.setAttribute("aria-activedescendant", li.id);
    li.scrollIntoView({ block: "nearest" });
  }

  function render() {
    list.textContent = "";
    items.forEach(function (it, i) {
      var li = document.createElement("li");
      li.id = "palette-opt-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      var label = document.createElement("span");
      label.textContent = it.label;
      var kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = it.kind;
      li.appendChild(label);
      li.appendChild(kind);
      li.addEventListener("mousedown", function (e) { e.preventDefault(); go(i); });
      list.appendChild(li);
    });
    setActive(0);
  }

  function lookup() {
    timer = 0;
    var q = input.value.trim();
    var mine = ++seq;
    pending = fetch("/palette?q=" + encodeURIComponent(q), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (data) {
        if (mine !== seq) return; // a later lookup is on its way
        items = (data.items || []).concat(pageActions(q.toLowerCase()));
        render();
        list.setAttribute("data-q", q);
      })
      .catch(function () { if (mine === seq) { items = pageActions(q.toLowerCase()); render(); list.setAttribute("data-q", q); } })
      .then(function () { if (mine === seq) pending = null; });
    return pending;
  }

  function go(i) {
    var it = items[i];
    if (!it) return;
    if (it.href) {
      // Leaving the page: the focus is not given back, so that the rest
      // of the keystroke (Enter's keypress) cannot reach the element it
      // came from (a filter field would submit its form instead).
      back = null;
      dlg.close();
      location.href = it.href;
      return;
    }
    dlg.close();
    if (it.el) {
      // A form with required fields asks for them rather than submitting.
      var form = it.el.form || it.el.closest("form");
      var first = form && form.querySelector("[required]:invalid");
      if (first) first.focus(); else it.el.click();
    }
  }

  function open() {
    if (dlg.open) { input.select(); return; }
    back = document.activeElement;
    input.value = "";
    items = [];
    list.textContent = "";
    list.removeAttribute("data-q");
    dlg.showModal();
    input.focus();
    lookup();
  }

  dlg.addEventListener("close", function () {
    if (back && back.focus && document.contains(back)) back.focus();
    back = null;
  });
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(lookup, 120);
  });
  input.addEventListener("keydown", function (e) {
    switch (e.key) {
      case "ArrowDown": setActive(active + 1); break;
      case "ArrowUp": setActive(active - 1); break;
      case "Enter":
        // Enter before the lookup of the last keystroke came back waits
        // for it, so that it goes where the typed text points.
        var wait = pending;
        if (timer) { clearTimeout(timer); wait = lookup(); }
        if (wait) wait.then(function () { go(active); }); else go(active);
        break;
      default: return;
    }
    e.preventDefault();
  });
  document.addEventListener("keydown", function (e) {
    if ((e.ctrlKey || e.metaKey) && !e.altKey && (e.key === "k" || e.key === "K")) {
      e.preventDefault();
      open();
    }
  });
})();

// The queue's per-filter counts and total that the page was rendered
// without (those that take a bounded walk of the queue to count) are
// fetched once it has loaded and written beside their options. Without this script the page
// lists the same rows, only without those counts.
(function () {
  "use strict";
  var form = document.querySelector("form.filters[data-counts]");
  if (!form || !window.fetch) return;
  fetch(form.getAttribute("data-counts"), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.ok ? r.json() : { counts: null }; })
    .then(function (data) {
      var counts = data.counts || {};
      var total = document.getElementById("total");
      if (total && data.total) total.textContent = data.total + " matching";
      Array.prototype.forEach.call(form.querySelectorAll("[data-facet]"), function (el) {
        var byValue = counts[el.getAttribute("data-facet")] || {};
        if (el.tagName === "SELECT") {
          Array.prototype.forEach.call(el.options, function (o) {
            var n = o.value && byValue[o.value];
            if (n) o.textContent = o.value + " (" + n + ")";
          });
        } else {
          var m = byValue[el.getAttribute("data-value")];
          if (m) el.textContent = "(" + m + ")";
        }
      });
    })
    .catch(function () {})
    .then(function () { form.setAttribute("data-counted", ""); });
})();
