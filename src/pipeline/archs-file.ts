/** Files of architectures: one per line, comma-separated (`3,1,6,3,6,0`); blank lines and `#` comments skipped. */
import { readFileSync } from "node:fs";
import { ArchError, InputFileError } from "../errors.js";
import { parseArch } from "../structure/arch.js";
import type { SupernetStructure } from "../structure/structure.js";

export function readArchsFile(file: string, structure: SupernetStructure): number[][] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputFileError(file, code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory, not a file of architectures" : (e as Error).message);
  }
  const archs: number[][] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.replace(/#.*/, "").trim();
    if (!t) return;
    try {
      archs.push(parseArch(t, structure));
    } catch (e) {
      if (e instanceof ArchError) throw new ArchError(`${file}:${i + 1}: ${e.message}`);
      throw e;
    }
  });
  if (archs.length === 0) throw new InputFileError(file, "holds no architecture (one per line, comma-separated, e.g. 3,1,6,3,6,0)");
  return archs;
}
