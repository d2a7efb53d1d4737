// Progressive enhancement: job progress bars refresh themselves; pages work without it.
(function () {
  function poll(el) {
    const url = el.dataset.jobUrl;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((r) => r.json())
      .then((job) => {
        const bar = el.querySelector(".progress > span");
        const label = el.querySelector("[data-job-label]");
        if (bar) bar.style.width = job.percent + "%";
        el.querySelector(".progress")?.setAttribute("aria-valuenow", job.percent);
        const counted = job.total && !(job.result && job.result.rejected);
        if (label) label.textContent = (job.label || job.status) + (counted ? ` (${job.done}/${job.total})` : "");
        if (job.finished) {
          el.dataset.jobStatus = job.status;
          el.dispatchEvent(new CustomEvent("job:finished", { bubbles: true, detail: job }));
          if (el.dataset.reloadOnFinish !== undefined) window.location.reload();
        } else {
          setTimeout(() => poll(el), 1000);
        }
      })
      .catch(() => setTimeout(() => poll(el), 3000));
  }
  document.querySelectorAll("[data-job-url]").forEach((el) => {
    if (el.dataset.jobFinished !== "true") poll(el);
  });
  // On a phone the shop nav scrolls sideways; start it with the current section in view.
  const shopNav = document.querySelector("nav.shop-nav");
  const current = shopNav && shopNav.querySelector('[aria-current="page"]');
  if (current && shopNav.scrollWidth > shopNav.clientWidth) {
    shopNav.scrollLeft = current.offsetLeft - (shopNav.clientWidth - current.offsetWidth) / 2;
  }
  document.querySelectorAll("select[data-navigate]").forEach((sel) => {
    sel.addEventListener("change", () => { if (sel.value) window.location.href = sel.value; });
  });
  // The language switcher submits itself on change; its button is only needed without script.
  document.querySelectorAll("form[data-autosubmit]").forEach((form) => {
    form.querySelector("[data-autosubmit-button]")?.setAttribute("hidden", "");
    form.querySelector("select")?.addEventListener("change", () => form.submit());
  });
  document.querySelectorAll("[data-confirm]").forEach((el) => {
    el.addEventListener("submit", (e) => { if (!window.confirm(el.dataset.confirm)) e.preventDefault(); });
  });
})();
