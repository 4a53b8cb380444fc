/**
 * One output stream of a task (stdout or stderr), byte for byte: chunks are decoded as UTF-8
 * in order (a character split across chunks is joined), kept whole, and shown a page at a
 * time, the last page while the task runs (large output stays responsive).
 */
import { el, replace } from './dom.ts'
import { formatBytes } from './format.ts'

/** Characters per page: a long log stays quick to draw. */
export const PAGE_CHARS = 256 * 1024

export class OutputView {
  readonly element: HTMLElement
  private readonly pre: HTMLPreElement
  private readonly pager: HTMLElement
  private readonly decoder = new TextDecoder('utf-8')
  private text = ''
  private bytes = 0
  /** undefined: follow the last page. */
  private page?: number
  private scheduled = false

  constructor (readonly name: 'stdout' | 'stderr') {
    this.pre = el('pre', { class: 'log', id: `${name}`, tabindex: 0, 'aria-label': name })
    this.pager = el('div', { class: 'pager' })
    this.element = el('section', { 'aria-label': name }, el('h2', {}, name), this.pager, this.pre)
    this.draw()
  }

  append (bytes: Uint8Array): void {
    this.bytes += bytes.length
    this.text += this.decoder.decode(bytes, { stream: true })
    this.schedule()
  }

  /** The stream has ended: a last incomplete character is shown as U+FFFD, as a terminal would. */
  end (): void {
    this.text += this.decoder.decode()
    this.schedule()
  }

  private pages (): number {
    return Math.max(1, Math.ceil(this.text.length / PAGE_CHARS))
  }

  private schedule (): void {
    if (this.scheduled) return
    this.scheduled = true
    requestAnimationFrame(() => { this.scheduled = false; this.draw() })
  }

  private draw (): void {
    const pages = this.pages()
    const page = this.page ?? pages - 1
    const atBottom = this.pre.scrollTop + this.pre.clientHeight >= this.pre.scrollHeight - 4
    this.pre.textContent = this.text.slice(page * PAGE_CHARS, (page + 1) * PAGE_CHARS)
    if (this.page == null && atBottom) this.pre.scrollTop = this.pre.scrollHeight
    const go = (to: number | undefined): void => { this.page = to; this.draw() }
    replace(this.pager,
      el('span', { class: 'muted' }, `${formatBytes(this.bytes)}`),
      pages > 1 ? el('button', { type: 'button', disabled: page === 0, onclick: () => { go(page - 1) } }, '← Earlier') : null,
      pages > 1 ? el('span', {}, `page ${page + 1} of ${pages}`) : null,
      pages > 1 ? el('button', { type: 'button', disabled: page >= pages - 1, onclick: () => { go(page + 1 >= pages - 1 ? undefined : page + 1) } }, 'Later →') : null,
      pages > 1 && this.page != null ? el('button', { type: 'button', onclick: () => { go(undefined) } }, 'Follow the end') : null)
  }
}

/** Base64 (as the API sends output) to bytes. */
export function fromBase64 (text: string): Uint8Array {
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}
