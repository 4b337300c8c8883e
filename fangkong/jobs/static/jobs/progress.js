// The job page: ask for the job's state every second and a half until it finishes, then reload the page
// (which shows the counts, the result and the file). Without JavaScript the page is still right on reload.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box || box.dataset.finished === "1") { return; }
  var bar = document.getElementById("job-progress");
  var status = document.getElementById("job-status");
  var message = document.getElementById("job-message");
  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (!state) { window.setTimeout(poll, 5000); return; }
        if (state.finished) { window.location.reload(); return; }
        if (state.percent !== null && state.percent !== undefined) { bar.value = state.percent; }
        status.textContent = state.status_label;
        if (state.message) { message.textContent = state.message; }
        window.setTimeout(poll, 1500);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
