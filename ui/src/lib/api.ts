// The one place the UI talks to the Tauri shell. Every type crossing the bridge comes from ./bindings/,
// generated from the Rust definitions by ts-rs (`cargo test`); none is re-declared here.
import { invoke } from '@tauri-apps/api/core';

import type { AppOverview } from './bindings/AppOverview';
import type { CoreError } from './bindings/CoreError';

/** Command names, as registered in src-tauri/src/lib.rs and declared in src-tauri/build.rs. */
export const COMMANDS = {
  appOverview: 'app_overview',
} as const;

/** The acting user and the sources they may search. Rejects with a {@link CoreError}. */
export function loadOverview(): Promise<AppOverview> {
  return invoke<AppOverview>(COMMANDS.appOverview);
}

/** Whether a rejected command's value is the core's typed error. */
export function isCoreError(value: unknown): value is CoreError {
  return (
    typeof value === 'object' &&
    value !== null &&
    'kind' in value &&
    typeof value.kind === 'string' &&
    'message' in value &&
    typeof value.message === 'string'
  );
}

/** A sentence for the user, whatever a command rejected with. */
export function describeError(error: unknown): string {
  if (isCoreError(error)) {
    return error.message;
  }
  if (error instanceof Error) {
    return error.message;
  }
  if (typeof error === 'string' && error.length > 0) {
    return error;
  }
  return 'Something went wrong and Lexica could not say what.';
}
