// The review page: paged list of flagged pairs, decisions kept in localStorage, CSV export.
(() => {
  'use strict';
  const D = JSON.parse(document.getElementById('review-data').textContent);
  const KEY = 'curate-review:' + D.digest;
  const PAGE = 40;                                  // cards rendered at once
  const byId = new Map(D.items.map(it => [it.id, it]));
  // One entry per (check, pair): a pair flagged by two checks is listed under both.
  const entries = [];
  for (const c of D.checks) {
    const rows = D.items.filter(it => it.checks.includes(c.name));
    rows.sort((a, b) => (b.scores[c.name] || 0) - (a.scores[c.name] || 0));
    for (const it of rows) entries.push({check: c.name, item: it});
  }
  let saved = {};
  try { saved = JSON.parse(localStorage.getItem(KEY) || '{}'); } catch (e) { saved = {}; }
  const state = {decisions: saved.decisions || {}, undo: [], cursor: 0, page: 0,
                 check: '', decision: ''};
  const $ = id => document.getElementById(id);
  const root = document.documentElement.style;
  const esc = s => String(s).replace(/[&<>"]/g, ch => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[ch]));

  const decisionOf = it => (state.decisions[it.id] || {}).decision || it.default;
  const decidedByPerson = it => it.id in state.decisions;
  function save() {
    try { localStorage.setItem(KEY, JSON.stringify({decisions: state.decisions})); } catch (e) { /* full or blocked */ }
  }
  function setDecision(ids, decision, record = true) {
    const before = {};
    for (const id of ids) {
      before[id] = state.decisions[id] ? {...state.decisions[id]} : null;
      const note = (state.decisions[id] || {}).note || '';
      state.decisions[id] = {decision, note, time: new Date().toISOString()};
    }
    if (record) state.undo.push(before);
    save(); refresh();
  }
  function resetIds(ids) {
    const before = {};
    for (const id of ids) { before[id] = state.decisions[id] ? {...state.decisions[id]} : null; delete state.decisions[id]; }
    state.undo.push(before); save(); refresh();
  }
  function undo() {
    const before = state.undo.pop();
    if (!before) return;
    for (const [id, old] of Object.entries(before)) {
      if (old) state.decisions[id] = old; else delete state.decisions[id];
    }
    save(); refresh();
  }
  function setNote(id, note) {
    const it = byId.get(id);
    const d = state.decisions[id] || {decision: decisionOf(it), time: new Date().toISOString()};
    state.decisions[id] = {...d, note};
    save(); counter();
  }

  function visible() {
    return entries.filter(e => (!state.check || e.check === state.check) && (() => {
      const d = decisionOf(e.item);
      switch (state.decision) {
        case 'open': return !decidedByPerson(e.item);
        case 'remove': case 'keep': return d === state.decision;
        case 'changed': return d !== e.item.default;
        default: return true;
      }
    })());
  }

  // --- pictures ---------------------------------------------------------------------------
  // box: the region the model disputes, in percent of the picture (label issues)
  function overlay(id, caption, cls = '', mask = null, box = null) {
    const px = D.pixels[id];
    if (!px) return `<div class="na">${esc(id)}: picture not available</div>`;
    const region = box ? `<div class="dispute" title="${esc(box.caption)}" style="top:${box.top}%;` +
      `left:${box.left}%;height:${box.height}%;width:${box.width}%"></div>` : '';
    const text = box ? `${caption}; boxed: ${box.caption}` : caption;
    return `<figure class="${cls}"><div class="stack"><img alt="${esc(id)}" src="${px[0]}">` +
      `<img class="mask" alt="" src="${mask || px[1]}">${region}</div><figcaption>${esc(text)}</figcaption></figure>`;
  }
  const GROUPED = ['exact_duplicate', 'duplicate_image', 'near_duplicate', 'shared_mask'];
  const side = (label, figures) =>
    `<div class="extra"><div class="group-label">${esc(label)}</div><div class="figures">${figures.join('')}</div></div>`;
  function extras(e) {
    const it = e.item;
    if (GROUPED.includes(e.check) && it.group.length) {
      return side(`${e.check === 'shared_mask' ? 'the other pairs with this very mask' : 'its duplicate group'} (${it.group.length + 1} pairs in all):`,
        it.group.map(g => overlay(g, g + (byId.has(g) ? ' (flagged: ' + decisionOf(byId.get(g)) + ')' : ' (not flagged)'), 'small')));
    }
    if (e.check === 'odd_image') {
      if (!it.like.length) return '<div class="na">no similar typical images recorded</div>';
      return side('its most similar typical images:', it.like.map(g => overlay(g, g, 'small')));
    }
    if (e.check === 'label_issue') {
      if (it.predicted) return overlay(it.id, 'predicted mask (cross-validated model)', '', D.predicted[it.id], it.dispute);
      return '<div class="na">predicted mask not available: oof_probs.npy was not found beside ' +
        esc(D.label_quality || 'label_quality.csv') + '</div>';
    }
    return '';
  }
  function card(e, n) {
    const it = e.item, d = decisionOf(it), mine = decidedByPerson(it);
    const score = (it.scores[e.check] || 0).toFixed(3);
    const groupButtons = it.group.length && GROUPED.includes(e.check)
      ? `<button data-bulk-group="remove">remove flagged of group</button><button data-bulk-group="keep">keep whole group</button>` : '';
    const more = extras(e);
    return `<article class="card ${d}${more ? '' : ' single'}${n === state.cursor ? ' current' : ''}" data-n="${n}" data-id="${esc(it.id)}">
      <header><span class="id">${esc(it.id)}</span><span>${esc(e.check)} score ${score}</span>
      ${it.checks.length > 1 ? `<span class="badge">also: ${esc(it.checks.filter(c => c !== e.check).join(', '))}</span>` : ''}
      <span class="badge">default: ${it.default}</span>
      <span class="badge ${mine ? d : ''}">${mine ? 'decided: ' + d : 'not decided yet'}</span></header>
      <div class="reason">${esc(it.reason)}</div>
      <div class="figures">${e.check === 'label_issue' ? overlay(it.id, 'given mask', 'self', null, it.dispute) : overlay(it.id, 'this pair', 'self')}${more}</div>
      <div class="actions"><button class="remove${d === 'remove' ? ' on' : ''}" data-decide="remove" title="x">remove (x)</button>
      <button class="keep${d === 'keep' ? ' on' : ''}" data-decide="keep" title="a">keep (a)</button>${groupButtons}
      <input type="text" placeholder="note" value="${esc((state.decisions[it.id] || {}).note || '')}"></div></article>`;
  }

  // --- rendering --------------------------------------------------------------------------
  function counter() {
    const open = D.items.filter(it => !decidedByPerson(it)).length;
    const removing = D.items.filter(it => decisionOf(it) === 'remove').length;
    $('counter').textContent = `${open} of ${D.items.length} flagged pairs left to look at · ` +
      `${removing} to remove · ${D.items.length - removing} to keep (of ${D.pairs} pairs)`;
  }
  function checksTable() {
    $('checks').innerHTML = '<tr><th>check</th><th>flagged</th><th>default</th><th>left</th><th>all of this check</th></tr>' +
      D.checks.map(c => {
        const its = D.items.filter(it => it.checks.includes(c.name));
        const left = its.filter(it => !decidedByPerson(it)).length;
        return `<tr><td class="name" data-check="${c.name}">${c.name}</td><td>${c.count}</td>` +
          `<td>${c.removes ? 'remove' : 'keep (review only)'}</td><td>${left}</td><td>` +
          `<button data-bulk="remove" data-check="${c.name}">remove all</button> ` +
          `<button data-bulk="keep" data-check="${c.name}">keep all</button> ` +
          `<button data-bulk="reset" data-check="${c.name}">back to defaults</button></td></tr>`;
      }).join('');
  }
  function refresh() {
    const list = visible();
    state.cursor = Math.max(0, Math.min(state.cursor, list.length - 1));
    state.page = Math.floor(state.cursor / PAGE);
    const start = state.page * PAGE, shown = list.slice(start, start + PAGE);
    let html = '', last = '';
    shown.forEach((e, k) => {
      if (e.check !== last) { html += `<h2 class="check">${esc(e.check)}</h2>`; last = e.check; }
      html += card(e, start + k);
    });
    $('list').innerHTML = html || '<p>Nothing matches these filters.</p>';
    const pages = Math.max(1, Math.ceil(list.length / PAGE));
    $('pager').innerHTML = `<button data-page="-1">previous page</button>` +
      `<span>page ${state.page + 1} of ${pages} (${list.length} entries)</span><button data-page="1">next page</button>`;
    counter(); checksTable();
    root.setProperty('--bar', $('bar').offsetHeight + 'px');
  }
  function current() { return document.querySelector('.card.current'); }
  function move(step) {
    const list = visible();
    if (!list.length) return;
    const next = Math.max(0, Math.min(list.length - 1, state.cursor + step));
    if (Math.floor(next / PAGE) !== state.page) { state.cursor = next; refresh(); }
    else {
      const old = current(); if (old) old.classList.remove('current');
      state.cursor = next;
    }
    const now = document.querySelector(`.card[data-n="${state.cursor}"]`);
    if (now) { now.classList.add('current'); now.scrollIntoView({block: 'nearest'}); }
  }
  function decideCurrent(decision) {
    const list = visible(), e = list[state.cursor];
    if (!e) return;
    setDecision([e.item.id], decision);
    // under a decision filter the card may leave the list: stay at the same position
    if (visible().length === list.length) move(1);
  }

  // --- events -----------------------------------------------------------------------------
  document.addEventListener('keydown', ev => {
    if (ev.target.matches('input[type=text], select, textarea') || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const keys = {j: () => move(1), ArrowDown: () => move(1), ArrowRight: () => move(1),
      k: () => move(-1), ArrowUp: () => move(-1), ArrowLeft: () => move(-1),
      x: () => decideCurrent('remove'), a: () => decideCurrent('keep'), u: undo,
      m: () => { $('show-mask').checked = !$('show-mask').checked; maskToggle(); },
      PageDown: () => move(PAGE), PageUp: () => move(-PAGE)};
    if (keys[ev.key]) { ev.preventDefault(); keys[ev.key](); }
  });
  document.addEventListener('click', ev => {
    const t = ev.target.closest('button, td.name, .card');
    if (!t) return;
    const cardEl = ev.target.closest('.card');
    if (cardEl) state.cursor = Number(cardEl.dataset.n);
    if (t.dataset.decide) setDecision([cardEl.dataset.id], t.dataset.decide);
    else if (t.dataset.bulkGroup) {
      const it = byId.get(cardEl.dataset.id);
      const ids = [it.id, ...it.group].filter(id => byId.has(id));
      setDecision(ids, t.dataset.bulkGroup);
    } else if (t.dataset.bulk) {
      const ids = D.items.filter(it => it.checks.includes(t.dataset.check)).map(it => it.id);
      if (t.dataset.bulk === 'reset') resetIds(ids); else setDecision(ids, t.dataset.bulk);
    } else if (t.matches('td.name')) { state.check = t.dataset.check; $('filter-check').value = state.check; state.cursor = 0; refresh(); }
    else if (t.dataset.page) { state.cursor = (state.page + Number(t.dataset.page)) * PAGE; refresh(); window.scrollTo(0, 0); }
    else if (t.id === 'undo') undo();
    else if (t.id === 'export') exportCsv();
    else if (cardEl) { const old = current(); if (old) old.classList.remove('current'); cardEl.classList.add('current'); }
  });
  document.addEventListener('change', ev => {
    const card = ev.target.closest('.card');
    if (card && ev.target.matches('input[type=text]')) setNote(card.dataset.id, ev.target.value);
  });
  $('filter-check').innerHTML += D.checks.map(c => `<option value="${c.name}">${c.name} (${c.count})</option>`).join('');
  $('filter-check').addEventListener('change', ev => { state.check = ev.target.value; state.cursor = 0; refresh(); });
  $('filter-decision').addEventListener('change', ev => { state.decision = ev.target.value; state.cursor = 0; refresh(); });
  $('opacity').addEventListener('input', ev => root.setProperty('--mask-opacity', ev.target.value / 100));
  function maskToggle() { document.body.classList.toggle('nomask', !$('show-mask').checked); }
  $('show-mask').addEventListener('change', maskToggle);
  // Thumbnails sized for the screen: four across on a wide window, one on a phone.
  const fit = Math.max(128, Math.min(384, Math.floor((window.innerWidth - 80) / 4 / 32) * 32));
  $('zoom').value = fit; root.setProperty('--thumb', fit + 'px');
  $('zoom').addEventListener('input', ev => root.setProperty('--thumb', ev.target.value + 'px'));
  $('legend').innerHTML = D.classes.map(c =>
    `<span><span class="swatch${c.ignored ? ' ignored' : ''}" style="background:${c.colour}"></span>${c.index} ${esc(c.name)}${c.ignored ? ' (ignored: not coloured)' : ''}</span>`).join('') +
    '<span><span class="swatch" style="background:#f0f"></span>label outside the classes</span>';

  // --- export -----------------------------------------------------------------------------
  const cell = v => /[",\n\r]/.test(v) ? '"' + String(v).replace(/"/g, '""') + '"' : String(v);
  function csv() {
    const rows = [['id', 'decision', 'checks', 'note', 'time']];
    for (const it of D.items) {
      const d = state.decisions[it.id];
      if (d) rows.push([it.id, d.decision, it.checks.join(';'), d.note || '', d.time]);
    }
    return rows.map(r => r.map(cell).join(',')).join('\n') + '\n';
  }
  function exportCsv() {
    const a = $('download');
    if (a.href) URL.revokeObjectURL(a.href);
    a.href = URL.createObjectURL(new Blob([csv()], {type: 'text/csv'}));
    a.hidden = false; a.click();
  }
  // For tests and scripts: the export's text and the current decisions.
  window.curateReview = {csv, decisions: () => JSON.parse(JSON.stringify(state.decisions)),
                         ready: true};
  refresh();
})();
