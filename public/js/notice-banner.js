/* TOYBOX incident banner: one <script src=".../banner.js" defer> on any page.
   No dependencies; never throws into the host page; renders inside a shadow root.
   The portal writes the current notices into this file (__DATA__), so a page of any origin
   shows them without a cross-origin fetch; the file is revalidated (ETag, 304) on every page view. */
(function () {
  'use strict';
  try {
    var script = document.currentScript;
    if (!script || !script.src) return;
    var origin = new URL(script.src, location.href).origin;
    var CSS = __CSS__;
    var LABELS = __LABELS__;
    var DATA = __DATA__;
    var KEY = 'toybox-notice-dismissed';
    var COLLAPSED = 'toybox-notice-collapsed';
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
    var readCollapsed = function () {
      try { return localStorage.getItem(COLLAPSED) || ''; } catch (e) { return ''; }
    };
    var writeCollapsed = function (v) {
      try { if (v) localStorage.setItem(COLLAPSED, v); else localStorage.removeItem(COLLAPSED); } catch (e) { /* this page view only */ }
    };
    // Same-site links in a notice (/status) lead to the portal, not to the page that shows the banner.
    var absolutize = function (root) {
      var links = root.querySelectorAll('a[href]');
      for (var i = 0; i < links.length; i++) {
        var href = links[i].getAttribute('href');
        if (href && href.charAt(0) === '/' && href.charAt(1) !== '/') links[i].href = new URL(href, origin + '/').href;
      }
    };
    // The host element's own box, set inline with !important so no site rule (not even `* {}`) can move it.
    var place = function (host, collapsed) {
      var p = collapsed
        ? { top: 'auto', bottom: '12px', left: '12px', right: 'auto' }
        : { top: '0px', bottom: 'auto', left: '0px', right: '0px' };
      var all = {
        position: 'fixed', margin: '0', padding: '0', border: '0', background: 'transparent', overflow: 'visible',
        width: 'auto', height: 'auto', 'max-width': 'none', 'max-height': 'none', 'min-width': '0', 'min-height': '0',
        'z-index': '2147483647', display: 'block', visibility: 'visible', opacity: '1', transform: 'none',
        // the host's box never takes clicks: only the bar's own contents do
        'pointer-events': 'none', inset: p.top + ' ' + p.right + ' ' + p.bottom + ' ' + p.left,
      };
      for (var k in all) host.style.setProperty(k, all[k], 'important');
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
      absolutize(body);
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
      var tags = notices.map(function (n) { return n.id + ':' + n.version; }).join(',');
      var worst = notices.reduce(function (w, n) {
        return n.severity === 'critical' || (n.severity === 'warning' && w !== 'critical') ? n.severity : w;
      }, 'info');
      var bar = el('div', 'tbx-bar tbx-' + worst);
      var wrap = el('div', 'tbx-notices');
      wrap.setAttribute('lang', lang);
      var tools = el('div', 'tbx-tools');
      var collapse = el('button', 'tbx-collapse', L.collapse);
      collapse.type = 'button';
      collapse.setAttribute('aria-label', L.collapseLabel);
      collapse.setAttribute('aria-expanded', 'true');
      tools.appendChild(collapse);
      var tab = el('button', 'tbx-tab tbx-' + worst);
      tab.type = 'button';
      tab.setAttribute('aria-label', L.expandLabel);
      tab.setAttribute('aria-expanded', 'false');
      var left = notices.length;
      var setCount = function () { tab.textContent = L.expand.replace('{n}', String(left)); };
      var show = function (collapsed) {
        bar.hidden = collapsed;
        tab.hidden = !collapsed;
        place(host, collapsed);
      };
      collapse.addEventListener('click', function () {
        writeCollapsed(tags); // until a notice changes: a new version opens the bar again
        show(true);
        tab.focus();
      });
      tab.addEventListener('click', function () {
        writeCollapsed('');
        show(false);
        collapse.focus();
      });
      notices.forEach(function (n) {
        wrap.appendChild(item(n, function () {
          left -= 1;
          setCount();
          if (!left && host.parentNode) host.parentNode.removeChild(host);
        }));
      });
      setCount();
      bar.appendChild(wrap);
      bar.appendChild(tools);
      root.appendChild(bar);
      root.appendChild(tab);
      show(readCollapsed() === tags);
      // First in the document for screen readers; painted in the top layer (popover) above every
      // z-index, fixed video and overflow:hidden box of the page. Older browsers: fixed at the highest z-index.
      document.body.insertBefore(host, document.body.firstChild);
      if (typeof host.showPopover === 'function') {
        host.setAttribute('popover', 'manual');
        try { host.showPopover(); } catch (e) { /* stays a fixed bar */ }
      }
    };

    var show = function () {
      try { render(DATA); } catch (e) { /* never break the host page */ }
    };
    // without defer (a tag in <head>) the body may not exist yet
    if (document.body) show();
    else document.addEventListener('DOMContentLoaded', show);
  } catch (e) { /* never break the host page */ }
})();
