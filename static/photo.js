// The drawing page's photos: a photo (or scan) shown in place of the pad, upright as the browser
// shows it (its EXIF orientation applied) and scaled to fit, with the boxes of what was read drawn
// over it; and a drop target, so that an image file dragged onto the pad from a laptop is read too.
// The picture is painted on a canvas (the page's CSP allows no blob: images), at most MAX_SIDE px.
//   photoView(view, canvas, boxes) → { open(file) → bitmap | null, show(bitmap) → [width, height] | null, hide() }
//   dropTarget(el, hint, dropped)   calls dropped(file) for an image file dropped on `el`
//   drawBoxes(layer, boxes, size)   boxes [{box: [x, y, w, h], label}] over a picture of size [w, h]
"use strict";

(() => {
  const MAX_SIDE = 1600;        // px: the photo is painted at most this long a side (CSS scales it)

  window.photoView = (view, canvas, boxes) => {
    const g = canvas.getContext("2d");

    /** A promise of `file` decoded upright (an ImageBitmap), or of null if the browser cannot decode it. */
    async function open(file) {
      try {
        return await createImageBitmap(file, { imageOrientation: "from-image" });
      } catch {
        return null;
      }
    }

    /**
     * Paint an opened picture and show it: its upright size [width, height] in pixels (the boxes'
     * units), or null for a file the browser could not decode (the server is asked anyway, and
     * says what is wrong with it).
     */
    function show(bitmap) {
      boxes.replaceChildren();
      view.hidden = false;
      view.classList.toggle("broken", bitmap === null);
      if (bitmap === null) {
        canvas.width = canvas.height = 0;
        return null;
      }
      const { width, height } = bitmap;
      const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
      canvas.width = Math.max(1, Math.round(width * scale));
      canvas.height = Math.max(1, Math.round(height * scale));
      g.imageSmoothingQuality = "high";
      g.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      bitmap.close();
      view.style.setProperty("--ratio", `${width} / ${height}`);     // the frame's shape (style.css)
      view.style.setProperty("--aspect", String(width / height));
      return [width, height];
    }

    function hide() {
      view.hidden = true;
      boxes.replaceChildren();
      canvas.width = canvas.height = 0;        // let go of the picture's memory
    }

    return { open, show, hide };
  };

  /** Boxes over a picture of `size` [w, h] px, in percentages of it, each with its label (if any). */
  window.drawBoxes = (layer, boxes, size) => {
    const [w, h] = size;
    layer.replaceChildren(...boxes.map(({ box: [x, y, bw, bh], label }) => {
      const el = document.createElement("div");
      el.className = "box";
      Object.assign(el.style, { left: `${(100 * x) / w}%`, top: `${(100 * y) / h}%`,
                                width: `${(100 * bw) / w}%`, height: `${(100 * bh) / h}%` });
      if (label !== undefined) {
        const tag = document.createElement("span");
        tag.className = "box-label";
        tag.textContent = label;
        el.appendChild(tag);
      }
      return el;
    }));
  };

  /** Whether a drag carries files (its items' kinds are all a drag event may read). */
  const carriesFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");

  window.dropTarget = (el, hint, dropped) => {
    let depth = 0;                // dragenter/dragleave pairs: children fire their own

    function showHint(on) {
      hint.hidden = !on;
      el.classList.toggle("dropping", on);
    }

    el.addEventListener("dragenter", (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth += 1;
      showHint(true);
    });
    el.addEventListener("dragover", (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();                 // allows the drop
      event.dataTransfer.dropEffect = "copy";
    });
    el.addEventListener("dragleave", () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) showHint(false);
    });
    el.addEventListener("drop", (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth = 0;
      showHint(false);
      const file = event.dataTransfer.files[0];
      if (file) dropped(file);
    });
    // A file dropped just beside the pad must not replace the page with the picture.
    for (const type of ["dragover", "drop"]) {
      window.addEventListener(type, (event) => { if (carriesFiles(event)) event.preventDefault(); });
    }
  };
})();
