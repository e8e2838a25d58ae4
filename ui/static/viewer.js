// js_on_load of the statement viewer (gr.HTML): bring the highlighted quote into view
// whenever a new statement or passage is shown. Only the viewer's own text box scrolls
// to the quote; the page moves just enough to show the whole viewer (its header too),
// never past it, so the page header stays where it was whenever the viewer fits.
const reveal = () => {
  const mark = element.querySelector('mark.rag-cited');
  const box = element.querySelector('.rag-viewer-text');
  if (!mark || !box) return;
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
