// app.js — the reading list's page: talks to /library/api/ and builds the
// DOM with textContent only (never innerHTML), so no stored string — a
// title, a tag, an error — can become markup.  The article's HTML goes into
// a sandboxed iframe without allow-scripts (and under the page's CSP), so it
// stays inert even if the server's sanitiser missed something.
'use strict';

const API = '/library/api/';
const $ = (id) => document.getElementById(id);
const state = { view: 'unread', tag: '', site: '', offset: 0, current: null, search: null, polling: new Set(),
                mode: 'list', gen: 0 };
// mode is what the owner last asked the list to show ('list' or 'search'),
// set before any request goes out; gen numbers the renders, so an answer
// that arrives after a newer request was made is dropped, and a background
// refresh never replaces search results.

// ---- talking to the server --------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || ('HTTP ' + status));
    this.status = status;
    this.code = body && body.error && body.error.code;
  }
}

// GET with query arguments, or POST with a JSON body.  Every POST carries
// the CSRF header the server requires (a cross-origin page cannot send it).
async function api(path, { args, body } = {}) {
  let url = API + path;
  if (args) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(args)) if (v !== '' && v != null) q.set(k, v);
    if ([...q].length) url += '?' + q;
  }
  const init = { credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    init.method = 'POST';
    init.headers['Content-Type'] = 'application/json';
    init.headers['X-Tinglado-CSRF'] = '1';
    init.body = JSON.stringify(body);
  }
  const r = await fetch(url, init);
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  if (!r.ok) {
    if (r.status === 401 && path !== 'login') showLogin();
    throw new ApiError(r.status, data);
  }
  return data;
}

function notice(text, isError) {
  const n = $('notice');
  n.textContent = text || '';
  n.className = isError ? 'error' : '';
}

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

const isHttp = (u) => typeof u === 'string' && /^https?:\/\//i.test(u);
const fmtDate = (t) => (t ? new Date(t * 1000).toLocaleDateString() : '');
const titleOf = (it) => it.title || it.url;

// ---- login -------------------------------------------------------------------

function showLogin() {
  $('login').hidden = false;
  $('app').hidden = true;
  $('login-key').focus();
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  $('login-error').textContent = '';
  try {
    await api('login', { body: { key: $('login-key').value } });
    $('login-key').value = '';
    $('login').hidden = true;
    start();
  } catch (e) {
    $('login-error').textContent = e.message;
  }
});

// ---- the list ----------------------------------------------------------------

function itemRow(it, snippet) {
  const li = el('li', { 'data-id': String(it.id) });
  if (state.current === it.id) li.classList.add('current');
  li.append(el('button', { class: 'title', type: 'button', text: titleOf(it), onclick: () => openItem(it.id) }));
  const meta = el('div', { class: 'meta' });
  if (it.site) meta.append(el('button', { class: 'linkish', type: 'button', text: it.site,
                                          title: 'only this site', onclick: () => setFilter('site', it.site) }));
  meta.append(' · ' + fmtDate(it.saved));
  if (it.state !== 'extracted' && it.state !== 'enriched')
    meta.append(el('span', { class: 'state ' + it.state, text: it.state, title: it.error || '' }));
  if (it.favorite) meta.append(' ★');
  li.append(meta);
  if (it.tags.length) {
    const t = el('div');
    for (const tag of it.tags)
      t.append(el('button', { class: 'tag', type: 'button', text: tag, onclick: () => setFilter('tag', tag) }));
    li.append(t);
  }
  if (snippet) li.append(el('p', { class: 'snippet', text: snippet }));
  return li;
}

async function loadList(append) {
  state.mode = 'list';
  const gen = ++state.gen;
  const offset = append ? state.offset : 0;
  const data = await api('items', { args: { view: state.view, tag: state.tag, site: state.site,
                                           limit: 50, offset } });
  if (gen !== state.gen) return;
  state.search = null;
  state.offset = offset;
  const list = $('list');
  if (!append) list.replaceChildren();
  for (const it of data.items) {
    list.append(itemRow(it));
    if (it.state === 'pending' || it.state === 'fetched') watch(it.id);
  }
  state.offset += data.items.length;
  $('more').hidden = !data.more;
  const f = [state.view, state.tag && 'tag ' + state.tag, state.site && 'site ' + state.site].filter(Boolean);
  $('list-title').textContent = (data.items.length || append ? '' : 'Nothing here. ') + 'Showing: ' + f.join(', ');
}

async function loadTags() {
  const data = await api('tags');
  const sel = $('f-tag');
  sel.replaceChildren(el('option', { value: '', text: 'any' }));
  for (const t of data.tags) sel.append(el('option', { value: t, text: t }));
  sel.value = state.tag;
}

