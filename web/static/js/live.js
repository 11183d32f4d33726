// Live pages: an element with data-live-url asks its URL, every data-live-interval ms, what
// changed since data-live-cursor. The answer is {"cursor", "interval", "parts"}: "parts" maps
// element ids to their new HTML, drawn (and escaped) by the server, and is empty when nothing
// changed, so an open page costs one small query per poll. With data-live-collect="ATTR" the
// values of that attribute on the page (the emails shown) go along as ?ids=.
(function () {
  'use strict';

  function collectIds(attribute) {
    var seen = {};
    document.querySelectorAll('[' + attribute + ']').forEach(function (element) {
      seen[element.getAttribute(attribute)] = true;
    });
    return Object.keys(seen).join(',');
  }

  function follow(element) {
    var cursor = element.dataset.liveCursor || '';
    var interval = Number(element.dataset.liveInterval) || 2000;

    function address() {
      var url = new URL(element.dataset.liveUrl, window.location.href);
      url.searchParams.set('since', cursor);
      if (element.dataset.liveCollect) {
        url.searchParams.set('ids', collectIds(element.dataset.liveCollect));
      }
      return url.toString();
    }

    function later(ms) {
      window.setTimeout(ask, ms);
    }

    function place(parts) {
      Object.keys(parts).forEach(function (id) {
        var target = document.getElementById(id);
        if (target) { target.innerHTML = parts[id]; }
      });
      element.dispatchEvent(new CustomEvent('live:updated', {bubbles: true, detail: parts}));
    }

    function ask() {
      if (document.hidden) { later(interval); return; }  // nobody is looking: ask later
      fetch(address(), {
        credentials: 'same-origin',
        headers: {Accept: 'application/json'},
        redirect: 'error'  // signed out: a login page is no answer
      }).then(function (response) {
        if (response.status >= 400 && response.status < 500) { return null; }  // gone, or no longer ours
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      }).then(function (answer) {
        if (answer === null) { return; }
        cursor = answer.cursor;
        interval = answer.interval || interval;
        place(answer.parts || {});
        later(interval);
      }).catch(function () {
        later(interval * 5);  // the server or the network hiccuped: try again, more slowly
      });
    }

    later(interval);
  }

  document.querySelectorAll('[data-live-url]').forEach(follow);
}());
