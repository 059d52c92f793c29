// The SAML POST binding: sends the form to the app at once (the page works
// without this script: the person presses Continue).
(function () {
  "use strict";
  var form = document.getElementById("saml-post");
  if (form) { form.submit(); }
})();
