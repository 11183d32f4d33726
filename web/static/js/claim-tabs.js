// The claim page's tabs: the address follows the tab shown (?tab=emails), so a reload stays
// on it, and every form posted from the page says which tab it was on, so the page it
// comes back to opens on the same tab (Apply decision, Mark ..., reminders).
(function () {
  'use strict';
  function shownTab() {
    var link = document.querySelector('.nav-tabs .nav-link.active[data-toggle="tab"]');
    return link ? link.getAttribute('href').slice(1) : 'detail';
  }
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if ((form.getAttribute('method') || '').toLowerCase() !== 'post') { return; }
    var input = form.querySelector('input[name="tab"]');
    if (!input) {
      input = document.createElement('input');
      input.type = 'hidden';
      input.name = 'tab';
      form.appendChild(input);
    }
    input.value = shownTab();
  }, true);
  document.addEventListener('click', function (event) {
    var link = event.target.closest('.nav-tabs a[data-toggle="tab"]');
    if (!link) { return; }
    var url = new URL(window.location.href);
    url.searchParams.set('tab', link.getAttribute('href').slice(1));
    window.history.replaceState(null, '', url.toString());
  });
})();
