// The console's one script: a payload edited by hand is checked as JSON before it is sent, so that a typo is
// shown where it was made rather than after a round trip. Everything else works without it.
document.addEventListener('submit', (event) => {
  const form = event.target;
  const payload = form.querySelector('textarea[name="payload"]');
  if (!payload || event.submitter?.value !== 'yes') return;
  try {
    const value = JSON.parse(payload.value);
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('the payload must be a JSON object');
    payload.setCustomValidity('');
  } catch (error) {
    event.preventDefault();
    payload.setCustomValidity(`Not valid JSON: ${error.message}`);
    payload.reportValidity();
    payload.addEventListener('input', () => payload.setCustomValidity(''), { once: true });
  }
});
