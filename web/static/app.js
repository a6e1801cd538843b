// Keyboard help: "/" jumps to the search box (the pages work without this script).
document.addEventListener("keydown", function (event) {
  var box = document.getElementById("q");
  var typing = event.target && /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName);
  if (box && event.key === "/" && !typing) {
    event.preventDefault();
    box.focus();
    box.select();
  }
});
