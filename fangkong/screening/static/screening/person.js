/* Progressive enhancement: hide the readings of people marked away, and the people of a household not reached. */
(function () {
  function sync() {
    document.querySelectorAll(".person").forEach(function (card) {
      var away = card.querySelector("input[name$='-presence'][value='away']");
      card.classList.toggle("away", !!(away && away.checked));
      // Outdoors and the outdoor temperature matter for forehead readings only; warn outside the device's range.
      var forehead = card.querySelector("input[name$='-temperature_method'][value='forehead']");
      var outdoors = card.querySelector("input[name$='-outdoors']");
      var ambient = card.querySelector("input[name$='-ambient_c']");
      if (!forehead || !outdoors || !ambient) return;
      card.classList.toggle("not-forehead", !forehead.checked);
      card.classList.toggle("indoors", !outdoors.checked);
      var value = parseFloat(ambient.value.replace(",", ".").replace("－", "-"));
      var low = parseFloat(ambient.dataset.low), high = parseFloat(ambient.dataset.high);
      var warn = forehead.checked && outdoors.checked && !isNaN(value) && (value < low || value > high);
      var note = card.querySelector(".ambient-warning");
      if (note) note.hidden = !warn;
    });
    var outcome = document.querySelector("input[name='outcome']:checked");
    var people = document.getElementById("people");
    if (outcome && people) { people.classList.toggle("persons-off", outcome.value !== "reached"); }
  }
  document.addEventListener("change", sync);
  document.addEventListener("input", sync);
  sync();
})();
