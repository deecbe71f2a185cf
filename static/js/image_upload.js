// A chosen image larger than the form may send is said at once and taken off the form, so
// sending it does not end in a refused request (the server's 413 page says the same
// without this script). The words come from the page, in its language.
(function () {
  "use strict";
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    var note = document.getElementById(input.id + "-size");
    if (!note) { return; }
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      var tooLarge = Boolean(file && file.size > Number(input.dataset.maxBytes));
      if (tooLarge) {
        input.value = "";
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", note.id);
      } else {
        input.removeAttribute("aria-invalid");
      }
      note.hidden = !tooLarge;
    });
  });
})();
