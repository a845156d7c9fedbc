// Forms marked data-busy show a "正在计算…" state while the server works (matching runs synchronously).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.hasAttribute("data-busy")) { return; }
  var status = form.querySelector("[data-busy-status]");
  if (status) { status.hidden = false; }
  form.querySelectorAll("button[type=submit]").forEach(function (button) {
    button.disabled = true;
    button.textContent = form.getAttribute("data-busy") || "正在计算…";
  });
  form.setAttribute("aria-busy", "true");
});
