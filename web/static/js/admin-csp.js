// Flask-Admin's own templates carry a few inline event handlers (the "With selected"
// actions, "Add" on inline lines, the delete confirmation, filter links). Our
// Content-Security-Policy allows no inline script, so the browser refuses to run them; this
// file gives each the same behaviour by delegation, reading only which action it names.
(function () {
  'use strict';
  document.addEventListener('click', function (event) {
    var element = event.target.closest('[onclick]');
    if (!element) { return; }
    var code = element.getAttribute('onclick') || '';
    var action = /modelActions\.execute\('([^']+)'\)/.exec(code);
    var inline = /faForm\.addInlineField\(this, '([^']+)'\)/.exec(code);
    var confirmation = /safeConfirm\('((?:[^'\\]|\\.)*)'\)/.exec(code);
    if (action && window.modelActions) {
      event.preventDefault();
      window.modelActions.execute(action[1]);
    } else if (inline && window.faForm) {
      event.preventDefault();
      window.faForm.addInlineField(element, inline[1]);
    } else if (confirmation) {
      if (!window.confirm(confirmation[1].replace(/\\(.)/g, '$1'))) { event.preventDefault(); }
    } else if (/^\s*return false;?\s*$/.test(code)) {
      event.preventDefault();
    }
  });
})();
