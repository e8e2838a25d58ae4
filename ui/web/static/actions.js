// js_on_load of the filter chips (gr.HTML): `element` and `trigger` are given.
// A chip's × removes its filter; the chat gets per-message actions added to its DOM
// (the chat's sanitiser would drop buttons in the messages' HTML): "Copy answer" under
// each answer, "Copy quote" on each quote, "Edit" on each question. Copies are plain
// text / Markdown: the quotes, then one citation line each with its deep link.
element.addEventListener('click', (event) => {
  const chip = event.target.closest ? event.target.closest('[data-chip]') : null;
  if (chip) trigger('click', {chip: chip.dataset.chip});
});
window.__ragEdit = (turn) => trigger('click', {edit: turn});
if (!window.__ragActions) {
  window.__ragActions = true;
  const clean = (text) => (text || '').replace(/\s+/g, ' ').trim();
  const cite = (ref) => {
    const url = new URL(ref.getAttribute('href') || '', window.location.href).href;
    const about = clean(ref.getAttribute('title'));
    return `${clean(ref.textContent)}: ${about ? about + ' — ' : ''}${url}`;
  };
  const quoteOf = (bq) => clean((bq.querySelector('.rag-quote-text') || bq).innerText);
  const answerText = (answer) => {
    const lines = [];
    const notes = new Map();
    answer.querySelectorAll('p, blockquote, li').forEach((el) => {
      if (el.closest('.rag-actions') || (el.tagName !== 'BLOCKQUOTE' && el.closest('blockquote'))) return;
      if (el.tagName === 'BLOCKQUOTE') {
        const ref = el.querySelector('a.rag-ref');
        lines.push(`> ${quoteOf(el)}${ref ? ' ' + clean(ref.textContent) : ''}`, '');
        if (ref) notes.set(clean(ref.textContent), cite(ref));
      } else if (el.tagName === 'LI') {
        const ref = el.querySelector('a.rag-ref');
        const text = clean(el.innerText).replace(/\s*open$/, '');
        lines.push(`- ${text}${ref ? ' (' + new URL(ref.getAttribute('href'), location.href).href + ')' : ''}`);
      } else {
        el.querySelectorAll('a.rag-ref').forEach((ref) => notes.set(clean(ref.textContent), cite(ref)));
        const text = clean(el.innerText);
        if (text) lines.push(text, '');
      }
    });
    if (notes.size) lines.push('', ...notes.values());
    return lines.join('\n').replace(/\n{3,}/g, '\n\n').trim() + '\n';
  };
  const copy = async (text, button) => {
    window.__ragCopied = text;
    try {
      await navigator.clipboard.writeText(text);
    } catch (err) {
      const area = document.createElement('textarea');
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand('copy');
      area.remove();
    }
    const label = button.textContent;
    button.textContent = 'Copied ✓';
    setTimeout(() => { button.textContent = label; }, 1500);
  };
  const button = (label, css, title, onClick) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = `rag-action ${css}`;
    b.textContent = label;
    b.title = title;
    b.setAttribute('aria-label', title);
    b.addEventListener('click', (event) => {
      event.preventDefault();
      event.stopPropagation();
      onClick(b);
    });
    return b;
  };
  const decorate = () => {
    const chat = document.querySelector('#rag-chat');
    if (!chat) return;
    chat.querySelectorAll('.rag-answer:not(.rag-pending):not(.rag-streaming)').forEach((answer) => {
      if (answer.querySelector(':scope > .rag-actions')) return;
      answer.querySelectorAll('blockquote.rag-quote').forEach((bq) => {
        bq.append(button('Copy quote', 'rag-copy-quote', 'Copy this quote with its citation', (b) => {
          const ref = bq.querySelector('a.rag-ref');
          copy(`${quoteOf(bq)}${ref ? '\n— ' + cite(ref) : ''}\n`, b);
        }));
      });
      const bar = document.createElement('div');
      bar.className = 'rag-actions';
      bar.append(button('Copy answer', 'rag-copy-answer', 'Copy the quotes with their citations',
        (b) => copy(answerText(answer), b)));
      answer.append(bar);
    });
    chat.querySelectorAll('.rag-question').forEach((question, turn) => {
      if (question.querySelector('.rag-edit')) return;
      question.append(button('Edit', 'rag-edit', 'Edit this question and ask it again',
        () => window.__ragEdit(turn)));
    });
  };
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; decorate(); });
  }).observe(document.body, {subtree: true, childList: true});
  decorate();
  // the length counter under the question box
  const count = () => {
    const box = document.querySelector('#rag-question textarea');
    const shown = document.querySelector('#rag-count .rag-count');
    if (!box || !shown) return;
    const max = Number(shown.dataset.max || 0);
    const n = box.value.length;
    const text = `${n.toLocaleString('en')} / ${max.toLocaleString('en')}`;
    if (shown.textContent !== text) shown.textContent = text;
    shown.classList.toggle('rag-count-over', max > 0 && n > max);
  };
  document.addEventListener('input', count, true);
  setInterval(count, 400);  // the box is also emptied and filled by the server
}
// On a narrow screen the conversations sidebar starts closed (it would cover the page);
// its toggle opens it.
if (!window.__ragNarrow && window.innerWidth <= 640) {
  window.__ragNarrow = true;
  const close = (tries) => {
    const bar = document.querySelector('#rag-sidebar');
    const toggle = bar && bar.querySelector('.toggle-button');
    if (toggle && bar.classList.contains('open')) toggle.click();
    else if (!toggle && tries > 0) setTimeout(() => close(tries - 1), 100);
  };
  close(30);
}
