// The sign-out page: follows each app's sign-out until it is done (the page
// works without this script; it only saves pressing "refresh"), then goes
// back to the app that asked, once the front-channel frames have loaded.
(function () {
  "use strict";
  var list = document.getElementById("progress");
  if (!list) { return; }
  var here = list.getAttribute("data-here");
  var next = list.getAttribute("data-next");
  var tries = 0;

  function show(items) {
    var waiting = false;
    items.forEach(function (item) {
      var li = list.querySelector('li[data-app="' + CSS.escape(item.client_id) + '"]');
      // Front-channel apps are told by their frame; the load handler marks them.
      if (!li || item.state === "front") { return; }
      li.className = item.state;
      li.querySelector(".status").textContent = item.label;
      if (item.state === "pending") { waiting = true; }
    });
    return waiting;
  }

  function poll() {
    tries += 1;
    fetch(here + "/status", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (body) {
        if (show(body.apps) && tries < 30) { setTimeout(poll, 1000); }
      })
      .catch(function () { if (tries < 30) { setTimeout(poll, 2000); } });
  }

  window.addEventListener("load", function () {
    // Every frame has loaded: the front-channel apps have been told.
    list.querySelectorAll("li iframe").forEach(function (f) {
      var li = f.parentNode;
      li.className = "done";
      li.querySelector(".status").textContent = list.getAttribute("data-done");
    });
    if (next) { setTimeout(function () { window.location.assign(next); }, 800); }
  });
  poll();
})();
