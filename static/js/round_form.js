// Progressive enhancement of the round form: show only the chosen ballot kind's settings.
// Without this file every kind's settings are shown, each in a fieldset named by its kind,
// and the server uses only the chosen kind's.
(function () {
  "use strict";

  function setUp(form) {
    var kinds = form.querySelectorAll("input[type=radio][name=ballot_kind]");
    var groups = form.querySelectorAll("fieldset[data-ballot-kind]");
    if (!kinds.length || !groups.length) { return; }

    function show() {
      var chosen = form.querySelector("input[type=radio][name=ballot_kind]:checked");
      groups.forEach(function (group) {
        // A group with an error stays in view, so the error can be read and fixed.
        var hasError = group.querySelector(".field-error") !== null;
        group.hidden = chosen !== null && group.dataset.ballotKind !== chosen.value &&
          !hasError;
      });
    }

    kinds.forEach(function (radio) { radio.addEventListener("change", show); });
    show();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form").forEach(setUp);
  });
}());
