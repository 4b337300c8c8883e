/* Live targets: the panel reloads itself every 30 seconds (no page reload, no library). */
(function () {
  "use strict";
  var box = document.getElementById("targets");
  if (!box) return;
  setInterval(function () {
    fetch(box.dataset.src, {credentials: "same-origin"}).then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html) { box.innerHTML = html; } });
  }, 30000);
})();
