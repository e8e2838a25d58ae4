// js_on_load of the statement viewer (gr.HTML): scroll the highlighted quote into view
// whenever a new statement or passage is shown.
const reveal = () => {
  const mark = element.querySelector('mark.rag-cited');
  if (mark) mark.scrollIntoView({block: 'center'});
};
watch('value', reveal);
setTimeout(reveal, 100);
