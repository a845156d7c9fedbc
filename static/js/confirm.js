/* Forms marked data-confirm="问题" ask before they are sent (no inline onsubmit: the Content-Security-Policy
   allows scripts from this site's files only). Without JavaScript the form is sent at once. */
(function () {
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) { return; }
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
})();
