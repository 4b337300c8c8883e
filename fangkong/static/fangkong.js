/* The behaviour every page shares, from this file rather than inline (the Content-Security-Policy allows
   scripts from the site only: no inline <script>, no onclick=). Progressive enhancement: every page works
   without it. Marked up with data attributes:
     <button data-print>                  prints the page
     <form data-confirm="Question?">      asks before it is sent
     <select data-autosubmit>             sends its form when changed
     <a data-first-error>                 (the form banner) goes to the first field with an error */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    if (target.closest("[data-print]")) {
      window.print();
      return;
    }
    if (target.closest("[data-first-error]")) {
      // Django marks fields with errors aria-invalid; errors without a field are shown as text.
      var input = document.querySelector("main [aria-invalid=true]");
      var first = input || document.querySelector("main .field-error, main .errorlist, main .has-error");
      if (!first) return;
      event.preventDefault();
      first.scrollIntoView({block: "center"});
      if (input) input.focus({preventScroll: true});
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm !== undefined && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field instanceof HTMLSelectElement && field.dataset.autosubmit !== undefined && field.form) {
      field.form.submit();
    }
  });
})();
