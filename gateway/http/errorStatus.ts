import type { FoldlineError } from '../../base/errors.js';

/**
 * The HTTP status of each error code, in one place: the layers below name what went wrong,
 * the gateway says what it means to a client. A code not listed here is a 400 when the
 * error names a part of the input at fault (a domain's validation refusing an event, say),
 * and a 500 otherwise.
 */
const statusByCode: Readonly<Record<string, number>> = {
  // The request itself.
  bad_await: 400,
  bad_frame: 400,
  bad_key: 400,
  bad_path: 400,
  bad_query: 400,
  bad_position: 400,
  bad_token: 400,
  bad_wait: 400,
  binary_frame: 400,
  invalid_batch: 400,
  invalid_event: 400,
  invalid_header: 400,
  invalid_subscription: 400,
  key_too_long: 400,
  not_streamed: 400,
  malformed_json: 400,
  unknown_op: 400,
  unknown_stream: 400,
  unknown_type: 400,
  // Who asks.
  invalid_token: 401,
  token_expired: 401,
  unauthorized: 401,
  forbidden: 403,
  forbidden_origin: 403,
  // What it names.
  not_found: 404,
  unknown_shard: 404,
  unknown_subscription: 404,
  unknown_view: 404,
  method_not_allowed: 405,
  conflict: 409,
  changes_expired: 410,
  subscription_exists: 409,
  body_too_large: 413,
  batch_too_large: 413,
  unsupported_media_type: 415,
  upgrade_required: 426,
  too_many_appends: 429,
  too_many_subscriptions: 429,
  aborted: 499,
  // The service, for now.
  closed: 503,
  corrupt: 503,
  fold_worker_exited: 503,
  fold_worker_read_failed: 503,
  not_caught_up: 503,
  read_only: 503,
  storage_failed: 503,
};

export function statusOf(error: FoldlineError): number {
  return statusByCode[error.code] ?? (error.concernsInput ? 400 : 500);
}
