// Captures what the README examples print with console.log, so the tests can assert on it.

/** Runs `body` with console.log recorded; returns a Map from each printed label to its value. */
export async function printed(body) {
  const log = console.log;
  const lines = [];
  console.log = (...args) => lines.push(args);
  try {
    await body();
  } finally {
    console.log = log;
  }
  return new Map(lines.map((args) => [args.length > 1 ? args[0] : `#${lines.indexOf(args)}`, args.at(-1)]));
}
