// Site index: the province filter box (plain JavaScript, works from file:// and a web server).
(function () {
  var box = document.getElementById("unit-filter");
  if (!box) return;
  function key(s) {  // diacritics-insensitive: NFD, strip combining marks, đ → d, lower case
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d").toLowerCase()
            .replace(/[^a-z0-9 ]+/g, " ").replace(/\s+/g, " ").trim();
  }
  var items = Array.prototype.slice.call(document.querySelectorAll("ul.units li"));
  items.forEach(function (li) { li.dataset.k = key(li.dataset.key + " " + li.textContent); });
  var count = document.getElementById("unit-count");
  function apply() {
    var q = key(box.value), n = 0;
    items.forEach(function (li) {
      var hit = !q || li.dataset.k.indexOf(q) >= 0 || li.dataset.k.replace(/ /g, "").indexOf(q.replace(/ /g, "")) >= 0;
      li.hidden = !hit; if (hit) n++;
    });
    count.textContent = q ? n + " / " + items.length : "";
  }
  box.addEventListener("input", apply);
  apply();
})();
