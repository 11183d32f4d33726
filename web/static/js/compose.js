// Compose Email.
// Type-ahead over the project directory: a search box above each recipient list filters it
// with the directory search endpoint; the <select multiple> below stays the source of truth.
// A click picks or drops one person without touching the others (no Ctrl needed).
(function () {
  'use strict';
  document.querySelectorAll('.recipient-picker').forEach(function (picker) {
    var select = picker.querySelector('select');
    var box = document.createElement('input');
    box.type = 'search';
    box.className = 'form-control form-control-sm mb-1';
    box.placeholder = 'Search the directory by name, e-mail or company';
    select.parentNode.insertBefore(box, select);
    var chosen = document.createElement('small');
    chosen.className = 'form-text text-muted chosen';
    select.parentNode.insertBefore(chosen, select.nextSibling);
    function showChosen() {
      var names = Array.prototype.filter.call(select.options, function (o) { return o.selected; })
        .map(function (o) { return o.text; });
      chosen.textContent = names.length ? 'Chosen: ' + names.join('; ') : 'No one chosen.';
    }
    select.addEventListener('mousedown', function (event) {
      if (event.target.tagName !== 'OPTION') { return; }
      event.preventDefault();
      event.target.selected = !event.target.selected;
      select.focus();
      showChosen();
    });
    select.addEventListener('change', showChosen);
    box.addEventListener('input', function () {
      var query = box.value;
      if (!query.trim()) {
        Array.prototype.forEach.call(select.options, function (o) { o.hidden = false; });
        return;
      }
      fetch(picker.dataset.search + '?q=' + encodeURIComponent(query), {credentials: 'same-origin'})
        .then(function (r) { return r.json(); })
        .then(function (data) {
          if (box.value !== query) { return; }  // an answer to an older search: ignore it
          var ids = data.contacts.map(function (c) { return String(c.id); });
          Array.prototype.forEach.call(select.options, function (o) {
            o.hidden = !o.selected && ids.indexOf(o.value) === -1;
          });
        });
    });
    showChosen();
  });

  // Attachments over the limit are refused here, before the upload, so nothing typed is lost.
  var form = document.getElementById('compose-form');
  if (!form) { return; }
  var input = form.querySelector('input[type=file]');
  var limit = Number(form.dataset.maxBytes);
  var warning = document.getElementById('attachments-too-large');
  function tooLarge() {
    var total = Array.prototype.reduce.call(input.files, function (sum, f) { return sum + f.size; }, 0);
    warning.hidden = total <= limit;
    return total > limit;
  }
  input.addEventListener('change', tooLarge);
  form.addEventListener('submit', function (event) { if (tooLarge()) { event.preventDefault(); } });
})();
