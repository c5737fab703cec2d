// Hanging indent for wrapped lines of code cells (see book.css, span.code-line).
// Every line of a code cell's <pre> becomes an inline-block span whose --indent
// is its leading whitespace plus 4, so a line too long for the page wraps under
// its own indentation instead of at column 0. The text itself, newlines
// included, is unchanged: copying the code gives the same characters.
(function () {
  "use strict";

  function lines(pre) {
    var out = [[]];
    Array.prototype.slice.call(pre.childNodes).forEach(function (node) {
      var parts = node.textContent.split("\n");
      parts.forEach(function (part, i) {
        if (i > 0) out.push([]);
        if (part === "") return;
        var piece = node;
        if (parts.length > 1) {
          piece = node.nodeType === Node.TEXT_NODE ? document.createTextNode(part) : node.cloneNode(false);
          piece.textContent = part;
        }
        out[out.length - 1].push(piece);
      });
    });
    return out;
  }

  function hang(pre) {
    var rows = lines(pre);
    var trailing = rows.length > 1 && rows[rows.length - 1].length === 0;
    if (trailing) rows.pop();
    pre.textContent = "";
    rows.forEach(function (nodes, i) {
      var span = document.createElement("span");
      span.className = "code-line";
      nodes.forEach(function (n) { span.appendChild(n); });
      var lead = /^[ \t]*/.exec(span.textContent)[0].length;
      span.style.setProperty("--indent", String(lead + 4));
      pre.appendChild(span);
      if (i < rows.length - 1 || trailing) pre.appendChild(document.createTextNode("\n"));
    });
  }

  function run() {
    document.querySelectorAll("div.cell_input div.highlight pre").forEach(hang);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
})();
