// ml-connector console: small conveniences only; every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // "Select all" boxes tick every box of their group.
  for (const all of document.querySelectorAll("input[data-select-all]")) {
    all.addEventListener("change", () => {
      const form = all.closest("form");
      for (const box of form.querySelectorAll("input[type=checkbox][name]")) box.checked = all.checked;
    });
  }
  // Buttons with data-confirm ask first.
  for (const button of document.querySelectorAll("button[data-confirm]")) {
    button.addEventListener("click", (event) => {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  }
});
