/* TOYBOX incident banner: one <script src=".../banner.js" defer> on any page.
   No dependencies; never throws into the host page; renders inside a shadow root. */
(function () {
  'use strict';
  try {
    var script = document.currentScript;
    if (!script || !script.src || !window.fetch) return;
    var origin = new URL(script.src, location.href).origin;
    var CSS = __CSS__;
    var LABELS = __LABELS__;
    var KEY = 'toybox-notice-dismissed';
    var lang = (document.documentElement.lang || '').toLowerCase().indexOf('en') === 0 ? 'en' : 'ja';
    var L = LABELS[lang];

    var readDismissed = function () {
      try {
        var v = JSON.parse(localStorage.getItem(KEY) || '[]');
        return Array.isArray(v) ? v : [];
      } catch (e) {
        return [];
      }
    };
    var remember = function (tag) {
      try {
        var list = readDismissed().filter(function (t) { return t !== tag; });
        list.push(tag);
        localStorage.setItem(KEY, JSON.stringify(list.slice(-30)));
      } catch (e) { /* private mode: dismissal lasts this page view */ }
    };
    var el = function (tag, cls, text) {
      var e = document.createElement(tag);
      if (cls) e.className = cls;
      if (text) e.textContent = text;
      return e;
    };

    var item = function (n, onGone) {
      var tag = n.id + ':' + n.version;
      var box = el('div', 'tbx-notice tbx-' + n.severity);
      box.setAttribute('role', n.severity === 'critical' ? 'alert' : 'status');
      var main = el('div', 'tbx-main');
      var title = el('p', 'tbx-title', n.title[lang] || n.title.ja);
      if (n.when && n.when[lang]) title.appendChild(el('span', 'tbx-when', n.when[lang]));
      var body = el('div', 'tbx-body');
      body.innerHTML = n.message[lang] || n.message.ja; // rendered and neutralised by the portal (markdown-it, html: false)
      var more = el('p', 'tbx-more');
      var link = el('a', '', L.more);
      link.href = origin + '/status?lang=' + lang;
      more.appendChild(link);
      main.appendChild(title);
      main.appendChild(body);
      main.appendChild(more);
      var button = el('button', 'tbx-dismiss', L.close);
      button.type = 'button';
      button.setAttribute('aria-label', L.dismiss + ': ' + (n.title[lang] || n.title.ja));
      var dismiss = function () {
        remember(tag);
        box.parentNode && box.parentNode.removeChild(box);
        onGone();
      };
      button.addEventListener('click', dismiss);
      box.addEventListener('keydown', function (ev) {
        if (ev.key === 'Escape') dismiss();
      });
      box.appendChild(main);
      box.appendChild(button);
      return box;
    };

    var render = function (data) {
      var dismissed = readDismissed();
      var notices = ((data && data.notices) || []).filter(function (n) {
        return dismissed.indexOf(n.id + ':' + n.version) < 0;
      });
      if (!notices.length) return;
      var host = el('toybox-notice'); // an element name no site stylesheet targets
      var root = host.attachShadow ? host.attachShadow({ mode: 'open' }) : host;
      if ('adoptedStyleSheets' in root && window.CSSStyleSheet && CSSStyleSheet.prototype.replaceSync) {
        var sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS); // constructed sheets pass a strict style-src CSP
        root.adoptedStyleSheets = [sheet];
      } else {
        root.appendChild(el('style', '', CSS));
      }
      var wrap = el('div', 'tbx-notices');
      wrap.setAttribute('lang', lang);
      var left = notices.length;
      notices.forEach(function (n) {
        wrap.appendChild(item(n, function () {
          left -= 1;
          if (!left && host.parentNode) host.parentNode.removeChild(host);
        }));
      });
      root.appendChild(wrap);
      document.body.insertBefore(host, document.body.firstChild);
    };

    // revalidate on every page view (a 304 from memory): an update must show on the next page
    fetch(origin + '/api/notice', { credentials: 'omit', cache: 'no-cache' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        var show = function () {
          try { render(d); } catch (e) { /* never break the host page */ }
        };
        // without defer (a tag in <head>) the body may not exist yet
        if (document.body) show();
        else document.addEventListener('DOMContentLoaded', show);
      })
      .catch(function () { /* portal unreachable: show nothing */ });
  } catch (e) { /* never break the host page */ }
})();
