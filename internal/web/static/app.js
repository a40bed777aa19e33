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
