/** A parsed Content-Type (RFC 9110 §8.3.1): the lower-cased `type/subtype` and its parameters. */
export interface MediaType {
  essence: string;
  /** Parameter names lower-cased; values unquoted, case kept. */
  params: Map<string, string>;
}

const token = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const essencePattern = new RegExp(`^${token}/${token}$`);
const paramPattern = new RegExp(`^\\s*(${token})\\s*=\\s*(${token}|"(?:[^"\\\\]|\\\\.)*")\\s*$`);

/** undefined when the header is not a media type. */
export function parseMediaType(header: string): MediaType | undefined {
  const [first, ...rest] = header.split(';');
  const essence = first!.trim().toLowerCase();
  if (!essencePattern.test(essence)) return undefined;
  const params = new Map<string, string>();
  for (const part of rest) {
    if (part.trim() === '') continue;
    const match = paramPattern.exec(part);
    if (!match) return undefined;
    const value = match[2]!;
    params.set(match[1]!.toLowerCase(), value.startsWith('"') ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value);
  }
  return { essence, params };
}
