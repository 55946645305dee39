/** Command-line reading shared by the benchmark and data scripts (`--name value` and `--flag`). */

/** The value after `--name`, or `fallback` when the option is absent or last. */
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

export const flag = (name: string): boolean => process.argv.includes(`--${name}`);
