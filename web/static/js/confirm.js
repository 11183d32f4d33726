// Buttons that change something ask first, in the words of the form's data-confirm; the form's
// "url" field takes the page's address, so the answer comes back to the same filtered list.
(function () {
  'use strict';
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!form.matches || !form.matches('form[data-confirm]')) { return; }
    if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); return; }
    var back = form.querySelector('input[name="url"]');
    // A form that names its page to come back to (a claim's Emails tab) keeps it.
    if (back && !back.value) { back.value = window.location.pathname + window.location.search; }
  });
}());
