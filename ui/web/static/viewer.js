// js_on_load of the statement viewer (gr.HTML): bring the highlighted quote into view
// whenever a new statement or passage is shown. Only the viewer's own text box scrolls
// to the quote: the box is first fitted to the room left on screen (at least 240 px),
// and the page moves only when even that does not fit, just enough to show the whole
// viewer, header included, so the page header stays put whenever possible.
const MIN_BOX = 240;
const reveal = () => {
  const mark = element.querySelector('mark.rag-cited');
  const box = element.querySelector('.rag-viewer-text');
  if (!mark || !box) return;
  const room = window.innerHeight - Math.max(0, box.getBoundingClientRect().top) - 16;
  box.style.maxHeight = `${Math.max(MIN_BOX, Math.min(room, window.innerHeight * 0.6))}px`;
  const top = mark.getBoundingClientRect().top - box.getBoundingClientRect().top;
  box.scrollTop += top - (box.clientHeight - mark.offsetHeight) / 2;
  const viewer = element.querySelector('.rag-viewer') || element;
  const r = viewer.getBoundingClientRect();
  if (r.top < 0) window.scrollBy(0, r.top - 8);
  else if (r.bottom > window.innerHeight) {
    window.scrollBy(0, Math.min(r.top - 8, r.bottom - window.innerHeight + 8));
  }
};
watch('value', () => requestAnimationFrame(reveal));
setTimeout(reveal, 100);
