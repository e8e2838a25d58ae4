// js_on_load of the Sources tab's cards (gr.HTML, shown instead of the table on narrow
// screens): a click, Enter or Space on a card opens its statement in the viewer.
const open = (event) => {
  const card = event.target.closest ? event.target.closest('[data-statement]') : null;
  if (!card) return;
  if (event.type === 'keydown') {
    if (event.key !== 'Enter' && event.key !== ' ') return;
    event.preventDefault();
  }
  trigger('click', {statement: card.dataset.statement});
};
element.addEventListener('click', open);
element.addEventListener('keydown', open);
