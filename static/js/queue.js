// The exception queue: select all, and j/k/x/Enter to move through the list.
// Everything here is a convenience: the page works without it.
(function () {
  "use strict";
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr[data-row]")); }
  var current = -1;
  function focusRow(n) {
    var all = rows();
    if (!all.length) return;
    current = Math.max(0, Math.min(all.length - 1, n));
    all.forEach(function (r) { r.classList.remove("focus"); });
    var row = all[current];
    row.classList.add("focus");
    var link = row.querySelector("a[data-item-link]");
    if (link) link.focus();
  }
  document.addEventListener("change", function (e) {
    if (e.target && e.target.id === "select-all") {
      document.querySelectorAll('#bulk-form input[name="item"]').forEach(function (box) {
        box.checked = e.target.checked;
      });
    }
  });
  document.addEventListener("keydown", function (e) {
    var tag = (e.target && e.target.tagName) || "";
    if (/INPUT|TEXTAREA|SELECT/.test(tag) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "j") { focusRow(current + 1); e.preventDefault(); }
    else if (e.key === "k") { focusRow(current - 1); e.preventDefault(); }
    else if (e.key === "x" && current >= 0) {
      var box = rows()[current].querySelector('input[name="item"]');
      if (box) box.checked = !box.checked;
    }
  });
})();
