// Live progress on the campaign page: polls the JSON endpoint until the campaign stops changing,
// and keeps everything on the page true meanwhile (counts, percentages, ETA, state, which actions
// are offered, whether the "sending started" notice still applies). The page works without it.
(function () {
  var box = document.getElementById('progress');
  if (!box || !window.fetch) return;
  var labels = JSON.parse(box.getAttribute('data-status-labels') || '{}');
  var url = box.getAttribute('data-url');
  var MOVING = { sending: true, scheduled: true };
  function set(name, value) {
    var els = document.querySelectorAll('[data-field="' + name + '"]');
    for (var i = 0; i < els.length; i++) els[i].textContent = value;
  }
  function each(selector, fn) {
    var els = document.querySelectorAll(selector);
    for (var i = 0; i < els.length; i++) fn(els[i]);
  }
  function show(p) {
    ['queued', 'sending', 'sent', 'failed', 'skipped', 'remaining', 'per_minute'].forEach(function (k) { set(k, p[k]); });
    set('eta_text', p.display.eta_text);
    set('percent_done', p.display.percent_done);
    set('funnel_imported', p.total); set('funnel_sent', p.sent); set('funnel_clicked', p.clicked); set('funnel_reregistered', p.reregistered);
    ['imported', 'sent', 'clicked', 'reregistered'].forEach(function (k) { set('funnel_' + k + '_pct', p.display.funnel_pct[k]); });
    var bar = document.getElementById('progress-bar');
    if (bar) { bar.max = p.total || 1; bar.value = p.sent + p.failed + p.skipped; }
    var status = document.getElementById('campaign-status');
    if (status) { status.textContent = labels[p.status] || p.status; status.className = 'badge badge-' + p.status; status.setAttribute('data-status', p.status); }
    var reason = document.getElementById('pause-reason');
    if (reason) { reason.classList.toggle('hidden', !(p.status === 'paused' && p.pause_reason)); set('pause_reason', p.pause_reason || ''); }
    each('[data-states]', function (el) {
      var allowed = el.getAttribute('data-states').split(' ').indexOf(p.status) >= 0 && !(el.hasAttribute('data-needs-failed') && p.failed === 0);
      el.hidden = !allowed;
    });
    // A notice such as "sending started" describes the state it was given in, not the one after.
    each('[data-shown-while]', function (el) { if (el.getAttribute('data-shown-while') !== p.status) el.hidden = true; });
  }
  function tick() {
    fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
      .then(function (p) {
        show(p);
        if (MOVING[p.status]) setTimeout(tick, 2000);
      })
      .catch(function () { setTimeout(tick, 5000); });
  }
  tick();
})();
