import { MAX_ADVERTISED_IMAGES } from '../protocol/node-messages.ts'

/** The engine's image list is read again this often: images built or removed by hand show up within it. */
export const HELD_IMAGES_REFRESH_MS = 30_000

/**
 * The image IDs this node advertises in its Status: the ones its tasks used most recently
 * (run, fetched, served), then the engine's newest, at most MAX_ADVERTISED_IMAGES. Kept in
 * memory and refreshed from the engine now and then, because a Status is built
 * synchronously, often, and must not wait on the engine.
 */
export class HeldImages {
  private readonly listIds: () => Promise<string[]>
  /** Used by this node's tasks, most recent last (bounded like the list). */
  private readonly used: string[] = []
  private ids: string[] = []
  private timer: NodeJS.Timeout | undefined

  constructor (listIds: () => Promise<string[]>) {
    this.listIds = listIds
  }

  list (): string[] {
    return this.ids
  }

  /** A task ran, fetched or served this image: it goes to the front of what is advertised. */
  touch (imageId: string): void {
    const at = this.used.indexOf(imageId)
    if (at >= 0) this.used.splice(at, 1)
    this.used.push(imageId)
    if (this.used.length > MAX_ADVERTISED_IMAGES) this.used.shift()
    this.ids = merged(this.used, this.ids.filter(id => id !== imageId), imageId)
  }

  /** Read the engine's list again; an engine that does not answer leaves the last list as it was. */
  async refresh (): Promise<void> {
    let present: string[]
    try {
      present = await this.listIds()
    } catch {
      return
    }
    const held = new Set(present)
    // An image removed from the engine is no longer advertised, however recently it was used.
    for (let i = this.used.length - 1; i >= 0; i--) if (!held.has(this.used[i])) this.used.splice(i, 1)
    this.ids = merged(this.used, present)
  }

  start (intervalMs = HELD_IMAGES_REFRESH_MS): void {
    void this.refresh()
    this.timer = setInterval(() => { void this.refresh() }, intervalMs)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
  }
}

/** The used images (most recent first; `newest` ahead of all), then the engine's newest, without repeats, bounded. */
function merged (used: readonly string[], newestFirst: readonly string[], newest?: string): string[] {
  const out = new Set<string>()
  if (newest !== undefined) out.add(newest)
  for (let i = used.length - 1; i >= 0 && out.size < MAX_ADVERTISED_IMAGES; i--) out.add(used[i])
  for (const id of newestFirst) {
    if (out.size >= MAX_ADVERTISED_IMAGES) break
    out.add(id)
  }
  return [...out]
}
