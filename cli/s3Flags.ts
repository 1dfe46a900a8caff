/** `--s3-endpoint` and `--region` as the archive storage takes them. */
export function s3Flags(options: { s3Endpoint?: string; region?: string }): { endpoint?: string; region?: string } {
  return { ...(options.s3Endpoint === undefined ? {} : { endpoint: options.s3Endpoint }), ...(options.region === undefined ? {} : { region: options.region }) };
}
