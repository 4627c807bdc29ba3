import { safeHttpUrl } from "./safe-url";

/**
 * The dashboard's only way to build DOM. Text always goes in as text nodes (never HTML), event
 * handlers are functions (never `on*` attributes) and link targets must be http(s) or in-app.
 */

export type Child = Node | string | number | null | undefined | false;
type Handlers = { [E in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[E]) => void };
type AttrValue = string | number | boolean | null | undefined;

export interface Props {
  class?: string;
  attrs?: Record<string, AttrValue>;
  on?: Handlers;
}

const URL_ATTRS = new Set(["href", "src", "action", "formaction", "xlink:href"]);

export function setAttr(el: Element, name: string, value: AttrValue): void {
  if (/^on/i.test(name) || name.toLowerCase() === "srcdoc") throw new Error(`refusing to set attribute '${name}'`);
  if (value === null || value === undefined || value === false) {
    el.removeAttribute(name);
    return;
  }
  let text = value === true ? "" : String(value);
  if (URL_ATTRS.has(name.toLowerCase()) && !text.startsWith("#")) {
    const safe = safeHttpUrl(text);
    if (safe === null) throw new Error(`refusing unsafe URL in '${name}'`);
    text = safe;
  }
  el.setAttribute(name, text);
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
  }
}

function applyProps(el: Element, props: Props | undefined): void {
  if (!props) return;
  if (props.class) el.setAttribute("class", props.class);
  for (const [name, value] of Object.entries(props.attrs ?? {})) setAttr(el, name, value);
  for (const [type, handler] of Object.entries(props.on ?? {})) {
    if (handler) el.addEventListener(type, handler as EventListener);
  }
}

/** `h("button", { attrs: { type: "button" }, on: { click } }, "Save")`. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  applyProps(el, props);
  append(el, ...children);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, AttrValue> = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  applyProps(el, { attrs });
  append(el, ...children);
  return el;
}

export function clear(el: Element): void {
  el.replaceChildren();
}

/** Replaces an element's content. */
export function render(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, ...children);
}

let counter = 0;
/** A unique id for label/aria wiring. */
export function uid(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** A button that is a real `<button type="button">`. */
export function button(label: Child, onClick: (event: MouseEvent) => void, props: Props = {}): HTMLButtonElement {
  return h("button", { ...props, attrs: { type: "button", ...props.attrs }, on: { ...props.on, click: onClick } }, label);
}
