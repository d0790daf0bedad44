/* entretiens: chapter and transcript links seek the player; #t=MM:SS links start there. */
(function () {
  "use strict";

  var audio = document.getElementById("player");

  function seconds(text) {
    var match = /^(?:(\d+):)?(\d{1,2}):(\d{2}(?:\.\d+)?)$|^(\d+(?:\.\d+)?)$/.exec(text || "");
    if (!match) return null;
    if (match[4] !== undefined) return parseFloat(match[4]);
    return (parseInt(match[1] || "0", 10) * 60 + parseInt(match[2], 10)) * 60 + parseFloat(match[3]);
  }

  function fromHash() {
    var match = /^#t=([^&]+)/.exec(location.hash);
    return match ? seconds(decodeURIComponent(match[1])) : null;
  }

  function seek(at, play) {
    function go() {
      audio.currentTime = at;
      if (play) {
        var started = audio.play();
        if (started && started.catch) started.catch(function () {});
      }
    }
    if (audio.readyState >= 1) {
      go();
    } else {
      audio.addEventListener("loadedmetadata", go, { once: true });
      if (audio.preload === "none") audio.load();
    }
  }

  if (audio) {
    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("a[data-start]");
      if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
      event.preventDefault();
      seek(parseFloat(link.getAttribute("data-start")), true);
      history.replaceState(null, "", link.getAttribute("href"));
    });

    window.addEventListener("hashchange", function () {
      var at = fromHash();
      if (at !== null) seek(at, !audio.paused);
    });

    var start = fromHash();
    if (start !== null) seek(start, false);

    var chapters = Array.prototype.slice.call(document.querySelectorAll(".chapters a[data-start]"));
    audio.addEventListener("timeupdate", function () {
      var current = null;
      chapters.forEach(function (link) {
        if (parseFloat(link.getAttribute("data-start")) <= audio.currentTime + 0.25) current = link;
      });
      chapters.forEach(function (link) {
        link.parentNode.classList.toggle("current", link === current);
      });
    });
  }

  var field = document.getElementById("feed-url");
  if (field && navigator.clipboard) {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = field.getAttribute("data-copy") || "Copy";
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        button.textContent = field.getAttribute("data-copied") || "Copied";
      }, function () {
        field.select();
      });
    });
    field.parentNode.appendChild(button);
  }
})();