async function loadStatus() {
  const s = await api('status');
  const c = s.counts;
  $('counts').textContent = `${s.total} items: ${c.extracted + c.enriched} ready, ${c.pending + c.fetched} waiting, ` +
    `${c.failed} failed · search: ${s.search}` + (s.worker.busy ? ' · working…' : '');
  $('ask').hidden = !s.ask;
  return s;
}

function setFilter(kind, value) {
  state[kind] = value;
  if (kind === 'tag') $('f-tag').value = value;
  if (kind === 'site') $('f-site').value = value;
  loadList().catch((e) => notice(e.message, true));
}

$('f-view').addEventListener('change', (ev) => setFilter('view', ev.target.value));
$('f-tag').addEventListener('change', (ev) => setFilter('tag', ev.target.value));
$('f-site').addEventListener('change', (ev) => setFilter('site', ev.target.value.trim()));
$('more').addEventListener('click', () => loadList(true).catch((e) => notice(e.message, true)));

// ---- waiting for the worker ----------------------------------------------------

// Polls an item until the worker has extracted it (or given up), then
// refreshes what shows it.
function watch(id) {
  if (state.polling.has(id)) return;
  state.polling.add(id);
  const tick = async () => {
    let it;
    try { it = await api('items/' + id); } catch (e) { state.polling.delete(id); return; }
    if (it.state === 'pending' || it.state === 'fetched' || (it.state === 'failed' && it.attempts === 0)) {
      setTimeout(tick, 1000);
      return;
    }
    state.polling.delete(id);
    if (it.state === 'failed') notice(`Could not read ${it.url}: ${it.error}`, true);
    else notice(`Ready: ${titleOf(it)}`);
    if (state.mode === 'list') await loadList().catch(() => {});
    await loadStatus().catch(() => {});
    if (state.current === id) showItem(it);
  };
  setTimeout(tick, 700);
}

$('add-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const url = $('add-url').value.trim();
  const tags = $('add-tags').value.split(',').map((t) => t.trim()).filter(Boolean);
  try {
    const it = await api('items', { body: { url, tags } });
    $('add-url').value = '';
    $('add-tags').value = '';
    notice(it.state === 'pending' ? `Saved; fetching ${it.url} …` : `Already saved: ${titleOf(it)}`);
    if (history.replaceState && location.search) history.replaceState(null, '', location.pathname);
    await loadList();
    loadTags().catch(() => {});
    if (it.state === 'pending' || it.state === 'fetched') watch(it.id);
  } catch (e) {
    notice(e.message, true);
  }
});

// ---- search ----------------------------------------------------------------------

$('search-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const q = $('search-q').value.trim();
  if (!q) return;
  state.mode = 'search';
  const gen = ++state.gen;
  try {
    const data = await api('search', { args: { q, limit: 30 } });
    if (gen !== state.gen) return;
    state.search = q;
    const list = $('list');
    list.replaceChildren();
    for (const h of data.hits) list.append(itemRow(h, h.snippet));
    $('more').hidden = true;
    $('list-title').replaceChildren(`${data.hits.length} result(s) for “${q}” (${data.mode}) `,
      el('button', { class: 'linkish', type: 'button', text: 'back to the list',
                     onclick: () => loadList().catch((e) => notice(e.message, true)) }));
  } catch (e) {
    notice(e.message, true);
  }
});

// ---- the article -------------------------------------------------------------------

async function openItem(id) {
  try {
    showItem(await api('items/' + id));
  } catch (e) {
    notice(e.message, true);
  }
}

// The article's own document: its sanitised HTML, our stylesheet, nothing
// else.  The frame's sandbox has no allow-scripts, and the srcdoc inherits
// the page's CSP, so neither a <script> nor a handler nor a javascript: URL
// in it can run.
function articleDoc(html) {
  return '<!doctype html><html><head><meta charset="utf-8">' +
    '<link rel="stylesheet" href="/library/article.css"></head><body>' + (html || '') + '</body></html>';
}

function fitFrame(frame) {
  try {
    const d = frame.contentDocument;
    if (d && d.documentElement) frame.style.height = (d.documentElement.scrollHeight + 24) + 'px';
  } catch (e) { /* not readable: keep the minimum height */ }
}

// Links inside the article open in a new tab, and only http(s) ones: the
// frame itself never navigates.
function guardLinks(frame) {
  let d;
  try { d = frame.contentDocument; } catch (e) { return; }
  if (!d) return;
  d.addEventListener('click', (ev) => {
    const a = ev.target.closest && ev.target.closest('a');
    if (!a) return;
    ev.preventDefault();
    const href = a.getAttribute('href');
    if (isHttp(a.href) && href) window.open(a.href, '_blank', 'noopener,noreferrer');
  }, true);
}

