// The Run form checks its fields before submitting and says what is wrong beside each
// field (the server checks again and answers the same way).
const form = document.querySelector("form[data-validate]");

function check(field) {
  if (field.hasAttribute("data-json")) {
    field.setCustomValidity("");
    if (field.value.trim()) {
      try {
        JSON.parse(field.value);
      } catch (error) {
        field.setCustomValidity(`Not valid JSON: ${error.message}`);
      }
    }
  }
  const message = document.getElementById(`${field.id}-error`);
  const valid = field.checkValidity();
  field.setAttribute("aria-invalid", String(!valid));
  if (message) message.textContent = valid ? "" : field.validationMessage;
  return valid;
}

if (form) {
  form.noValidate = true; // our messages, beside each field, instead of the browser's bubbles
  const fields = [...form.querySelectorAll("input:not([type=hidden]), select, textarea")];
  fields.forEach((field) => field.addEventListener("change", () => check(field)));
  form.addEventListener("submit", (event) => {
    const invalid = fields.filter((field) => !check(field));
    if (invalid.length) {
      event.preventDefault();
      invalid[0].focus();
    }
  });
}
