// Live progress on the campaign page: polls the JSON endpoint while sending. The page works without it.
(function () {
  var box = document.getElementById('progress');
  if (!box || !window.fetch) return;
  var labels = JSON.parse(box.getAttribute('data-status-labels') || '{}');
  var url = box.getAttribute('data-url');
  function set(name, value) {
    var els = document.querySelectorAll('[data-field="' + name + '"]');
    for (var i = 0; i < els.length; i++) els[i].textContent = value;
  }
  function tick() {
    fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (r) { return r.json(); })
      .then(function (p) {
        ['queued', 'sending', 'sent', 'failed', 'skipped', 'remaining', 'per_minute'].forEach(function (k) { set(k, p[k]); });
        set('eta_seconds', p.eta_seconds === null ? '-' : p.eta_seconds + 's');
        set('funnel_imported', p.total); set('funnel_sent', p.sent); set('funnel_clicked', p.clicked); set('funnel_reregistered', p.reregistered);
        var bar = document.getElementById('progress-bar');
        if (bar) { bar.max = p.total || 1; bar.value = p.sent + p.failed + p.skipped; }
        var status = document.getElementById('campaign-status');
        if (status) { status.textContent = labels[p.status] || p.status; status.className = 'badge badge-' + p.status; }
        var reason = document.getElementById('pause-reason');
        if (reason) { reason.classList.toggle('hidden', !(p.status === 'paused' && p.pause_reason)); set('pause_reason', p.pause_reason || ''); }
        if (p.status === 'sending' || p.status === 'scheduled') setTimeout(tick, 2000);
      })
      .catch(function () { setTimeout(tick, 5000); });
  }
  tick();
})();
