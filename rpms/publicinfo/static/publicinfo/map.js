/* Coverage map: clicking (or pressing Enter on) a district shows its units beside the map.
   Progressive enhancement: without this script each district is a link to /info/map/<code>/. */
(function () {
  "use strict";
  var map = document.querySelector("[data-coverage-map]");
  if (!map) { return; }
  var host = document.getElementById("district-panels");
  if (!host) { return; }
  var links = map.querySelectorAll("a[data-district]");
  var panels = host.querySelectorAll("[data-district-panel]");
  var hint = document.getElementById("district-panels-hint");

  // A district's units are loaded when it is opened (/info/map/<code>/units/), then the panel is shown.
  function show(code, moveFocus) {
    var panel = document.getElementById("district-panel-" + code);
    if (!panel) { return false; }
    var holder = panel.querySelector("[data-units-src]");
    if (holder && !holder.getAttribute("data-loaded") && window.fetch) {
      holder.setAttribute("data-loaded", "loading");
      window.fetch(holder.getAttribute("data-units-src"), {credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (html) { holder.innerHTML = html; holder.setAttribute("data-loaded", "yes"); })
        .catch(function () { holder.setAttribute("data-loaded", "failed"); })  // the link to the page stays
        .then(function () { reveal(panel, code, moveFocus); });
      return true;
    }
    if (holder && holder.getAttribute("data-loaded") === "loading") { return true; }
    reveal(panel, code, moveFocus);
    return true;
  }

  function reveal(panel, code, moveFocus) {
    for (var i = 0; i < panels.length; i++) { panels[i].hidden = panels[i] !== panel; }
    var firstLabel = map.querySelector("text");
    for (var j = 0; j < links.length; j++) {
      var selected = links[j].getAttribute("data-district") === code;
      links[j].classList.toggle("is-selected", selected);
      if (selected) {
        links[j].setAttribute("aria-current", "true");
        // drawn last among the districts (before the labels) so that its outline shows in full
        if (firstLabel) { map.insertBefore(links[j], firstLabel); } else { map.appendChild(links[j]); }
      } else { links[j].removeAttribute("aria-current"); }
    }
    if (hint) { hint.hidden = true; }
    if (moveFocus) {
      var heading = panel.querySelector("h3");
      if (heading) { heading.focus(); }
    }
    return true;
  }

  map.addEventListener("click", function (event) {
    var target = event.target;
    while (target && target !== map && !(target.getAttribute && target.getAttribute("data-district"))) {
      target = target.parentNode;
    }
    if (!target || target === map) { return; }
    if (show(target.getAttribute("data-district"), true)) { event.preventDefault(); }
  });
  // Links activate with Enter; Space is offered too, as for buttons.
  map.addEventListener("keydown", function (event) {
    if (event.key !== " " && event.key !== "Spacebar") { return; }
    var target = event.target;
    if (target && target.getAttribute && target.getAttribute("data-district")) {
      event.preventDefault();
      show(target.getAttribute("data-district"), true);
    }
  });
  host.hidden = false;
})();
