import type { STORE_ERROR_TYPES, STORE_OPERATIONS } from '../telemetry/names.js';

/** `error.type` of `bulwark.store.errors` (low cardinality; the values live in telemetry/names.ts). */
export type StoreErrorType = (typeof STORE_ERROR_TYPES)[number];

/** `bulwark.store.operation`: which part of Bulwark was talking to the store. */
export type StoreOperation = (typeof STORE_OPERATIONS)[number];

/** What the engine reports for every failed store call (`bulwark.store.errors` + a span event). */
export interface StoreErrorEvent {
  operation: StoreOperation;
  errorType: StoreErrorType;
  storeKind: string;
  message: string;
}
