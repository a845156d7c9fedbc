/* Follows the background job running the import, or runs the import step by step (POST to the step URL until
   done), updating the bar. */
(function () {
  var box = document.getElementById("import-progress");
  if (!box || !box.dataset.running || !window.fetch) { return; }
  var bar = document.getElementById("import-bar");
  var label = document.getElementById("import-label");
  var failure = document.getElementById("import-failure");
  var fallback = document.getElementById("import-continue");
  if (fallback) { fallback.hidden = true; }
  function fail(message) {
    failure.textContent = message + " 可点击“继续导入”接着导入，已导入的行不会重复导入。";
    failure.hidden = false;
    if (fallback) { fallback.hidden = false; }
  }
  function follow() {
    fetch(box.dataset.jobUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        return response.json().then(function (data) { return {ok: response.ok, data: data}; });
      }).then(function (result) {
        var d = result.data;
        if (!result.ok) { fail(d.detail || "无法查询导入进度。"); return; }
        if (d.status === "done") { window.location.reload(); return; }
        if (d.status === "failed") { fail("后台导入未能完成：" + d.message); return; }
        bar.value = d.progress.percent;
        bar.textContent = d.progress.percent + "%";
        label.textContent = "已处理 " + d.progress.done + " / " + d.progress.total + " 行（" + d.progress.percent + "%），后台导入中（" + d.status_label + "），可离开本页稍后再来查看";
        window.setTimeout(follow, 2000);
      }).catch(function () { window.setTimeout(follow, 5000); });
  }
  function step() {
    fetch(box.dataset.stepUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {"X-CSRFToken": box.dataset.csrf, "Accept": "application/json", "X-Requested-With": "XMLHttpRequest"}
    }).then(function (response) {
      return response.json().then(function (data) { return {ok: response.ok, data: data}; });
    }).then(function (result) {
      var d = result.data;
      if (!result.ok) { fail(d.message || "导入出错。"); return; }
      bar.value = d.percent;
      bar.textContent = d.percent + "%";
      label.textContent = "已处理 " + d.processed_rows + " / " + d.valid_rows + " 行，已导入 " + d.imported_rows + " " + box.dataset.countWord + "（" + d.percent + "%）";
      if (d.done) { window.location.reload(); } else { step(); }
    }).catch(function () { fail("网络连接中断或登录已失效。"); });
  }
  if (box.dataset.jobUrl) { follow(); } else { step(); }
})();
