/**
 * What a command needs from the outside world, passed in so commands can be run in-process by
 * tests: where to print, whether stderr is a terminal (for progress bars).
 */
export interface ConsoleIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** True when progress may be drawn as a bar (stderr is a TTY). */
  isTTY: boolean;
}

export const processIO: ConsoleIO = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  isTTY: Boolean(process.stderr.isTTY),
};

/** Collects output in memory (tests). */
export function memoryIO(): ConsoleIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, isTTY: false, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) };
}
