// The operations module answers operators over HTTP; it offers nothing to other modules.
export {};
