// js_on_load of the citations panel (gr.HTML): `element`, `trigger`, `props`, `watch` are given.
// Clicks on citation cards, on [n] markers in the chat and on "open" links of nearest
// passages open the statement viewer. One document-level listener, so markers inside the
// chat work too; the chat's sanitiser drops data-* attributes there, so the deep link's
// query (?statement=&start=&end=) is read instead. Ctrl/Cmd-click keeps the deep link.
const target = (node) => {
  const el = node && node.closest ? node.closest('[data-sid], a.rag-ref') : null;
  if (!el || el.closest('.rag-viewer')) return null;
  if (el.dataset.sid) return {statement: el.dataset.sid, start: el.dataset.start, end: el.dataset.end};
  const query = new URL(el.getAttribute('href') || '', window.location.href).searchParams;
  return query.get('statement') ? {
    statement: query.get('statement'), start: query.get('start'), end: query.get('end')
  } : null;
};
window.__ragOpen = (data) => trigger('click', {
  statement: data.statement, start: Number(data.start), end: Number(data.end)
});
if (!window.__ragListening) {
  window.__ragListening = true;
  document.addEventListener('click', (event) => {
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    const data = target(event.target);
    if (!data) return;
    event.preventDefault();
    event.stopPropagation();
    window.__ragOpen(data);
  }, true);
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' && event.key !== ' ') return;
    const card = event.target.closest ? event.target.closest('.rag-card[data-sid]') : null;
    if (!card) return;
    event.preventDefault();
    window.__ragOpen(target(card));
  }, true);
}
// Gradio labels each chat message with its raw content, our HTML, so a screen reader
// would read out markup: relabel such messages with their plain text.
const MARKUP = '[aria-label*="class=\\"rag-"]';
const WHO = "'s message: ";
const relabel = () => document.querySelectorAll(MARKUP).forEach((el) => {
  const label = el.getAttribute('aria-label') || '';
  const cut = label.indexOf(WHO);
  const who = cut >= 0 ? label.slice(0, cut + WHO.length) : '';
  const text = (el.innerText || el.textContent || '').replace(/\s+/g, ' ').trim();
  const plain = (who + text).slice(0, 1000);
  if (label !== plain) el.setAttribute('aria-label', plain);
});
if (!window.__ragRelabelling) {
  window.__ragRelabelling = true;
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; relabel(); });
  }).observe(document.body, {subtree: true, childList: true, attributes: true,
                             attributeFilter: ['aria-label']});
  relabel();
}