function showItem(it) {
  state.current = it.id;
  for (const li of $('list').children) li.classList.toggle('current', li.dataset.id === String(it.id));
  $('article').hidden = false;
  $('a-title').textContent = titleOf(it);
  const meta = [it.byline, it.site, fmtDate(it.published || it.saved), it.minutes ? it.minutes + ' min' : '']
    .filter(Boolean).join(' · ');
  $('a-meta').textContent = meta;
  $('a-archive').textContent = it.archived ? 'Unarchive' : 'Archive';
  $('a-fav').textContent = it.favorite ? 'Unfavourite' : 'Favourite';
  const orig = $('a-orig');
  if (isHttp(it.url)) orig.href = it.url; else orig.removeAttribute('href');
  const tags = $('a-tags');
  tags.replaceChildren();
  for (const t of it.tags)
    tags.append(el('span', { class: 'tag' }, t + ' ',
      el('button', { class: 'linkish', type: 'button', text: '×', title: 'remove tag ' + t,
                     onclick: () => change({ remove_tags: [t] }) })));
  $('a-summary').textContent = it.summary || '';
  $('a-state').textContent = it.state === 'failed' ? 'Failed: ' + (it.error || '')
    : (it.state === 'pending' || it.state === 'fetched') ? 'Being fetched…' : '';
  const frame = $('a-frame');
  frame.onload = () => { guardLinks(frame); fitFrame(frame); };
  frame.srcdoc = articleDoc(it.html);
  if (it.state === 'pending' || it.state === 'fetched') watch(it.id);
}

async function change(body) {
  if (!state.current) return;
  try {
    const it = await api('items/' + state.current, { body });
    showItem(it);
    if (state.mode === 'list') await loadList();
    loadTags().catch(() => {});
  } catch (e) {
    notice(e.message, true);
  }
}

$('a-archive').addEventListener('click', () => change({ archived: $('a-archive').textContent === 'Archive' }));
$('a-fav').addEventListener('click', () => change({ favorite: $('a-fav').textContent === 'Favourite' }));
$('a-tag-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const t = $('a-tag').value.trim();
  if (t) change({ add_tags: [t] }).then(() => { $('a-tag').value = ''; });
});
window.addEventListener('resize', () => fitFrame($('a-frame')));

// ---- ask -------------------------------------------------------------------------------

$('ask-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const out = $('ask-answer');
  out.textContent = 'Thinking…';
  try {
    const a = await api('ask', { body: { question: $('ask-q').value.trim() } });
    renderAnswer(out, a);
  } catch (e) {
    out.textContent = e.message;
  }
});

// An answer (tg_answer_json) with the sources it cites, numbered as the
// model saw them; each opens its item.
function renderAnswer(out, a) {
  out.replaceChildren(el('p', { id: 'ask-text', text: a.answer || '' }));
  const cited = (a.sources || []).filter((s) => s.cited);
  if (cited.length) {
    const ol = el('ul', { id: 'ask-sources' });
    for (const s of cited) {
      ol.append(el('li', { 'data-item': String(s.item) }, `[${s.n}] `,
        el('button', { class: 'linkish', type: 'button', text: s.title || s.url, onclick: () => openItem(s.item) }),
        s.passage ? el('div', { class: 'snippet', text: s.passage }) : null));
    }
    out.append(ol);
  }
}

// ---- start -------------------------------------------------------------------------------

// The bookmarklet opens this page with ?add=URL; saving still takes a click
// here, so a link elsewhere cannot make the server fetch something unasked.
function bookmarklet() {
  const code = "(function(){var u='" + location.origin + "/library/?add='+encodeURIComponent(location.href);" +
    "if(!window.open(u,'tinglado','width=720,height=480'))location.href=u;})()";
  $('bookmarklet').href = 'javascript:' + encodeURIComponent(code);
  $('bookmarklet').addEventListener('click', (ev) => {
    ev.preventDefault();
    notice('Drag this link to the bookmarks toolbar; click it on any page to save that page here.');
  });
  const add = new URLSearchParams(location.search).get('add');
  if (add && isHttp(add)) {
    $('add-url').value = add;
    notice('Press Save to add this page.');
    $('add-button').focus();
  }
}

async function start() {
  try {
    await loadStatus();
  } catch (e) {
    if (e.status !== 401) notice(e.message, true);
    return;
  }
  $('login').hidden = true;
  $('app').hidden = false;
  await Promise.all([loadList(), loadTags()]).catch((e) => notice(e.message, true));
}

bookmarklet();
start();
