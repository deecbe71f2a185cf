// Fills the code field from a slip's QR code. The code travels in the address's fragment
// (#code=...), which a browser never sends to a server, so no server or proxy log holds it;
// the fragment is cleared at once, so the code stays neither in the address bar nor in the
// history. Without this file the slip's code is typed by hand, as printed.
(function () {
  "use strict";

  var found = /(?:^#|&)code=([^&]*)/.exec(window.location.hash);
  if (!found) { return; }
  history.replaceState(history.state, "", window.location.pathname + window.location.search);
  var typed;
  try {
    typed = decodeURIComponent(found[1]);
  } catch (malformed) {
    return;
  }
  typed = typed.toUpperCase().replace(/[^0-9A-Z]/g, "").slice(0, 64);
  var field = document.getElementById("code");
  if (!field || !typed) { return; }
  field.value = typed.replace(/(.{4})(?=.)/g, "$1-");
  var note = document.getElementById("code-filled");
  if (note) { note.hidden = false; }
}());
