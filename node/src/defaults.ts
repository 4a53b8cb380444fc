/**
 * Defaults the CLI shows in its help. Kept apart from the modules that use them so that
 * loading the command line does not load libp2p (start-up time of every `cloudai` command).
 */

/** The default libp2p listen address (docs/architecture.md, "Mesh"). */
export const DEFAULT_LISTEN = '/ip4/0.0.0.0/tcp/7421'
/** The default mDNS service tag: nodes with the same tag find each other. */
export const DEFAULT_MDNS_TAG = 'cloudai'
/** Default API address (docs/architecture.md, "API and command line"): loopback only. */
export const DEFAULT_API_ADDRESS = '127.0.0.1:7420'
/** Finished tasks are kept this long after they ended (`start --keep-for`): a month of history to look back on. */
export const DEFAULT_KEEP_FOR_MS = 30 * 86_400_000
/** The history is kept within this size (`start --keep-size`): the oldest finished tasks go first; 1 GiB is 64 tasks at the full 16 MiB of output, thousands of ordinary ones. */
export const DEFAULT_KEEP_BYTES = 1024 ** 3
/** Tasks `tasks` (and the API) lists at once unless asked for more: a screenful, and a few milliseconds to read. */
export const DEFAULT_PAGE_TASKS = 100
/** The most tasks one page holds, however many are asked for: `--before` goes on from there, so no listing reads the whole history. */
export const MAX_PAGE_TASKS = 1000
