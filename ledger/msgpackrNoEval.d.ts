// msgpackr ships this entry point (dist/unpack-no-eval.cjs) without type declarations.
declare module 'msgpackr/unpack-no-eval' {
  export { Unpackr } from 'msgpackr';
}
