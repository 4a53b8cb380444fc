/** Tasks per node over time, as an SVG picture: one lane per node, one bar per task from its start to its end (or now). */
import type { TaskView } from './api.ts'
import { svg } from './dom.ts'
import { clockTime, shortId } from './format.ts'

const WIDTH = 1000
const LANE = 22
const LEFT = 120
const TOP = 18

export function timeline (tasks: TaskView[], nodeOf: (task: TaskView) => string, now = Date.now()): SVGElement {
  const lanes = [...new Set(tasks.map(nodeOf))].sort()
  const starts = tasks.map(task => Date.parse(task.startedAt ?? task.createdAt))
  const from = starts.length > 0 ? Math.min(...starts) : now - 60_000
  const span = Math.max(1000, now - from)
  const x = (ms: number): number => LEFT + ((ms - from) / span) * (WIDTH - LEFT - 10)
  const height = TOP + lanes.length * LANE + 6
  const picture = svg('svg', { class: 'timeline', viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-label': `Timeline of ${tasks.length} tasks on ${lanes.length} nodes` },
    svg('text', { x: LEFT, y: 12 }, clockTime(new Date(from).toISOString())),
    svg('text', { x: WIDTH - 10, y: 12, 'text-anchor': 'end' }, 'now'))
  lanes.forEach((lane, i) => {
    const y = TOP + i * LANE
    picture.appendChild(svg('line', { class: 'lane', x1: LEFT, x2: WIDTH - 10, y1: y + LANE - 2, y2: y + LANE - 2 }))
    picture.appendChild(svg('text', { x: 4, y: y + 15 }, lane.length > 18 ? `${lane.slice(0, 17)}…` : lane))
  })
  for (const task of tasks) {
    const lane = lanes.indexOf(nodeOf(task))
    const start = x(Date.parse(task.startedAt ?? task.createdAt))
    const end = x(task.finishedAt != null ? Date.parse(task.finishedAt) : now)
    picture.appendChild(svg('rect', { class: `tl ${task.state}`, x: start, y: TOP + lane * LANE + 3, width: Math.max(2, end - start), height: LANE - 8, rx: 2, 'data-task': task.taskId },
      svg('title', {}, `${shortId(task.taskId)} ${task.state} ${task.image}`)))
  }
  return picture
}
