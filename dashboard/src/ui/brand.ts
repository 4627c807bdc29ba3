import { s } from "../lib/dom";

/** The KeyForge mark (a key), as inline SVG so it renders without an icon font. */
export function brandMark(): SVGSVGElement {
  return s(
    "svg",
    { class: "brand-mark", viewBox: "0 0 32 32", "aria-hidden": "true", focusable: "false" },
    s("rect", { width: 32, height: 32, rx: 7, fill: "#1d4ed8" }),
    s("path", { fill: "#fff", d: "M11 22a5 5 0 1 1 4.6-7H26v4h-2v3h-3v-3h-5.4A5 5 0 0 1 11 22zm0-3a2 2 0 1 0 0-4 2 2 0 0 0 0 4z" }),
  );
}
