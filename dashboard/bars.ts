import { el } from './dom.ts'

/** One resource as a bar: how much of what the node offers its tasks hold. */
export function resourceBar (label: string, allocated: number, capacity: number, show: (n: number) => string): HTMLElement {
  const share = capacity > 0 ? Math.min(1, allocated / capacity) : 0
  const percent = Math.round(share * 100)
  const fill = el('div', { class: `fill${share > 0.85 ? ' high' : ''}` })
  // Through the CSSOM: the page's policy forbids style attributes.
  fill.style.width = `${percent}%`
  return el('div', { class: 'bar' },
    el('div', { class: 'label' }, el('span', {}, label), el('span', {}, `${show(allocated)} / ${show(capacity)}`)),
    el('div', { class: 'track', role: 'meter', 'aria-label': `${label} allocated`, 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': percent, 'data-resource': label.toLowerCase() },
      fill))
}
