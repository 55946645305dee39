/** Runs the bnnas CLI in-process and returns its exit code and what it printed. */
import { main } from "../../src/cli/index.js";
import { memoryIO } from "../../src/util/io.js";

export async function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO();
  const code = await main(args, io);
  return { code, out: io.out.join(""), err: io.err.join("") };
}
