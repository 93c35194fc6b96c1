/** Escapes LIKE wildcards in user input; pair with `escape '\'` in the query. */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
