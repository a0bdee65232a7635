// class-transformer 0.5 ships its metadata store's types under `types/` and its code under `cjs/`.
declare module 'class-transformer/cjs/storage' {
  export { defaultMetadataStorage } from 'class-transformer/types/storage';
}
