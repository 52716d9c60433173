// The review page: cards of flagged pairs (one per pair and check, one per duplicate or
// shared-mask group), a page at a time. The cards' data comes in parts: inline in the single
// page, or data/part-NNNN.js scripts beside index.html, loaded when a page needs them (a
// script loads from file://, where fetch() is refused). data/index.js holds what paging,
// filters, counts and the export need of every card: ids, defaults, checks, members.
// Decisions live in localStorage under the dataset's digest: a person's decision per pair,
// and the bulk decisions per check as rules (100,000 pairs would not fit one by one), and
// per disputed region of a label issue, accept the model's class or keep the mask, stored
// with the region's label, box and pixels so that region_fixes.csv needs no part loaded.
(() => {
  'use strict';
  const M = JSON.parse(document.getElementById('review-meta').textContent);
  const KEY = 'curate-review:' + M.digest;
  const PAGE = M.page, CHUNK = M.chunk;
  const CHECKS = M.checks.map(c => c.name);
  const BIT = Object.fromEntries(CHECKS.map((c, k) => [c, 1 << k]));
  let I = null;                                   // the index (data/index.js)
  const parts = new Map(), loading = new Map();
  window.curateReviewData = {index: x => { I = x; }, part: (n, x) => { parts.set(n, x); }};

  const $ = id => document.getElementById(id);
  const root = document.documentElement.style;
  const esc = s => String(s).replace(/[&<>"]/g, ch => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[ch]));
  function script(src) {
    return new Promise((ok, fail) => {
      const s = document.createElement('script');
      s.src = src; s.onload = ok; s.onerror = () => fail(new Error(src + ' could not be loaded'));
      document.head.appendChild(s);
    });
  }
  function part(n) {
    if (parts.has(n)) return Promise.resolve();
    if (!loading.has(n)) loading.set(n, script(`data/part-${String(n + 1).padStart(4, '0')}.js`));
    return loading.get(n);
  }
  const cardAt = pos => parts.get(Math.floor(pos / CHUNK)).cards[pos % CHUNK];

  // --- decisions --------------------------------------------------------------------------
  // decisions: {id: [decision, time]}; notes: {id: note}; rules: [[check, decision | 'default', time]]
  // regions: {id: {region: [accept | keep, time, predicted_label, box, pixels]}} (skip: absent)
  let saved = {};
  try { saved = JSON.parse(localStorage.getItem(KEY) || '{}'); } catch (e) { saved = {}; }
  const state = {decisions: {}, notes: saved.notes || {}, rules: saved.rules || [], undo: [],
                 regions: saved.regions || {}, pick: 1, cursor: 0, check: '', decision: ''};
  for (const [id, d] of Object.entries(saved.decisions || {})) {
    if (Array.isArray(d)) state.decisions[id] = d;
    else { state.decisions[id] = [d.decision, d.time]; if (d.note) state.notes[id] = d.note; }  // pages before 2
  }
  const now = () => new Date().toISOString();
  const defaultOf = n => I.defaults[n] === 'r' ? 'remove' : 'keep';
  function ruleOf(n) {                            // the latest bulk decision that covers pair n
    for (let k = state.rules.length - 1; k >= 0; k--) if (I.checks[n] & BIT[state.rules[k][0]]) return state.rules[k];
    return null;
  }
  function personal(n) {                          // [decision, time] a person made, or null
    const own = state.decisions[I.ids[n]];
    if (own) return own;
    const rule = state.rules.length ? ruleOf(n) : null;
    return rule && rule[1] !== 'default' ? [rule[1], rule[2]] : null;
  }
  const decisionOf = n => (personal(n) || [defaultOf(n)])[0];
  function save() {
    try {
      localStorage.setItem(KEY, JSON.stringify({v: 2, decisions: state.decisions, notes: state.notes, rules: state.rules,
                                                regions: state.regions}));
    } catch (e) { $('counter').textContent += ' · could not save in this browser: export now'; }
  }
  function remember(ids) {                         // what undo puts back
    const before = {rules: state.rules.slice(), decisions: {}};
    for (const id of ids) before.decisions[id] = state.decisions[id] || null;
    state.undo.push(before);
  }
  function decide(ns, decision) {
    remember(ns.map(n => I.ids[n]));
    const t = now();
    for (const n of ns) state.decisions[I.ids[n]] = [decision, t];
    save(); return refresh();
  }
  function bulk(check, decision) {                // decision: remove, keep or default
    const ids = [];
    for (let n = 0; n < I.ids.length; n++) if ((I.checks[n] & BIT[check]) && state.decisions[I.ids[n]]) ids.push(I.ids[n]);
    remember(ids);
    for (const id of ids) delete state.decisions[id];
    state.rules = state.rules.filter(r => r[0] !== check).concat([[check, decision, now()]]);
    save(); return refresh();
  }
  function undo() {
    const before = state.undo.pop();
    if (!before) return;
    state.rules = before.rules;
    for (const [id, old] of Object.entries(before.decisions)) {
      if (old) state.decisions[id] = old; else delete state.decisions[id];
    }
    for (const [id, old] of Object.entries(before.regions || {})) {
      if (old) state.regions[id] = old; else delete state.regions[id];
    }
    save(); return refresh();
  }
  const regionOf = (id, r) => ((state.regions[id] || {})[r] || ['skip'])[0];
  function decideRegion(it, r, decision) {        // decision: accept, keep or skip
    const region = (it.regions || []).find(g => g.region === r);
    if (!region) return;
    const old = state.regions[it.id], mine = {...(old || {})};
    state.undo.push({rules: state.rules.slice(), decisions: {}, regions: {[it.id]: old || null}});
    if (decision === 'skip') delete mine[r];
    else mine[r] = [decision, now(), region.predicted_label, region.box, region.pixels];
    if (Object.keys(mine).length) state.regions[it.id] = mine; else delete state.regions[it.id];
    state.pick = r;
    save(); return refresh();
  }
  function setNote(ns, note) {
    for (const n of ns) {
      const id = I.ids[n];
      if (!personal(n)) state.decisions[id] = [decisionOf(n), now()];   // a note is a look
      if (note) state.notes[id] = note; else delete state.notes[id];
    }
    save(); counter();
  }

  // --- which cards --------------------------------------------------------------------------
  function matches(pos) {
    const c = I.cards[pos];
    if (state.check && CHECKS[c[0]] !== state.check) return false;
    if (!state.decision) return true;
    for (let k = 1; k < c.length; k++) {
      const n = c[k], d = decisionOf(n);
      if (state.decision === 'open' ? !personal(n) : state.decision === 'changed' ? d !== defaultOf(n) : d === state.decision) return true;
    }
    return false;
  }
  let list = [];
  function filter() {
    list = [];
    for (let pos = 0; pos < I.cards.length; pos++) if (matches(pos)) list.push(pos);
  }
  const pages = () => Math.max(1, Math.ceil(list.length / PAGE));

  // --- pictures ---------------------------------------------------------------------------
  // box: the region the model disputes, in percent of the picture (label issues), or the
  // list of a label issue's regions, each boxed with its number
  const place = b => `top:${b.top}%;left:${b.left}%;height:${b.height}%;width:${b.width}%`;
  function marks(id, box) {
    if (!Array.isArray(box)) return box ? `<div class="dispute" title="${esc(box.caption)}" style="${place(box)}"></div>` : '';
    return box.map(g => `<div class="dispute region ${regionOf(id, g.region)}${g.region === state.pick ? ' picked' : ''}" ` +
      `data-region="${g.region}" title="${esc(g.caption)}" style="${place(g)}">${outline(g)}<span class="num">${g.region}</span></div>`).join('');
  }
  // the region's own pixels inside its box: its runs "start length ..." over the box row by
  // row (curate/io/region_pixels.py), drawn as one path in the box's pixel grid
  function outline(g) {
    const [r0, c0, r1, c1] = g.box.split(' ').map(Number), w = c1 - c0, h = r1 - r0;
    const runs = g.pixels.split(' ').map(Number);
    let d = '';
    for (let k = 0; k + 1 < runs.length; k += 2) {
      let start = runs[k], left = runs[k + 1];
      while (left > 0) {
        const row = Math.floor(start / w), col = start % w, n = Math.min(left, w - col);
        d += `M${col} ${row}h${n}v1h${-n}z`;
        start += n; left -= n;
      }
    }
    return `<svg viewBox="0 0 ${w} ${h}" preserveAspectRatio="none"><path d="${d}"/></svg>`;
  }
  function figure(p, id, caption, cls = '', mask = null, box = null, buttons = '') {
    const px = p.pics[id];
    if (!px) return `<div class="na">${esc(id)}: picture not available</div>`;
    const region = marks(id, box);
    const text = Array.isArray(box) ? `${caption}; disputed regions shaded and boxed by number` :
      box ? `${caption}; boxed: ${box.caption}` : caption;
    return `<figure class="${cls}"><div class="stack"><img alt="${esc(id)}" loading="lazy" src="${esc(px[0])}">` +
      `<img class="mask" alt="" loading="lazy" src="${esc(mask || px[1])}">${region}</div><figcaption>${esc(text)}</figcaption>${buttons}</figure>`;
  }
  const side = (label, figures) =>
    `<div class="extra"><div class="group-label">${esc(label)}</div><div class="figures">${figures.join('')}</div></div>`;
  function extras(p, check, it) {
    if (check === 'odd_image') {
      if (!it.like.length) return '<div class="na">no similar typical images recorded</div>';
      return side('its most similar typical images:', it.like.map(g => figure(p, g, g, 'small')));
    }
    if (check === 'label_issue') {
      if (it.predicted) return figure(p, it.id, 'predicted mask (cross-validated model)', '', p.predicted[it.id], shown(it));
      return '<div class="na">predicted mask not available: oof_probs.npy was not found beside ' +
        esc(M.label_quality || 'label_quality.csv') + '</div>';
    }
    return '';
  }
  const shown = it => it.regions && it.regions.length ? it.regions : it.dispute;
  const CHOICES = [['accept', 'accept prediction', 'p'], ['keep', 'keep mask', 'o'], ['skip', 'skip', 's']];
  function regionList(it) {                       // one row per region: its caption and choices
    if (!it.regions || !it.regions.length) return '';
    return '<ol class="regions">' + it.regions.map(g => {
      const d = regionOf(it.id, g.region);
      return `<li class="${d}${g.region === state.pick ? ' picked' : ''}" data-region="${g.region}">` +
        `<span class="text">${esc(g.caption)}</span>` + CHOICES.map(([value, label, key]) =>
          `<button class="${value}${d === value ? ' on' : ''}" data-region-decide="${value}" title="${g.region} then ${key}">${label}</button>`).join('') +
        '</li>';
    }).join('') + '</ol>';
  }
  const buttons = (d, what = '') =>
    `<button class="remove${d === 'remove' ? ' on' : ''}" data-decide="remove" title="x">remove${what} (x)</button>` +
    `<button class="keep${d === 'keep' ? ' on' : ''}" data-decide="keep" title="a">keep${what} (a)</button>`;
  function groupCard(p, c, k) {
    const ns = c.members.map(m => m.n), ds = ns.map(decisionOf);
    const removing = ds.filter(d => d === 'remove').length, mine = ns.filter(n => personal(n)).length;
    const d = removing === ns.length ? 'remove' : removing === 0 ? 'keep' : 'mixed';
    const score = Math.max(...c.members.map(m => m.scores[c.check] || 0)).toFixed(3);
    const size = ns.length + c.context.length;
    const what = c.check === 'shared_mask' ? 'pairs with this very mask' : 'duplicate group';
    const members = c.members.map((m, j) => figure(p, m.id, `${m.id} · flagged · ${ds[j]}${personal(m.n) ? '' : ' (default)'}`,
      'small member ' + ds[j], null, null, `<div class="member-actions" data-n="${m.n}">` +
      `<button class="remove${ds[j] === 'remove' ? ' on' : ''}" data-member="remove">remove</button>` +
      `<button class="keep${ds[j] === 'keep' ? ' on' : ''}" data-member="keep">keep</button></div>`));
    const context = c.context.map(id => figure(p, id, `${id} · not flagged · stays`, 'small context'));
    return `<article class="card group ${d}${k === state.cursor ? ' current' : ''}" data-k="${k}" data-pos="${list[k]}">
      <header><span class="id">${esc(c.check)} group of ${size}</span><span>score ${score}</span>
      <span class="badge">${ns.length} flagged, ${c.context.length} not</span>
      <span class="badge">default: ${esc(c.members[0].default)}</span>
      <span class="badge ${mine ? d : ''}">${mine === ns.length ? 'decided' : mine ? `decided ${mine} of ${ns.length}` : 'not decided yet'}: ${removing} remove, ${ns.length - removing} keep</span></header>
      <div class="reason">${esc(c.members[0].reason)}</div>
      <div class="group-label">the ${what} (${size} pairs in all); one decision for its ${ns.length} flagged pair(s), or one pair at a time under its picture:</div>
      <div class="figures">${members.join('')}${context.join('')}</div>
      <div class="actions">${buttons(d, ns.length > 1 ? ` all ${ns.length}` : '')}
      <input type="text" placeholder="note (for every flagged pair of the group)" value="${esc(state.notes[c.members[0].id] || '')}"></div></article>`;
  }
  function card(p, c, k) {
    if (c.key) return groupCard(p, c, k);
    const it = c.members[0], d = decisionOf(it.n), mine = personal(it.n);
    const more = extras(p, c.check, it);
    const self = c.check === 'label_issue' ? figure(p, it.id, 'given mask', 'self', null, shown(it)) : figure(p, it.id, 'this pair', 'self');
    return `<article class="card ${d}${more ? '' : ' single'}${k === state.cursor ? ' current' : ''}" data-k="${k}" data-pos="${list[k]}" data-id="${esc(it.id)}">
      <header><span class="id">${esc(it.id)}</span><span>${esc(c.check)} score ${(it.scores[c.check] || 0).toFixed(3)}</span>
      ${it.checks.length > 1 ? `<span class="badge">also: ${esc(it.checks.filter(x => x !== c.check).join(', '))}</span>` : ''}
      <span class="badge">default: ${it.default}</span>
      <span class="badge ${mine ? d : ''}">${mine ? 'decided: ' + d : 'not decided yet'}</span></header>
      <div class="reason">${esc(it.reason)}</div>
      <div class="figures">${self}${more}</div>${c.check === 'label_issue' ? regionList(it) : ''}
      <div class="actions">${buttons(d)}
      <input type="text" placeholder="note" value="${esc(state.notes[it.id] || '')}"></div></article>`;
  }

  // --- rendering --------------------------------------------------------------------------
  function counter() {
    let open = 0, removing = 0;
    for (let n = 0; n < I.ids.length; n++) {
      const p = personal(n);
      if (!p) open++;
      if ((p ? p[0] : defaultOf(n)) === 'remove') removing++;
    }
    const groups = M.checks.reduce((s, c) => s + c.groups, 0), grouped = M.checks.reduce((s, c) => s + c.grouped_pairs, 0);
    $('counter').textContent = `${open} of ${I.ids.length} flagged pairs left to look at · ` +
      `${removing} to remove · ${I.ids.length - removing} to keep (of ${M.pairs} pairs)` +
      (groups ? ` · ${groups} groups holding ${grouped} flagged pairs` : '') +
      (M.regions ? regionCount() : '');
  }
  function regionCount() {
    const rows = regionRows(), accepted = rows.filter(r => r[2] === 'accept').length;
    return ` · regions: ${accepted} accept the model, ${rows.length - accepted} keep the mask, of ${M.regions}`;
  }
  function checksTable() {
    const left = Object.fromEntries(CHECKS.map(c => [c, 0]));
    for (let n = 0; n < I.ids.length; n++) if (!personal(n)) for (const c of CHECKS) if (I.checks[n] & BIT[c]) left[c]++;
    $('checks').innerHTML = '<tr><th>check</th><th>flagged pairs</th><th>groups</th><th>default</th><th>left</th><th>all of this check</th></tr>' +
      M.checks.map(c => `<tr><td class="name" data-check="${c.name}">${c.name}</td><td>${c.count}</td>` +
        `<td>${c.groups ? `${c.groups} (${c.grouped_pairs} flagged pairs)` : ''}</td>` +
        `<td>${c.removes ? 'remove' : 'keep (review only)'}</td><td>${left[c.name]}</td><td>` +
        `<button data-bulk="remove" data-check="${c.name}">remove all</button> ` +
        `<button data-bulk="keep" data-check="${c.name}">keep all</button> ` +
        `<button data-bulk="default" data-check="${c.name}">back to defaults</button></td></tr>`).join('');
  }
  function pager(page) {
    if (!$('page-input')) {                       // drawn once: typing in it must not lose it
      $('pager-top').innerHTML = '<button data-page="-1">previous page</button><span>page ' +
        '<input id="page-input" class="page-input" type="number" min="1"> of <span id="pages"></span></span>' +
        '<button data-page="1">next page</button>';
    }
    if (document.activeElement !== $('page-input')) $('page-input').value = page + 1;
    $('page-input').max = pages();
    $('pages').textContent = `${pages()} (${list.length} cards)`;
    $('pager').innerHTML = `<button data-page="-1">previous page</button><span>page ${page + 1} of ${pages()}</span>` +
      '<button data-page="1">next page</button>';
  }
  let drawn = 0;
  async function refresh() {
    filter();
    state.cursor = Math.max(0, Math.min(state.cursor, list.length - 1));
    const page = Math.floor(state.cursor / PAGE), start = page * PAGE;
    const shown = list.slice(start, start + PAGE), token = ++drawn;
    await Promise.all([...new Set(shown.map(pos => Math.floor(pos / CHUNK)))].map(part));
    if (token !== drawn) return;                  // a newer refresh has begun
    let html = '', last = '';
    shown.forEach((pos, j) => {
      const c = cardAt(pos);
      if (c.check !== last) { html += `<h2 class="check">${esc(c.check)}</h2>`; last = c.check; }
      html += card(parts.get(Math.floor(pos / CHUNK)), c, start + j);
    });
    $('list').innerHTML = html || '<p>Nothing matches these filters.</p>';
    pager(page); counter(); checksTable();
    root.setProperty('--bar', $('bar').offsetHeight + 'px');
    if (!window.curateReview.ready) {
      window.curateReview.firstCardMs = performance.now();
      window.curateReview.ready = true;
    }
  }
  const current = () => document.querySelector('.card.current');
  async function move(step) {
    if (!list.length) return;
    const next = Math.max(0, Math.min(list.length - 1, state.cursor + step));
    const samePage = Math.floor(next / PAGE) === Math.floor(state.cursor / PAGE);
    if (next !== state.cursor) state.pick = 1;
    state.cursor = next;
    if (samePage) { const old = current(); if (old) old.classList.remove('current'); }
    else await refresh();
    const el = document.querySelector(`.card[data-k="${state.cursor}"]`);
    if (el) { el.classList.add('current'); el.scrollIntoView({block: 'nearest'}); }
  }
  async function goTo(page) {
    state.cursor = (Math.max(1, Math.min(pages(), page)) - 1) * PAGE;
    await refresh(); window.scrollTo(0, 0);
  }
  function regionKey(key) {                       // 1-9 pick a region; p, o, s decide it
    const pos = list[state.cursor];
    if (pos === undefined) return;
    const c = cardAt(pos), it = c.members[0];
    if (c.check !== 'label_issue' || !it.regions || !it.regions.length) return;
    if (/^[1-9]$/.test(key)) {
      if (it.regions.some(g => g.region === Number(key))) { state.pick = Number(key); return refresh(); }
      return;
    }
    return decideRegion(it, state.pick, {p: 'accept', o: 'keep', s: 'skip'}[key]);
  }
  async function decideCurrent(decision) {
    const pos = list[state.cursor];
    if (pos === undefined) return;
    const before = list.length;
    await decide(I.cards[pos].slice(1), decision);
    // under a decision filter the card may leave the list: stay at the same position
    if (list.length === before) await move(1);
  }

  // --- events -----------------------------------------------------------------------------
  document.addEventListener('keydown', ev => {
    if (!I || ev.target.matches('input, select, textarea') || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const keys = {j: () => move(1), ArrowDown: () => move(1), ArrowRight: () => move(1),
      k: () => move(-1), ArrowUp: () => move(-1), ArrowLeft: () => move(-1),
      x: () => decideCurrent('remove'), a: () => decideCurrent('keep'), u: undo,
      m: () => { $('show-mask').checked = !$('show-mask').checked; maskToggle(); },
      g: () => $('page-input').select(),
      PageDown: () => move(PAGE), PageUp: () => move(-PAGE)};
    if (/^[1-9pos]$/.test(ev.key)) { ev.preventDefault(); regionKey(ev.key); }
    else if (keys[ev.key]) { ev.preventDefault(); keys[ev.key](); }
  });
  document.addEventListener('click', ev => {
    const t = ev.target.closest('button, td.name, .card');
    if (!t || !I) return;
    const cardEl = ev.target.closest('.card');
    if (cardEl) state.cursor = Number(cardEl.dataset.k);
    if (t.dataset.regionDecide) {
      decideRegion(cardAt(Number(cardEl.dataset.pos)).members[0], Number(t.parentElement.dataset.region), t.dataset.regionDecide);
    } else if (t.dataset.decide) decide(I.cards[Number(cardEl.dataset.pos)].slice(1), t.dataset.decide);
    else if (t.dataset.member) decide([Number(t.parentElement.dataset.n)], t.dataset.member);
    else if (t.dataset.bulk) bulk(t.dataset.check, t.dataset.bulk);
    else if (t.matches('td.name')) { state.check = t.dataset.check; $('filter-check').value = state.check; state.cursor = 0; refresh(); }
    else if (t.dataset.page) goTo(Math.floor(state.cursor / PAGE) + 1 + Number(t.dataset.page));
    else if (t.id === 'undo') undo();
    else if (t.id === 'export') exportCsv();
    else if (t.id === 'export-regions') download('download-regions', regionCsv());
    else if (cardEl) { const old = current(); if (old) old.classList.remove('current'); cardEl.classList.add('current'); }
  });
  document.addEventListener('change', ev => {
    const cardEl = ev.target.closest('.card');
    if (cardEl && ev.target.matches('input[type=text]')) setNote(I.cards[Number(cardEl.dataset.pos)].slice(1), ev.target.value);
    else if (ev.target.id === 'page-input') goTo(Number(ev.target.value) || 1);
  });
  $('filter-check').innerHTML += M.checks.map(c => `<option value="${c.name}">${c.name} (${c.count})</option>`).join('');
  $('filter-check').addEventListener('change', ev => { state.check = ev.target.value; state.cursor = 0; refresh(); });
  $('filter-decision').addEventListener('change', ev => { state.decision = ev.target.value; state.cursor = 0; refresh(); });
  $('opacity').addEventListener('input', ev => root.setProperty('--mask-opacity', ev.target.value / 100));
  function maskToggle() { document.body.classList.toggle('nomask', !$('show-mask').checked); }
  $('show-mask').addEventListener('change', maskToggle);
  // Thumbnails sized for the screen: four across on a wide window, one on a phone.
  const fit = Math.max(128, Math.min(384, Math.floor((window.innerWidth - 80) / 4 / 32) * 32));
  $('zoom').value = fit; root.setProperty('--thumb', fit + 'px');
  $('zoom').addEventListener('input', ev => root.setProperty('--thumb', ev.target.value + 'px'));
  if (M.regions) $('export-regions').hidden = false;
  $('legend').innerHTML = M.classes.map(c =>
    `<span><span class="swatch${c.ignored ? ' ignored' : ''}" style="background:${c.colour}"></span>${c.index} ${esc(c.name)}${c.ignored ? ' (ignored: not coloured)' : ''}</span>`).join('') +
    '<span><span class="swatch" style="background:#f0f"></span>label outside the classes</span>';

  // --- export -----------------------------------------------------------------------------
  const cell = v => /[",\n\r]/.test(v) ? '"' + String(v).replace(/"/g, '""') + '"' : String(v);
  function decided() {                            // [[id, decision, checks, note, time]] of every decided pair
    const rows = [];
    for (let n = 0; n < I.ids.length; n++) {
      const p = personal(n), id = I.ids[n];
      if (p) rows.push([id, p[0], CHECKS.filter(c => I.checks[n] & BIT[c]).join(';'), state.notes[id] || '', p[1]]);
    }
    return rows;
  }
  const csv = () => [['id', 'decision', 'checks', 'note', 'time'], ...decided()].map(r => r.map(cell).join(',')).join('\n') + '\n';
  // region_fixes.csv: the accepted and kept regions, in the index's order of pairs, each
  // with what applying it needs (`curate outliers DATA --mask-fixes region_fixes.csv`)
  function regionRows() {
    const rows = [];
    for (const id of I.ids) {
      const mine = state.regions[id];
      if (!mine) continue;
      for (const r of Object.keys(mine).map(Number).sort((a, b) => a - b)) {
        const [decision, , label, box, pixels] = mine[r];
        rows.push([id, r, decision, label, box, pixels]);
      }
    }
    return rows;
  }
  const regionCsv = () => [['id', 'region', 'decision', 'predicted_label', 'box', 'pixels'], ...regionRows()]
    .map(r => r.map(cell).join(',')).join('\n') + '\n';
  function download(anchor, text) {
    const a = $(anchor);
    if (a.href) URL.revokeObjectURL(a.href);
    a.href = URL.createObjectURL(new Blob([text], {type: 'text/csv'}));
    a.hidden = false; a.click();
  }
  const exportCsv = () => download('download', csv());
  // For tests and scripts: the export's text, the decisions, paging.
  window.curateReview = {csv, regionCsv, ready: false,
    regions: () => Object.fromEntries(Object.entries(state.regions).map(([id, m]) =>
      [id, Object.fromEntries(Object.entries(m).map(([r, v]) => [r, v[0]]))])), goTo, page: () => Math.floor(state.cursor / PAGE) + 1, pages,
    decisions: () => Object.fromEntries(decided().map(r => [r[0], {decision: r[1], note: r[3], time: r[4]}])),
    defaults: () => Object.fromEntries(I.ids.map((id, n) => [id, defaultOf(n)])),
    members: k => I.cards[list[k]].slice(1).map(n => I.ids[n])};

  async function start() {
    try {
      if (!M.inline) await Promise.all([script('data/index.js'), part(0)]);
      filter(); await refresh();
    } catch (e) {
      $('list').innerHTML = `<p class="na">${esc(e.message)}: open index.html inside the review folder, beside its data/ and thumbs/.</p>`;
    }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
