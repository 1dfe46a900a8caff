import { _, type Ajv } from 'ajv';

/**
 * Makes an Ajv instance read string lengths off `length` (UTF-16 code units) where ajv
 * counts the code points of every string. Meant for a fast first validator whose refusals an
 * exact one re-checks, so it must admit nothing the exact one refuses: a string has at least
 * as many units as code points and at most twice as many, so `maxLength` n holds of the code
 * points if it holds of the units, and `minLength` n if there are at least 2n units (n, for
 * n ≤ 1). ajv's own switch, `unicode: false`, is deprecated, and would take units for code
 * points in `minLength` too.
 */
export function withUnitLengths(ajv: Ajv): Ajv {
  for (const keyword of ['maxLength', 'minLength'] as const) ajv.removeKeyword(keyword);
  ajv.addKeyword({ keyword: 'maxLength', type: 'string', schemaType: 'number', code: (cxt) => cxt.fail(_`${cxt.data}.length > ${cxt.schema}`) });
  ajv.addKeyword({
    keyword: 'minLength',
    type: 'string',
    schemaType: 'number',
    code: (cxt) => {
      const n = cxt.schema as number;
      cxt.fail(_`${cxt.data}.length < ${n <= 1 ? n : 2 * n}`);
    },
  });
  return ajv;
}
