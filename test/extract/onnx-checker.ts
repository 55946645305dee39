/** Test helper: runs the ONNX checker (full_check, Debian's python3-onnx) on files; returns problems. */
import { spawnSync } from "node:child_process";

const SCRIPT = `
import sys, onnx
bad = []
for f in sys.argv[1:]:
    try:
        onnx.checker.check_model(onnx.load(f), full_check=True)
    except Exception as e:
        bad.append(f + ": " + str(e).splitlines()[0])
print("\\n".join(bad))
`;

/** Returns "" when every file passes, else one line per failing file. */
export function onnxCheckerProblems(files: readonly string[]): string {
  const r = spawnSync("/usr/bin/python3", ["-c", SCRIPT, ...files], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`python3 onnx checker failed to run: ${r.stderr}`);
  return r.stdout.trim();
}
