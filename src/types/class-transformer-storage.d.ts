// class-transformer keeps its decorators' rules in this module, which its package does not declare under this path.
declare module 'class-transformer/cjs/storage.js' {
  export { defaultMetadataStorage } from 'class-transformer/types/storage.js';
}
