import type { Compilable, CompiledQuery } from "kysely";
import type { Db, Executor } from "./database.js";

/** Stand-ins for the arguments while the query is compiled; each is replaced by its argument per call. */
const slot = (index: number) => `\u0000prepared-arg-${index}\u0000`;

/**
 * A hot query built with Kysely once and run many times: `build` gets stand-in arguments, the query is
 * compiled once per dialect (the executor's adapter decides the SQL text: `?` on SQLite, `$1` on
 * PostgreSQL) and each call only swaps in its arguments. No query tree is built per call, and SQLite's
 * statement cache (database.ts) is looked up with the same SQL string every time. Arguments may sit
 * anywhere among constant parameters; a stand-in that does not appear in the compiled query is an error.
 */
export function prepared<Args extends unknown[], Row>(
  arity: Args["length"],
  build: (db: Db, ...args: Args) => Compilable<Row>,
) {
  const compiledFor = new WeakMap<object, { query: CompiledQuery<Row>; slots: Array<number | undefined> }>();

  function compile(executor: Executor) {
    const adapter = executor.getExecutor().adapter;
    let entry = compiledFor.get(adapter);
    if (!entry) {
      const stand = Array.from({ length: arity }, (_, i) => slot(i)) as Args;
      const query = build(executor as Db, ...stand).compile();
      const slots = query.parameters.map((p) => {
        const index = stand.indexOf(p);
        return index === -1 ? undefined : index;
      });
      for (let i = 0; i < arity; i++) {
        if (!slots.includes(i))
          throw new Error(`prepared query: argument ${i} is not a parameter of ${query.sql}`);
      }
      entry = { query, slots };
      compiledFor.set(adapter, entry);
    }
    return entry;
  }

  async function all(executor: Executor, ...args: Args): Promise<Row[]> {
    const { query, slots } = compile(executor);
    const parameters = slots.map((index, i) => (index === undefined ? query.parameters[i] : args[index]));
    const result = await executor.executeQuery<Row>({ ...query, parameters });
    return result.rows;
  }

  return {
    /** All rows. */
    all,
    /** The first row, or undefined. */
    first: async (executor: Executor, ...args: Args): Promise<Row | undefined> =>
      (await all(executor, ...args))[0],
    /** The compiled query this executor's dialect runs (tests). */
    compiled: (executor: Executor) => compile(executor).query,
  };
}
