// An email of this claim is on its way: show its next state without a manual reload
// (while the Emails tab is the one shown).
(function () {
  'use strict';
  var marker = document.getElementById('emails-in-flight');
  if (!marker) { return; }
  setTimeout(function () {
    if (document.querySelector('#emails.active')) { window.location = marker.dataset.reload; }
  }, 3000);
})();
