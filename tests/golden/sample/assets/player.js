/* entretiens: the player's controls over a plain <audio>, which works alone without this script.
   Chapter and transcript links seek it; #t=MM:SS links start there; the position is kept per
   episode in localStorage; nothing is requested from another host, nor any audio before play. */
(function () {
  "use strict";

  var audio = document.getElementById("player");
  var box = audio && audio.closest(".player");

  function seconds(text) {
    var match = /^(?:(\d+):)?(\d{1,2}):(\d{2}(?:\.\d+)?)$|^(\d+(?:\.\d+)?)$/.exec(text || "");
    if (!match) return null;
    if (match[4] !== undefined) return parseFloat(match[4]);
    return (parseInt(match[1] || "0", 10) * 60 + parseInt(match[2], 10)) * 60 + parseFloat(match[3]);
  }

  function clock(value) {
    var total = Math.max(0, Math.floor(value || 0));
    var h = Math.floor(total / 3600), m = Math.floor(total / 60) % 60, s = total % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return (h ? h + ":" + pad(m) : pad(m)) + ":" + pad(s);
  }

  function fromHash() {
    var match = /^#t=([^&]+)/.exec(location.hash);
    return match ? seconds(decodeURIComponent(match[1])) : null;
  }

  function quietly(promise) {
    if (promise && promise.catch) promise.catch(function () {});
  }

  function seek(at, play) {
    function go() {
      audio.currentTime = Math.max(0, Math.min(at, audio.duration || at));
      if (play) quietly(audio.play());
    }
    if (audio.readyState >= 1) {
      go();
    } else {
      audio.addEventListener("loadedmetadata", go, { once: true });
      if (audio.preload === "none") audio.load();
    }
  }

  function store() {
    try { return window.localStorage; } catch (error) { return null; }
  }

  if (audio && box) {
    var key = "entretiens:position:" + (box.getAttribute("data-slug") || location.pathname);
    var controls = box.querySelector(".controls");
    var toggle = box.querySelector("[data-action=toggle]");
    var bar = box.querySelector(".seek");
    var speed = box.querySelector(".speed");
    var elapsed = box.querySelector(".elapsed");
    var remaining = box.querySelector(".remaining");
    var now = box.querySelector(".now");
    var known = parseFloat(box.getAttribute("data-duration")) || 0;
    var chapters = Array.prototype.slice.call(document.querySelectorAll(".chapters a[data-start]"));
    var current = null;
    var saved = null;
    var started = false;
    var lastSave = 0;

    Array.prototype.forEach.call(box.querySelectorAll(".markers li[data-at]"), function (marker) {
      marker.style.left = marker.getAttribute("data-at") + "%";
    });

    var storage = store();
    if (storage) {
      saved = parseFloat(storage.getItem(key)) || null;
    }

    function length() {
      return isFinite(audio.duration) && audio.duration > 0 ? audio.duration : known;
    }

    function show(at) {
      var total = length();
      if (elapsed) elapsed.textContent = clock(at);
      if (remaining) remaining.textContent = "\u2212" + clock(total - at);
      if (bar) {
        if (total && +bar.max !== Math.floor(total)) bar.max = Math.floor(total);
        bar.value = Math.floor(at);
        bar.setAttribute("aria-valuetext", clock(at) + " / " + clock(total));
      }
    }

    function play() {
      if (!started && saved && fromHash() === null && saved < length() - 5) {
        started = true;
        seek(saved, true);
      } else {
        started = true;
        quietly(audio.play());
      }
    }

    function skip(by) {
      seek(Math.max(0, (audio.readyState >= 1 ? audio.currentTime : 0) + by), !audio.paused);
    }

    function chapterAt(at) {
      var found = null;
      chapters.forEach(function (link) {
        if (parseFloat(link.getAttribute("data-start")) <= at + 0.25) found = link;
      });
      return found;
    }

    function metadata() {
      if (!("mediaSession" in navigator) || typeof MediaMetadata === "undefined") return;
      var artwork = box.getAttribute("data-artwork");
      var title = box.getAttribute("data-title");
      try {
        navigator.mediaSession.metadata = new MediaMetadata({
          title: title,
          artist: box.getAttribute("data-show") || "",
          album: current ? current.querySelector(".chapter-title").textContent : "",
          artwork: artwork ? [{ src: new URL(artwork, location.href).href }] : []
        });
      } catch (error) { /* an older browser without artwork support */ }
    }

    function follow() {
      var at = audio.currentTime;
      show(at);
      var found = chapterAt(at);
      if (found !== current) {
        current = found;
        chapters.forEach(function (link) {
          link.parentNode.classList.toggle("current", link === current);
        });
        if (now && current) {
          var template = box.getAttribute("data-chapter") || "{title}";
          now.textContent = template.replace("{title}", current.querySelector(".chapter-title").textContent);
        }
        metadata();
      }
      if (storage && Math.abs(at - lastSave) >= 5) {
        lastSave = at;
        try { storage.setItem(key, String(Math.floor(at))); } catch (error) { /* full or refused */ }
      }
    }

    function state() {
      var playing = !audio.paused;
      box.classList.toggle("playing", playing);
      if (toggle) {
        toggle.setAttribute("aria-label", box.getAttribute(playing ? "data-pause" : "data-play"));
      }
      if ("mediaSession" in navigator) navigator.mediaSession.playbackState = playing ? "playing" : "paused";
    }

    // Enhance: our controls replace the browser's own, and the player stays in view.
    if (controls) {
      controls.hidden = false;
      audio.removeAttribute("controls");
      box.classList.add("enhanced");
      var keys = document.querySelector(".keys");
      if (keys) keys.hidden = false;
      show(saved && fromHash() === null ? saved : 0);
    }

    box.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("[data-action]");
      if (!button) return;
      var action = button.getAttribute("data-action");
      if (action === "toggle") {
        if (audio.paused) play(); else audio.pause();
      } else if (action === "back") {
        skip(-15);
      } else if (action === "forward") {
        skip(30);
      }
    });

    if (bar) {
      bar.addEventListener("input", function () {
        started = true;
        seek(parseFloat(bar.value), !audio.paused);
      });
    }
    if (speed) {
      speed.addEventListener("change", function () {
        audio.playbackRate = audio.defaultPlaybackRate = parseFloat(speed.value);
      });
      audio.addEventListener("loadedmetadata", function () {
        audio.playbackRate = parseFloat(speed.value);
      });
    }

    audio.addEventListener("timeupdate", follow);
    audio.addEventListener("seeked", follow);
    audio.addEventListener("play", function () { started = true; metadata(); state(); });
    audio.addEventListener("pause", function () { state(); follow(); });
    audio.addEventListener("ended", function () {
      if (storage) try { storage.removeItem(key); } catch (error) { /* refused */ }
    });
    audio.addEventListener("durationchange", function () { show(audio.currentTime); });

    if ("mediaSession" in navigator) {
      var handlers = {
        play: play,
        pause: function () { audio.pause(); },
        seekbackward: function (details) { skip(-(details.seekOffset || 15)); },
        seekforward: function (details) { skip(details.seekOffset || 30); },
        seekto: function (details) { seek(details.seekTime, !audio.paused); },
        previoustrack: function () {
          var at = audio.currentTime, target = 0;
          chapters.forEach(function (link) {
            var start = parseFloat(link.getAttribute("data-start"));
            if (start < at - 3) target = start;
          });
          seek(target, !audio.paused);
        },
        nexttrack: function () {
          var at = audio.currentTime;
          for (var i = 0; i < chapters.length; i++) {
            var start = parseFloat(chapters[i].getAttribute("data-start"));
            if (start > at + 0.5) { seek(start, !audio.paused); return; }
          }
        }
      };
      Object.keys(handlers).forEach(function (action) {
        try { navigator.mediaSession.setActionHandler(action, handlers[action]); } catch (error) { /* unsupported */ }
      });
    }

    // Keyboard: space/k play and pause, j/ArrowLeft back 15 s, l/ArrowRight forward 30 s,
    // unless the listener is typing or working another control.
    document.addEventListener("keydown", function (event) {
      if (!controls || event.altKey || event.ctrlKey || event.metaKey) return;
      var target = event.target;
      var tag = target && target.tagName;
      if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || (target && target.isContentEditable)) return;
      var key = event.key;
      if ((key === " " || key === "Spacebar") && (tag === "BUTTON" || tag === "A" || tag === "SUMMARY")) return;
      if (key === " " || key === "Spacebar" || key === "k" || key === "K") {
        if (audio.paused) play(); else audio.pause();
      } else if (key === "j" || key === "J" || key === "ArrowLeft") {
        skip(-15);
      } else if (key === "l" || key === "L" || key === "ArrowRight") {
        skip(30);
      } else {
        return;
      }
      event.preventDefault();
    });

    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("a[data-start]");
      if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
      event.preventDefault();
      started = true;
      seek(parseFloat(link.getAttribute("data-start")), true);
      history.replaceState(null, "", link.getAttribute("href"));
    });

    window.addEventListener("hashchange", function () {
      var at = fromHash();
      if (at !== null) {
        started = true;
        seek(at, !audio.paused);
      }
    });

    var start = fromHash();
    if (start !== null) {
      started = true;
      seek(start, false);
    }
  }

  // Home page: one episode at a time.
  document.addEventListener("play", function (event) {
    Array.prototype.forEach.call(document.querySelectorAll("audio"), function (other) {
      if (other !== event.target && !other.paused) other.pause();
    });
  }, true);

  // Copy buttons beside read-only fields (the feed's address, the embed code).
  Array.prototype.forEach.call(document.querySelectorAll("input[data-copy]"), function (field) {
    if (!navigator.clipboard) return;
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
  });
})();
