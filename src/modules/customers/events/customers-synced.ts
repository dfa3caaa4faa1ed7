/** The read model of one ERP backend's customers was refreshed: holds may be lifted, new blocks apply. */
export class CustomersSynced {
  constructor(
    readonly backendId: string,
    readonly customerNumbers: readonly string[],
  ) {}
}
