import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { FoldlineError } from '../base/errors.js';
import { parseTime } from '../crdt/stamp.js';
import type { CloudEvent } from '../ledger/types.js';
import { limits, retailEventTypes, shortText, type RetailEventType, type Schema } from './catalogue.js';
import { withUnitLengths } from './unitLengths.js';

// No `ownProperties` (it slows validation down; docs/benchmarks.md): no property name of the
// schemas exists on Object.prototype, and JSON.parse makes every key, `__proto__` included,
// an own one.
const exactAjv = new Ajv({ allErrors: false, allowUnionTypes: true });
// The same schemas with string lengths read off `length`, where the exact one counts the
// code points of every string (a large part of the validation time). It admits nothing the
// exact one refuses, so it answers first, and the exact one only where it refuses.
const unitsAjv = withUnitLengths(new Ajv({ allErrors: false, allowUnionTypes: true }));

const attributeText: Schema = { type: 'string', minLength: 1, maxLength: limits.attribute };

/** The whole event of one type: the CloudEvents 1.0 structured-mode envelope around the catalogue's data schema. */
function eventSchema(type: RetailEventType): Schema {
  const attributes: Record<string, Schema> = {
    specversion: { const: '1.0' },
    id: shortText,
    source: attributeText,
    type: { const: type },
    // Only shape here: parseTime decides whether it is a real RFC 3339 instant.
    time: { type: 'string', maxLength: 64 },
    subject: shortText,
    datacontenttype: attributeText,
    dataschema: attributeText,
    data: retailEventTypes[type].data,
  };
  // CloudEvents extensions: any other name of lower-case letters and digits, at most 20.
  const extension = `^(?!(?:${Object.keys(attributes).join('|')})$)[a-z0-9]{1,20}$`;
  return {
    type: 'object',
    required: ['specversion', 'id', 'source', 'type', 'time', 'subject', 'data'],
    properties: attributes,
    patternProperties: { [extension]: { type: ['string', 'number', 'boolean'], maxLength: limits.attribute } },
    additionalProperties: false,
  };
}

/** Both compiled validators per event type, built once at load. */
const validatorsByType = new Map<string, { units: ValidateFunction; exact: ValidateFunction }>(
  (Object.keys(retailEventTypes) as RetailEventType[]).map((type) => {
    const schema = eventSchema(type);
    return [type, { units: unitsAjv.compile(schema), exact: exactAjv.compile(schema) }];
  }),
);

/**
 * Checks one retail CloudEvent against docs/retail.md "Events" (envelope, data schema of its type,
 * a real RFC 3339 time, subject = key field) and returns it as given, extensions kept.
 * Throws a 400 FoldlineError naming the JSON pointer of the first bad member and, when
 * given, the event's index in its batch.
 */
export function validateEvent(value: unknown, index?: number): CloudEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('invalid_event', '', 'an event must be a JSON object', index);
  }
  const event = value as Record<string, unknown>;
  const type = event.type;
  if (typeof type !== 'string') {
    throw invalid('invalid_event', '/type', type === undefined ? '/type is required' : '/type must be a string', index);
  }
  const validate = validatorsByType.get(type);
  if (!validate) throw invalid('unknown_type', '/type', `unknown event type ${quote(type)}`, index);
  if (!validate.units(event) && !validate.exact(event)) {
    const { path, message } = describe(validate.exact.errors![0]!);
    throw invalid('invalid_event', path, message, index);
  }
  if (Number.isNaN(parseTime(event.time as string))) {
    throw invalid('bad_time', '/time', `/time ${quote(event.time as string)} is not an RFC 3339 date-time`, index);
  }
  const keyField = retailEventTypes[type as RetailEventType].keyField;
  if (event.subject !== (event.data as Record<string, unknown>)[keyField]) {
    throw invalid('subject_mismatch', '/subject', `/subject must equal /data/${keyField} for ${type}`, index);
  }
  return event as CloudEvent;
}

/** Validates every event before returning any: the first bad one throws, with its index. */
export function validateBatch(values: readonly unknown[]): CloudEvent[] {
  return values.map((value, index) => validateEvent(value, index));
}

function invalid(code: string, path: string, message: string, index: number | undefined): FoldlineError {
  return new FoldlineError(code, message, { path, index });
}

/** The JSON pointer and a readable sentence for ajv's first error. */
function describe(error: ErrorObject): { path: string; message: string } {
  const at = error.instancePath;
  if (error.propertyName !== undefined) {
    // A bad key (of `attributes`): the error concerns the key, not the object.
    const path = `${at}/${pointerToken(error.propertyName)}`;
    return { path, message: `${at}: key ${quote(error.propertyName)} must have 1 to ${limits.text} characters` };
  }
  switch (error.keyword) {
    case 'required': {
      const path = `${at}/${pointerToken(error.params.missingProperty as string)}`;
      return { path, message: `${path} is required` };
    }
    case 'additionalProperties': {
      const path = `${at}/${pointerToken(error.params.additionalProperty as string)}`;
      const why = at === '' ? 'is not a CloudEvents attribute (extension names are lower-case letters and digits, at most 20)' : 'is not a known field';
      return { path, message: `${shorten(path)} ${why}` };
    }
    case 'const':
      return { path: at, message: `${at} must be ${JSON.stringify(error.params.allowedValue)}` };
    case 'type':
      return { path: at, message: `${at || 'the event'} must be ${[error.params.type].flat().join(' or ')}` };
    default:
      return { path: at, message: `${at || 'the event'} ${error.message ?? 'is invalid'}` };
  }
}

/** RFC 6901: `~` and `/` inside a member name. */
function pointerToken(name: string): string {
  return name.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Input text for a message, quoted and cut short when it is long. */
function quote(text: string): string {
  return JSON.stringify(shorten(text));
}

function shorten(text: string): string {
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}
