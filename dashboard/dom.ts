/**
 * Building the page: elements are made with `el`, and text always goes in as text (never as
 * markup), since names, labels, commands and output come from peers and containers.
 */
export type Child = Node | string | number | null | undefined | false
type Attributes = Record<string, string | number | boolean | undefined | ((event: Event) => void)>

export function el<K extends keyof HTMLElementTagNameMap> (tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value)
    else element.setAttribute(name, value === true ? '' : String(value))
  }
  append(element, ...children)
  return element
}

export function append (parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child == null || child === false) continue
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)))
  }
}

const SVG_NS = 'http://www.w3.org/2000/svg'

export function svg (tag: string, attributes: Record<string, string | number> = {}, ...children: Child[]): SVGElement {
  const element = document.createElementNS(SVG_NS, tag)
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value))
  append(element, ...children)
  return element
}

/** Replace everything inside `parent`. */
export function replace (parent: Node, ...children: Child[]): void {
  while (parent.firstChild != null) parent.removeChild(parent.firstChild)
  append(parent, ...children)
}
