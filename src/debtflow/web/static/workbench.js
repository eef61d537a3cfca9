// The workbench forms answer a refused action (403 role, 409 gate or conflict, 422 bad
// input) with the section re-rendered around the message: let htmx swap those in too.
// Without JavaScript the same forms post normally and the whole page comes back.
document.addEventListener("htmx:beforeSwap", function (event) {
  var status = event.detail.xhr.status;
  var section = event.detail.target;
  if ((status === 403 || status === 409 || status === 422) && section && section.hasAttribute("data-swap-errors")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
