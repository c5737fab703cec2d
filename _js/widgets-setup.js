/* Set-up for the book's offline widget renderer (@jupyter-widgets/html-manager 1.x).
 * Loaded between vendor/require.js and vendor/embed-amd.js (_config.yml,
 * nb_ipywidgets_js); scripts/stage_book.py copies it into vendor/.
 *
 * 1. html-manager loads its fonts from the folder of its own AMD module,
 *    which RequireJS would place at <page folder>/@jupyter-widgets/html-manager/dist/
 *    (404s): map that module path onto vendor/, where the fonts are.
 * 2. html-manager typesets widget labels with MathJax 2's MathJax.Hub.Queue,
 *    and the book loads MathJax 3 (no Hub): every label threw "Cannot read
 *    properties of undefined (reading 'Queue')". Give each MathJax object a
 *    Hub.Queue that typesets with MathJax 3.
 */
(function () {
  "use strict";
  var vendor = document.currentScript.src.replace(/\/[^/]*$/, "");
  window.require.config({ paths: { "@jupyter-widgets/html-manager/dist": vendor } });

  function queue(job) {
    var mj = window.MathJax;
    var element = job && job[2];
    if (element && mj && typeof mj.typesetPromise === "function") {
      mj.typesetPromise([element]).catch(function (err) { console.warn("MathJax:", err); });
    }
  }
  function withHub(mj) {
    if (mj && typeof mj === "object" && !mj.Hub) {
      mj.Hub = { Queue: queue };
    }
    return mj;
  }
  // MathJax 3 replaces window.MathJax (the configuration object) when it loads.
  var current = withHub(window.MathJax);
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    enumerable: true,
    get: function () { return current; },
    set: function (value) { current = withHub(value); }
  });
})();
