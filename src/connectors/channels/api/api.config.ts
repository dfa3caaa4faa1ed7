/** A channel that only calls Crossdock's API (a B2B portal polling availability, say): it has no settings. */
export class ApiChannelConfig {}
