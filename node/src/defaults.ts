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
