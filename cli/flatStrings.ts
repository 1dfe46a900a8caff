/*
 * Imported first by each entry point, before anything loads msgpackr (lmdb does), which
 * reads this switch once. msgpackr's native string extraction hands out slices of one
 * string per decoded ledger block; a fold keeps some in entity states (a stamp's source, a
 * product's name) and each kept slice keeps its block's whole text alive. Decoded in
 * JavaScript the strings are flat: 200,000 events folded held 31 MB of heap instead of
 * 54 MB, for about 1 µs more per event to decode. The fold worker thread inherits it with
 * the environment. An explicit setting is left as it is.
 */
process.env['MSGPACKR_NATIVE_ACCELERATION_DISABLED'] ??= 'true';
